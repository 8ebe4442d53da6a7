#!/usr/bin/python3
"""Load distribution through the real replay (azure-semantics 7.1, 11.19, 11.20):
- Default (5-tuple): 600 clients' connections spread over every healthy
  instance (each gets a fair share); the instance marked down gets none.
- Default: one client's connections from different source ports spread too.
- SourceIP: every connection of one client lands on one instance, whatever its
  source port; different clients still spread.
usage: test_lb.py ASENETCTL"""

import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "lib"))
from asenet_golden import FABRIC_MAC, write_pcap  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

asenetctl = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="asenet-lb-")
failures = []


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + detail))
    if not cond:
        failures.append(name)


def topology(mode):
    path = os.path.join(tmp, mode + ".toml")
    with open(path, "w") as f:
        f.write('[vnet]\nname = "vvnet"\naddress_space = "10.0.0.0/16"\n[[subnets]]\nname = "s"\nprefix = "10.0.1.0/26"\n'
                '[[ases]]\nname = "a"\nsubnet = "s"\npublic_vip = "192.23.1.2"\n'
                'instances = ["10.0.1.4", "10.0.1.5", "10.0.1.6", "10.0.1.7"]\ndown = ["10.0.1.7"]\n'
                'load_distribution = "%s"\n' % mode)
    return path


def backends(mode, flows):
    """Replays SYNs to VIP:443; returns the instance each (src, sport) reached."""
    pkts, t = [], 1700000000.0
    for src, sport in flows:
        t += 0.001
        p = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC) / IP(src=src, dst="192.23.1.2") / TCP(sport=sport, dport=443, flags="S")
        p.time = t
        pkts.append(p)
    inp = os.path.join(tmp, "in.pcap")
    write_pcap(inp, pkts)
    out = os.path.join(tmp, "out-" + mode)
    r = subprocess.run([asenetctl, "replay", "--topology", topology(mode), "--in", "internet=" + inp,
                        "--out-dir", out, "--trace", "--workers", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = {}
    for (src, sport), line in zip(flows, open(os.path.join(out, "trace.jsonl"))):
        tr = json.loads(line)
        got[(src, sport)] = tr["nat"]["dst"].split(":")[0] if tr.get("verdict") == "forward" else None
    return got


try:
    clients = [("203.0.%d.%d" % (i // 200, 1 + i % 200), 40000 + i) for i in range(600)]
    d = backends("Default", clients)
    share = collections.Counter(d.values())
    check("every connection reached a backend", None not in share, str(share))
    check("the down instance gets nothing", share.get("10.0.1.7", 0) == 0, str(share))
    check("each healthy instance gets a fair share (>= 25 %)",
          all(share.get(i, 0) >= 150 for i in ("10.0.1.4", "10.0.1.5", "10.0.1.6")), str(share))
    one = [("198.51.100.7", 50000 + i) for i in range(60)]
    d1 = backends("Default", one)
    check("Default: one client's source ports spread", len(set(d1.values())) == 3, str(collections.Counter(d1.values())))
    s = backends("SourceIP", one + clients[:90])
    check("SourceIP: one client sticks to one instance", len({s[k] for k in one}) == 1, str({s[k] for k in one}))
    check("SourceIP: different clients still spread", len({s[k] for k in clients[:90]}) == 3,
          str(collections.Counter(s[k] for k in clients[:90])))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print("%d failed" % len(failures))
sys.exit(1 if failures else 0)

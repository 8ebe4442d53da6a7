#!/usr/bin/python3
"""Smoke of `asenetctl bench --topology` (issue 17, section 2; suite perf):
on config/examples/nsg-review.toml, on the same topology imported from
config/examples/azure, and with --pcap. The generated traffic is what the
topology admits, so nothing may be dropped and every connection template's
rule must be among the rules the data plane counted; figures are printed,
never gated. Bad input exits 2.
usage: bench_topology.py ASENETCTL SOURCE_ROOT"""

import glob
import json
import os
import subprocess
import sys
import tempfile

asenetctl, root = sys.argv[1], sys.argv[2]
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from scapy.all import IP, TCP, Ether, wrpcap  # noqa: E402

review = os.path.join(root, "config", "examples", "nsg-review.toml")
failures, passes = [], []


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + str(detail)[:3000]))
    (passes if cond else failures).append(name)


def bench(*extra):
    args = [asenetctl, "bench", "--seconds", "0.3", "--rounds", "1", "--flows", "20000", "--json", *extra]
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    print(" ".join(args[1:]))
    print(r.stdout.strip()[:1500] or r.stderr.strip())
    try:
        return r.returncode, json.loads(r.stdout), r.stderr
    except ValueError:
        return r.returncode, None, r.stderr


tmp = tempfile.mkdtemp(prefix="asenet-tbench-")
imported = os.path.join(tmp, "imported.toml")
subprocess.run([asenetctl, "import", "--out", imported, *sorted(glob.glob(os.path.join(root, "config", "examples", "azure", "*.json")))],
               check=True, capture_output=True)
for name, topo in [("nsg-review", review), ("imported", imported)]:
    rc, d, err = bench("--topology", topo)
    ok = rc == 0 and d is not None
    check(name + ": runs", ok, err)
    if not ok:
        continue
    check(name + ": templates for the VIP's ports and the instances' calls out",
          d["templates"] >= 3 and any("Internet -> VIP" in p["path"] for p in d["paths"])
          and any("instance -> Internet" in p["path"] for p in d["paths"]), d["paths"])
    check(name + ": the generated traffic is admitted: nothing dropped", d["drops"] == {}, d["drops"])
    shares = d["rule_share"]
    check(name + ": every template's rule decided connections in the data plane",
          all(p["rule"] in shares for p in d["paths"]), (d["paths"], shares))
    check(name + ": only allowing rules admit them", all("Deny" not in r for r in shares), shares)
    check(name + ": figures", d["established"]["mpps"] > 0 and d["new_connections"]["per_s"] > 0
          and d["acl_rules"] > 0 and d["acl_build_seconds"] > 0 and d["memory"]["flow_and_snat_mib"] > 0
          and abs(sum(s["share"] for s in shares.values()) - 1) < 0.01, d)

cap = os.path.join(tmp, "vip.pcap")
pkts = []
for i in range(64):
    for flags in ("S", "A", "A"):
        pkts.append(Ether() / IP(src="8.8.8.%d" % (i + 1), dst="192.23.1.2") / TCP(sport=40000 + i, dport=443, flags=flags))
wrpcap(cap, pkts)
rc, d, err = bench("--topology", review, "--pcap", cap)
check("--pcap: the capture's 64 flows established, nothing dropped",
      rc == 0 and d is not None and d["established"]["flows"] == 64 and d["established"]["drops"] == 0
      and d["traffic"].startswith("pcap:"), err)

for args, what in [(["--topology", os.path.join(tmp, "absent.toml")], "a missing topology"),
                   (["--scenario", "established", "--pcap", cap], "--pcap without --topology"),
                   (["--scenario", "established", "--topology", review], "both --scenario and --topology"),
                   (["--topology", review, "--pcap", os.path.join(tmp, "absent.pcap")], "a missing capture")]:
    r = subprocess.run([asenetctl, "bench", *args], capture_output=True, text=True, timeout=60)
    check("exit 2 on " + what, r.returncode == 2, r.stderr)

print("%d passed, %d failed" % (len(passes), len(failures)))
sys.exit(1 if failures else 0)

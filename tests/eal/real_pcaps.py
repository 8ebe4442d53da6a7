#!/usr/bin/python3
"""Every capture in ../shared/testdata/pcaps (external, real traffic: Zeek's and
tcpreplay's test traces, dpkt's samples) replays through the example topology
on each side, with one and two workers (issue 9 point 4):
- exit 0 (truncated, fragmented, VXLAN, IPv6, IGMP, MPLS... are all handled;
  a file cut short mid-record replays its complete packets with a warning);
- every packet read is counted: packets_in = the capture's packet count, and
  forwarded + dropped = packets_in;
- every mbuf is back in the pool at the end (mbufs_in_use_at_end = 0);
- one and two workers agree on every count (flow steering loses nothing).
Skipped (exit 77) when the folder is absent: the product never needs it.
usage: real_pcaps.py ASENETCTL TESTDATA_PCAPS TOPOLOGY"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

from scapy.utils import RawPcapReader

asenetctl, root, topo = sys.argv[1], sys.argv[2], sys.argv[3]
if not os.path.isdir(root):
    print("SKIP: %s is absent" % root)
    sys.exit(77)
caps = []
for d, _, names in os.walk(root):
    for n in sorted(names):
        path = os.path.join(d, n)
        with open(path, "rb") as f:
            magic = f.read(4)
        if magic in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
            caps.append(path)
assert caps, "no captures under " + root
tmp = tempfile.mkdtemp(prefix="asenet-real-")
failures = []
total = 0
try:
    for cap in sorted(caps):
        n = 0
        try:
            for _ in RawPcapReader(cap):
                n += 1
        except Exception:  # cut short: the complete records are what counts
            pass
        for side in ("internet", "vnet"):
            counts = {}
            for workers in ((1, 2) if side == "vnet" else (1,)):
                out = os.path.join(tmp, "out")
                r = subprocess.run([asenetctl, "replay", "--topology", topo, "--in", "%s=%s" % (side, cap),
                                    "--out-dir", out, "--workers", str(workers), "--json"],
                                   capture_output=True, text=True, timeout=300)
                name = "%s on %s, %d worker(s)" % (os.path.relpath(cap, root), side, workers)
                if r.returncode != 0:
                    failures.append("%s: exit %d: %s" % (name, r.returncode, r.stderr.strip()))
                    continue
                s = json.loads(r.stdout)
                if s["packets_in"] != n:
                    failures.append("%s: packets_in %d, the capture has %d" % (name, s["packets_in"], n))
                if s["packets_forwarded"] + s["packets_dropped"] != s["packets_in"]:
                    failures.append("%s: forwarded + dropped != in: %s" % (name, json.dumps(s)))
                if sum(s["drops"].values()) != s["packets_dropped"]:
                    failures.append("%s: drops by reason do not add up: %s" % (name, json.dumps(s)))
                if s["mbufs_in_use_at_end"] != 0:
                    failures.append("%s: %d mbufs leaked" % (name, s["mbufs_in_use_at_end"]))
                counts[workers] = (s["packets_forwarded"], s["drops"], s["packets_out"])
                shutil.rmtree(out, ignore_errors=True)
            if len(counts) == 2 and counts[1] != counts[2]:
                failures.append("%s on %s: 1 and 2 workers differ: %s / %s" % (cap, side, counts[1], counts[2]))
        total += n
        print("%-55s %5d packets: ok" % (os.path.relpath(cap, root), n))
finally:
    shutil.rmtree(tmp, ignore_errors=True)
for f in failures:
    print("FAIL:", f)
print("%d captures, %d packets, replayed from the internet side (1 worker) and the vnet side (1 and 2 workers)"
      % (len(caps), total))
sys.exit(1 if failures else 0)

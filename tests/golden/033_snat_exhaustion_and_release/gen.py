#!/usr/bin/python3
"""033: SNAT port exhaustion and release (azure-semantics 7.6, 11.25-11.27).
The pool has 2 instances (1-50 -> 1,024 ports each):
- 1,024 connections from 10.0.1.4 to 13.107.4.50:443 take all of its ports;
  the 1,025th fails (snat_exhausted, counted for 10.0.1.4) while another
  destination still gets a port, and an existing flow keeps working.
- The first connection closes (FIN from both sides). 100 s later its port is
  still held, so a new connection to that destination still fails; 241 s after
  the close (Azure frees a port 240 s after both FINs) a new one gets it back.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case, nat, snat_ports  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
NET = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC)
VIP, A, D = "192.23.1.2", "10.0.1.4", "13.107.4.50"
P = snat_ports(0)
assert len(P) == 1024


def out(sport, port, dst=D, flags="S", dt=0.0001, flow="new"):
    p = c.send("vnet", VM / IP(src=A, dst=dst) / TCP(sport=sport, dport=443, flags=flags), dt=dt)
    c.expect_forward("vnet", nat(p, src=VIP, sport=port), "internet", flow=flow)
    return p


for i in range(1024):
    out(20000 + i, P[i])
p = c.send("vnet", VM / IP(src=A, dst=D) / TCP(sport=30000, dport=443, flags="S"), dt=0.0001)
c.expect_drop("vnet", p, "snat_exhausted")
out(30001, P[0], dst="13.107.4.51")                       # another destination still works
out(20000, P[0], flags="A", flow="established")          # an existing flow is untouched

# Close the first connection: FIN from the instance, FIN from the server.
out(20000, P[0], flags="FA", flow="established")
p = c.send("internet", NET / IP(src=D, dst=VIP) / TCP(sport=443, dport=P[0], flags="FA"), dt=0.001)
c.expect_forward("internet", nat(p, dst=A, dport=20000), "vnet", flow="reply")
p = c.send("vnet", VM / IP(src=A, dst=D) / TCP(sport=30002, dport=443, flags="S"), dt=100.0)
c.expect_drop("vnet", p, "snat_exhausted")
out(30003, P[0], dt=141.0)                               # 241 s after both FINs: free again
import json  # noqa: E402
c.write()
# The two failures were both 10.0.1.4's.
path = os.path.join(c.out_dir, "expect", "summary.json")
summary = json.load(open(path))
summary["snat_exhausted_by_instance"] = {A: 2}
with open(path, "w") as f:
    json.dump(summary, f, indent=1, sort_keys=True)
    f.write("\n")

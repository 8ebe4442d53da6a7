#!/usr/bin/python3
"""024: the ASE cannot reach a VM placed in its own subnet (azure-semantics 1.3,
3 rule 5, 11.8): both instances' connections to it are dropped
(intra_subnet_blocked). The same VM is reachable from another subnet, and the
ASE still reaches a VM in another subnet.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
V = {"next_hop_type": "VnetLocal", "route_table": "System Route"}
for i, src in enumerate(("10.0.1.4", "10.0.1.5")):
    p = c.send("vnet", VM / IP(src=src, dst="10.0.1.20") / TCP(sport=47000 + i, dport=80, flags="S"))
    c.expect_drop("vnet", p, "intra_subnet_blocked", V)
p = c.send("vnet", VM / IP(src="10.0.2.4", dst="10.0.1.20") / TCP(sport=47010, dport=80, flags="S"))
c.expect_forward("vnet", p, "vnet", V, flow="new")
p = c.send("vnet", VM / IP(src="10.0.1.4", dst="10.0.2.4") / TCP(sport=47011, dport=1433, flags="S"))
c.expect_forward("vnet", p, "vnet", V, flow="new")
c.write()

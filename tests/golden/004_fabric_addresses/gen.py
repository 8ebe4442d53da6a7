#!/usr/bin/python3
"""004: the fabric owns the VIP and the ILB address; neither is routed on to a
VM. A port no frontend serves is dropped (no_frontend): 3389 on the VIP, 8080
on the ILB (azure-semantics 2: the ASE port table has neither). ICMP to a
Basic-era VIP is not answered (7.5, [U]: drop).
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
E = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC)
VM = Ether(src="02:00:00:00:02:04", dst=FABRIC_MAC)

p = c.send("internet", E / IP(src="198.51.100.7", dst="192.23.1.2") / TCP(sport=40000, dport=3389, flags="S"))
c.expect_drop("internet", p, "no_frontend")
p = c.send("internet", E / IP(src="198.51.100.7", dst="192.23.1.2") / UDP(sport=40001, dport=3389))
c.expect_drop("internet", p, "no_frontend")
p = c.send("internet", E / IP(src="198.51.100.7", dst="192.23.1.2") / ICMP(id=1, seq=1))
c.expect_drop("internet", p, "no_frontend")
p = c.send("vnet", VM / IP(src="10.0.2.4", dst="10.0.1.11") / TCP(sport=40002, dport=8080, flags="S"))
c.expect_drop("vnet", p, "no_frontend")
# The instance next to the ILB address is an ordinary VNet address.
p = c.send("vnet", VM / IP(src="10.0.2.4", dst="10.0.1.4") / TCP(sport=40003, dport=8080, flags="S"))
c.expect_forward("vnet", p, "vnet", {"next_hop_type": "VnetLocal", "route_table": "System Route"})
c.write()

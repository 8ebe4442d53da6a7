#!/usr/bin/python3
"""023: the fix with management routes (azure-semantics 8.5 fix 3, 11.34): the
answers to both management addresses leave on the internet side (their /32
UDRs), while SQL and everything else go to the firewall (0.0.0.0/0 ->
VirtualAppliance 10.0.3.4, on the vnet side, with the instance's own address).
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
FW = {"next_hop_type": "VirtualAppliance", "route_table": "ase-rt", "next_hop_ip": "10.0.3.4"}
MGMT = {"next_hop_type": "Internet", "route_table": "ase-rt"}
VIP = "the answer leaves from the VIP (LB+NAT issue)"

p = c.send("vnet", VM / IP(src="10.0.1.4", dst="70.37.57.58") / TCP(sport=454, dport=50001, flags="SA"))
c.expect_forward("vnet", p, "internet", MGMT, flow="new", unchecked=VIP)
p = c.send("vnet", VM / IP(src="10.0.1.5", dst="157.55.208.185") / TCP(sport=455, dport=50002, flags="SA"))
c.expect_forward("vnet", p, "internet", MGMT, flow="new", unchecked=VIP)
p = c.send("vnet", VM / IP(src="10.0.1.4", dst="40.78.1.1") / TCP(sport=46001, dport=1433, flags="S"))
c.expect_forward("vnet", p, "vnet", FW, flow="new")
p = c.send("vnet", VM / IP(src="10.0.1.5", dst="93.184.216.34") / TCP(sport=46002, dport=443, flags="S"))
c.expect_forward("vnet", p, "vnet", FW, flow="new")
c.write()

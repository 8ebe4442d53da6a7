#!/usr/bin/python3
"""022: the documented fix (azure-semantics 8.5 fix 1, 11.34): a UDR
0.0.0.0/0 -> Internet on the ASE subnet beats the equal BGP default, so SQL,
Storage and the answer to management traffic go straight out on the internet
side again, where SNAT to the VIP applies (their bytes are asserted with the
LB+NAT issue). A more specific BGP prefix (the branch 172.16.0.0/12) still wins
over the UDR: the branch is reached over the gateway, with the instance's own
address.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
NET = {"next_hop_type": "Internet", "route_table": "ase-rt"}
SNAT = "the source becomes the VIP (SNAT, LB+NAT issue)"

p = c.send("vnet", VM / IP(src="10.0.1.4", dst="40.78.1.1") / TCP(sport=46001, dport=1433, flags="S"))
c.expect_forward("vnet", p, "internet", NET, flow="new", unchecked=SNAT)
p = c.send("vnet", VM / IP(src="10.0.1.5", dst="52.239.1.1") / TCP(sport=46002, dport=443, flags="S"))
c.expect_forward("vnet", p, "internet", NET, flow="new", unchecked=SNAT)
p = c.send("vnet", VM / IP(src="10.0.1.4", dst="70.37.57.58") / TCP(sport=454, dport=50001, flags="SA"))
c.expect_forward("vnet", p, "internet", NET, flow="new", unchecked="the answer leaves from the VIP (LB+NAT issue)")
p = c.send("vnet", VM / IP(src="10.0.1.4", dst="172.16.5.10") / TCP(sport=46003, dport=443, flags="S"))
c.expect_forward("vnet", p, "onprem", {"next_hop_type": "VirtualNetworkGateway", "route_table": "Gateway Route"},
                 flow="new")
c.write()

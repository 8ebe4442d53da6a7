#!/usr/bin/python3
"""006: era "current" system None routes (azure-semantics 8.1, 8.3).
- 192.168.0.0/16, 100.64.0.0/10 and 10.0.0.0/8 outside the VNet: route_none.
- 10.0.x.x inside the VNet: VnetLocal (the VNet route wins).
- 172.16.0.0/12 is advertised by BGP: the gateway route beats the equal None
  system route.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
NONE = {"next_hop_type": "None", "route_table": "System Route"}
for dst in ("192.168.1.10", "100.64.0.1", "10.9.0.1"):
    p = c.send("vnet", VM / IP(src="10.0.1.4", dst=dst) / TCP(sport=40000, dport=443, flags="S"))
    c.expect_drop("vnet", p, "route_none", NONE)
p = c.send("vnet", VM / IP(src="10.0.1.4", dst="10.0.200.9") / TCP(sport=40001, dport=443, flags="S"))
c.expect_forward("vnet", p, "vnet", {"next_hop_type": "VnetLocal", "route_table": "System Route"})
p = c.send("vnet", VM / IP(src="10.0.1.4", dst="172.16.5.10") / TCP(sport=40002, dport=443, flags="S"))
c.expect_forward("vnet", p, "onprem", {"next_hop_type": "VirtualNetworkGateway", "route_table": "Gateway Route"})
c.write()

#!/usr/bin/python3
"""021: forced tunnelling breaks the ASE (azure-semantics 8.5, 11.33). With a BGP
0.0.0.0/0 from on-premises and no fix on the ASE subnet:
- the instances' calls to SQL (1433) and Storage (443) leave on the onprem side,
  with the instance's own address (not the VIP): on-premises they are blocked
  or NATed to an address Azure does not recognise;
- the answer to Azure's management traffic (from 454 to a management address)
  is routed on-premises too, not back out the way it came: the asymmetric
  failure. (This case sends the instance's answer itself; the inbound half
  reaches the instance once the VIP load balancer exists, LB+NAT issue.)
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
GW = {"next_hop_type": "VirtualNetworkGateway", "route_table": "Gateway Route"}

p = c.send("vnet", VM / IP(src="10.0.1.4", dst="40.78.1.1") / TCP(sport=46001, dport=1433, flags="S"))
c.expect_forward("vnet", p, "onprem", GW, flow="new")
p = c.send("vnet", VM / IP(src="10.0.1.5", dst="52.239.1.1") / TCP(sport=46002, dport=443, flags="S"))
c.expect_forward("vnet", p, "onprem", GW, flow="new")
p = c.send("vnet", VM / IP(src="10.0.1.4", dst="70.37.57.58") / TCP(sport=454, dport=50001, flags="SA"))
c.expect_forward("vnet", p, "onprem", GW, flow="new")
c.write()

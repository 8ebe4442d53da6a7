#!/usr/bin/python3
"""001: routing by the topology (azure-semantics 3 rule 2, 8.1, 8.3).

- Instance -> VNet address: VnetLocal, leaves on vnet with the instance's own
  address (no SNAT inside the VNet).
- Instance -> on-premises (BGP 172.16.0.0/12): VirtualNetworkGateway, leaves on
  onprem with its own address ("inside the VNet or across VPN keeps the private IP").
- BGP 10.0.0.0/8 covers the VNet: VNet addresses still go VnetLocal (longer
  prefix, and system VNet routes beat BGP); 10.1.x.x outside the VNet goes to the
  gateway.
- On-premises -> instance arrives on onprem and leaves on vnet.
- ICMP echo inside the VNet is routed like anything else.
usage: gen.py [OUT_DIR]   (default: this folder)"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
ONPREM = Ether(src="02:00:00:00:03:01", dst=FABRIC_MAC)
VNET_LOCAL = {"next_hop_type": "VnetLocal", "route_table": "System Route"}
GATEWAY = {"next_hop_type": "VirtualNetworkGateway", "route_table": "Gateway Route"}

p = c.send("vnet", VM / IP(src="10.0.1.4", dst="10.0.2.4") / TCP(sport=50100, dport=1433, flags="S", seq=1))
c.expect_forward("vnet", p, "vnet", VNET_LOCAL)
p = c.send("vnet", VM / IP(src="10.0.1.5", dst="172.16.5.10") / TCP(sport=50200, dport=443, flags="S", seq=2))
c.expect_forward("vnet", p, "onprem", GATEWAY)
p = c.send("onprem", ONPREM / IP(src="172.16.5.10", dst="10.0.1.5") / TCP(sport=443, dport=50200, flags="SA", seq=9, ack=3))
c.expect_forward("onprem", p, "vnet", VNET_LOCAL)
p = c.send("vnet", VM / IP(src="10.0.1.6", dst="10.0.200.1") / UDP(sport=5353, dport=53))
c.expect_forward("vnet", p, "vnet", VNET_LOCAL)   # inside the VNet: BGP 10/8 loses
p = c.send("vnet", VM / IP(src="10.0.1.6", dst="10.1.0.5") / UDP(sport=5354, dport=53))
c.expect_forward("vnet", p, "onprem", GATEWAY)    # outside the VNet: BGP 10/8 wins
p = c.send("vnet", VM / IP(src="10.0.1.4", dst="10.0.2.4") / ICMP(id=7, seq=1))
c.expect_forward("vnet", p, "vnet", VNET_LOCAL)
p = c.send("vnet", Ether(src="02:00:00:00:02:04", dst=FABRIC_MAC) / IP(src="10.0.2.4", dst="10.0.1.4") / ICMP(type=0, id=7, seq=1))
c.expect_forward("vnet", p, "vnet", VNET_LOCAL)
c.write()

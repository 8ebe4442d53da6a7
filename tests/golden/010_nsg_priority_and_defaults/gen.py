#!/usr/bin/python3
"""010: NSG rules are tried in ascending priority and the first match decides
(azure-semantics 6.1, 11.9); with no matching user rule the six default rules
decide (6.2, 11.10):
- 172.16.9.5 -> :443 hits DenyBranch9 (100) although AllowHttps (200) also matches.
- 172.16.5.5 -> :443 hits AllowHttps; NeverReached (300) is never consulted.
- the branch (VirtualNetwork via BGP) -> :22: AllowVnetInBound (65000).
- another subnet -> :22: AllowVnetInBound.
- 168.63.129.16 (health probes) -> :80: allowed by AllowVnetInBound (65000):
  the contract's VirtualNetwork tag includes 168.63.129.16, so that rule
  matches before AllowAzureLoadBalancerInBound (65001) is reached.
- 8.8.8.8 (Internet, arriving over the gateway) -> :22: DenyAllInBound (65500).
- the instance -> the data subnet: AllowVnetOutBound on the way out.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
ON = Ether(src="02:00:00:00:03:01", dst=FABRIC_MAC)
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
N = "ase-nsg"

p = c.send("onprem", ON / IP(src="172.16.9.5", dst="10.0.1.4") / TCP(sport=40001, dport=443, flags="S"))
c.expect_drop("onprem", p, "nsg_deny", nsg=[(N, "DenyBranch9", "Deny")])
p = c.send("onprem", ON / IP(src="172.16.5.5", dst="10.0.1.4") / TCP(sport=40002, dport=443, flags="S"))
c.expect_forward("onprem", p, "vnet", nsg=[(N, "AllowHttps", "Allow")], flow="new")
p = c.send("onprem", ON / IP(src="172.16.5.5", dst="10.0.1.5") / TCP(sport=40003, dport=22, flags="S"))
c.expect_forward("onprem", p, "vnet", nsg=[(N, "AllowVnetInBound", "Allow")], flow="new")
p = c.send("vnet", VM / IP(src="10.0.2.9", dst="10.0.1.5") / TCP(sport=40004, dport=22, flags="S"))
c.expect_forward("vnet", p, "vnet", nsg=[(N, "AllowVnetInBound", "Allow")], flow="new")
p = c.send("vnet", VM / IP(src="168.63.129.16", dst="10.0.1.4") / TCP(sport=40005, dport=80, flags="S"))
c.expect_forward("vnet", p, "vnet", nsg=[(N, "AllowVnetInBound", "Allow")], flow="new")
p = c.send("onprem", ON / IP(src="8.8.8.8", dst="10.0.1.4") / TCP(sport=40006, dport=22, flags="S"))
c.expect_drop("onprem", p, "nsg_deny", nsg=[(N, "DenyAllInBound", "Deny")])
p = c.send("vnet", VM / IP(src="10.0.1.4", dst="10.0.2.9") / TCP(sport=40007, dport=1433, flags="S"))
c.expect_forward("vnet", p, "vnet", nsg=[(N, "AllowVnetOutBound", "Allow")], flow="new")
c.write()

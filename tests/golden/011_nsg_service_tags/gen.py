#!/usr/bin/python3
"""011: each service tag matches what the contract says it stands for
(contract section 2, azure-semantics 6.3):
- AppServiceManagement (user tag) 70.37.57.58 -> :454: AllowMgmt.
- VirtualNetwork: the branch 172.16.5.5 (a BGP prefix) -> :454: DenyMgmtFromVnet;
  so does 192.168.50.7 (a UDR prefix) -> :455.
- AzureLoadBalancer 168.63.129.16 -> :80: BlockProbes (a user deny above the
  defaults catches the probes, azure-semantics 11.15).
- Internet 8.8.4.4 (not in VirtualNetwork) -> :80: DenyHttpFromInternet; -> :443
  falls to DenyAllInBound.
- Outbound Internet: UDP 53 to 8.8.8.8: DenyPublicDns; UDP 53 to a VNet resolver
  is not Internet: AllowVnetOutBound.
- Outbound Sql (user tag) 40.78.1.1:1433: DenySql.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import IP, TCP, UDP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
ON = Ether(src="02:00:00:00:03:01", dst=FABRIC_MAC)
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
N = "ase-nsg"


def inbound(src, dport, rule, access, sport=41000):
    side = "vnet" if src == "168.63.129.16" else "onprem"
    eth = VM if side == "vnet" else ON
    p = c.send(side, eth / IP(src=src, dst="10.0.1.4") / TCP(sport=sport, dport=dport, flags="S"))
    if access == "Allow":
        c.expect_forward(side, p, "vnet", nsg=[(N, rule, access)], flow="new")
    else:
        c.expect_drop(side, p, "nsg_deny", nsg=[(N, rule, access)])


inbound("70.37.57.58", 454, "AllowMgmt", "Allow", 41001)
inbound("172.16.5.5", 454, "DenyMgmtFromVnet", "Deny", 41002)
inbound("192.168.50.7", 455, "DenyMgmtFromVnet", "Deny", 41003)
inbound("168.63.129.16", 80, "BlockProbes", "Deny", 41004)
inbound("8.8.4.4", 80, "DenyHttpFromInternet", "Deny", 41005)
inbound("8.8.4.4", 443, "DenyAllInBound", "Deny", 41006)

p = c.send("vnet", VM / IP(src="10.0.1.4", dst="8.8.8.8") / UDP(sport=53001, dport=53))
c.expect_drop("vnet", p, "nsg_deny", nsg=[(N, "DenyPublicDns", "Deny")])
p = c.send("vnet", VM / IP(src="10.0.1.4", dst="10.0.2.53") / UDP(sport=53002, dport=53))
c.expect_forward("vnet", p, "vnet", nsg=[(N, "AllowVnetOutBound", "Allow")], flow="new")
p = c.send("vnet", VM / IP(src="10.0.1.5", dst="40.78.1.1") / TCP(sport=53003, dport=1433, flags="S"))
c.expect_drop("vnet", p, "nsg_deny", nsg=[(N, "DenySql", "Deny")])
c.write()

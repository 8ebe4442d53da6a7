#!/usr/bin/python3
"""034: calls between ASEs, and to an ASE's own VIP, are Internet calls
(azure-semantics 3 rules 3-4, 11.6, 11.7):
- ASE One's instance -> ASE Two's VIP:443 arrives at ASE Two's instance from ASE
  One's VIP (SNAT, port of its preallocation) without leaving on the internet
  side; ASE Two's NSG admits it with a rule for 192.23.1.2/32 alone. ASE One's
  own NSG judged it first as outbound to the Internet. The answer goes back the
  same way: from ASE Two's VIP to the caller.
- The same caller to ASE Two's VIP:80 is not admitted by a VirtualNetwork rule:
  the source is a VIP, which is Internet (DenyAllInBound).
- ASE One's instance calling its own VIP:443 is seen coming from its own VIP.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case, nat, snat_ports  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
VIP1, VIP2, A1, A2 = "192.23.1.2", "192.23.1.3", "10.0.1.4", "10.0.2.4"
P = snat_ports(0)
V = {"next_hop_type": "VnetLocal", "route_table": "System Route"}

p = c.send("vnet", VM / IP(src=A1, dst=VIP2) / TCP(sport=41000, dport=443, flags="S"))
c.expect_forward("vnet", nat(p, src=VIP1, sport=P[0], dst=A2), "vnet", V, flow="new",
                 nsg=[("one-nsg", "AllowInternetOutBound", "Allow"), ("two-nsg", "AllowAseOne", "Allow")])
c.trace[-1][1]["nat"] = {"src": "%s:%d" % (VIP1, P[0]), "dst": A2 + ":443"}
p = c.send("vnet", VM / IP(src=A2, dst=VIP1) / TCP(sport=443, dport=P[0], flags="SA"))
c.expect_forward("vnet", nat(p, src=VIP2, dst=A1, dport=41000), "vnet", flow="reply")
c.trace[-1][1]["nat"] = {"src": VIP2 + ":443", "dst": A1 + ":41000"}
p = c.send("vnet", VM / IP(src=A1, dst=VIP2) / TCP(sport=41001, dport=80, flags="S"))
c.expect_drop("vnet", p, "nsg_deny",
              nsg=[("one-nsg", "AllowInternetOutBound", "Allow"), ("two-nsg", "DenyAllInBound", "Deny")])
p = c.send("vnet", VM / IP(src=A1, dst=VIP1) / TCP(sport=41002, dport=443, flags="S"))
c.expect_forward("vnet", nat(p, src=VIP1, sport=P[0], dst=A1), "vnet", V, flow="new",
                 nsg=[("one-nsg", "AllowInternetOutBound", "Allow"), ("one-nsg", "AllowOwnVip", "Allow")])
c.write()

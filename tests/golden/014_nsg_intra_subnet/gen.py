#!/usr/bin/python3
"""014: a subnet's NSG also filters traffic between two VMs of that subnet
(azure-semantics 6.5): the sender's outbound pass, then the receiver's inbound
pass, both through the same subnet NSG.
- app1 -> app2:445: out AllowVnetOutBound, in DenySmbInside.
- app1 -> app2:443: out AllowVnetOutBound, in AllowVnetInBound.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
E = Ether(src="02:00:00:00:04:10", dst=FABRIC_MAC)
N = "apps-nsg"
p = c.send("vnet", E / IP(src="10.0.4.10", dst="10.0.4.11") / TCP(sport=44001, dport=445, flags="S"))
c.expect_drop("vnet", p, "nsg_deny", nsg=[(N, "AllowVnetOutBound", "Allow"), (N, "DenySmbInside", "Deny")])
p = c.send("vnet", E / IP(src="10.0.4.10", dst="10.0.4.11") / TCP(sport=44002, dport=443, flags="S"))
c.expect_forward("vnet", p, "vnet", nsg=[(N, "AllowVnetOutBound", "Allow"), (N, "AllowVnetInBound", "Allow")], flow="new")
c.write()

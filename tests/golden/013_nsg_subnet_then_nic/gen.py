#!/usr/bin/python3
"""013: inbound traffic passes the subnet NSG, then the NIC NSG; outbound the
NIC NSG, then the subnet NSG; both must allow, and a deny at the first one ends
the evaluation (azure-semantics 6.5, 11.13):
- .4 -> sql:1433: data-nsg AllowSqlFromAse, then sql-nic AllowVnetInBound.
- .6 -> sql:1433: data-nsg allows, sql-nic DenyInstance6 denies.
- .5 -> sql:3389: data-nsg DenyRdp ends it; sql-nic's AllowRdpAtNic is never read.
- sql -> .4:80: sql-nic AllowVnetOutBound, then data-nsg DenyOutHttp.
- sql -> .4:25: sql-nic DenyOutSmtp ends it; data-nsg is never read.
- sql -> .4:1434: both allow (AllowVnetOutBound), and the ASE subnet has no NSG.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
E = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)


def tcp(src, dst, sport, dport):
    return c.send("vnet", E / IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags="S"))


p = tcp("10.0.1.4", "10.0.2.4", 43001, 1433)
c.expect_forward("vnet", p, "vnet", nsg=[("data-nsg", "AllowSqlFromAse", "Allow"), ("sql-nic", "AllowVnetInBound", "Allow")], flow="new")
p = tcp("10.0.1.6", "10.0.2.4", 43002, 1433)
c.expect_drop("vnet", p, "nsg_deny", nsg=[("data-nsg", "AllowSqlFromAse", "Allow"), ("sql-nic", "DenyInstance6", "Deny")])
p = tcp("10.0.1.5", "10.0.2.4", 43003, 3389)
c.expect_drop("vnet", p, "nsg_deny", nsg=[("data-nsg", "DenyRdp", "Deny")])
p = tcp("10.0.2.4", "10.0.1.4", 43004, 80)
c.expect_drop("vnet", p, "nsg_deny", nsg=[("sql-nic", "AllowVnetOutBound", "Allow"), ("data-nsg", "DenyOutHttp", "Deny")])
p = tcp("10.0.2.4", "10.0.1.4", 43005, 25)
c.expect_drop("vnet", p, "nsg_deny", nsg=[("sql-nic", "DenyOutSmtp", "Deny")])
p = tcp("10.0.2.4", "10.0.1.4", 43006, 1434)
c.expect_forward("vnet", p, "vnet", nsg=[("sql-nic", "AllowVnetOutBound", "Allow"), ("data-nsg", "AllowVnetOutBound", "Allow")], flow="new")
c.write()

#!/usr/bin/python3
"""040: the connection table full (issue 9 point 5: exhaustion is defined,
counted and recovers).
- 1,024 UDP flows from an instance to a VM fill the worker's table
  ([emulator] flow_table_size = 1024); each is allowed by AllowVnetOutBound.
- The 1,025th new flow is allowed by the NSG but cannot be kept: dropped as
  flow_table_full (its rule hit still counts: the NSG did judge it).
- Established flows keep working while the table is full.
- 241 s later every flow has idled out; the next new flow finds the table
  full of expired entries, reclaims them and is installed.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import IP, UDP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
N = "ase-nsg"
V = {"next_hop_type": "VnetLocal", "route_table": "System Route"}
ALLOW = [(N, "AllowVnetOutBound", "Allow")]


def flow(sport, dt=0.0001):
    return c.send("vnet", VM / IP(src="10.0.1.4", dst="10.0.2.4") / UDP(sport=sport, dport=53), dt=dt)


for i in range(1024):
    c.expect_forward("vnet", flow(10000 + i), "vnet", V, nsg=ALLOW, flow="new")
c.expect_drop("vnet", flow(20000), "flow_table_full", nsg=ALLOW)
c.expect_forward("vnet", flow(10000, dt=1.0), "vnet", flow="established")
c.expect_forward("vnet", flow(30000, dt=241.0), "vnet", V, nsg=ALLOW, flow="new")
c.summary_extra["mbufs_in_use_at_end"] = 0
c.write()

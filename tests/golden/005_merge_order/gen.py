#!/usr/bin/python3
"""005: replay merges its inputs in timestamp order (contract section 3): the
trace index follows packet time across the three sides, equal times go in --in
order (internet, vnet, onprem), and every output packet carries the time of the
packet that caused it. The three captures interleave and share timestamps.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import IP, UDP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
ON = Ether(src="02:00:00:00:03:01", dst=FABRIC_MAC)
NET = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC)
V = {"next_hop_type": "VnetLocal", "route_table": "System Route"}
G = {"next_hop_type": "VirtualNetworkGateway", "route_table": "Gateway Route"}

# (side, dt, src, dst): dt 0 = same timestamp as the previous packet.
plan = [
    ("onprem", 0.010, "172.16.5.10", "10.0.1.4"),
    ("vnet", 0.000, "10.0.1.4", "172.16.5.10"),     # same time: onprem was sent first, but vnet comes first in --in order
    ("internet", 0.000, "198.51.100.7", "192.23.1.2"),  # same time again: internet first of all
    ("vnet", 0.250, "10.0.1.5", "10.0.2.4"),
    ("onprem", 0.000001, "172.16.5.11", "10.0.1.5"),
    ("vnet", 1.5, "10.0.1.6", "10.0.2.4"),
    ("onprem", 3600.0, "172.16.5.12", "10.0.1.6"),   # an hour later
]
for i, (side, dt, src, dst) in enumerate(plan):
    eth = {"vnet": VM, "onprem": ON, "internet": NET}[side]
    p = c.send(side, eth / IP(src=src, dst=dst) / UDP(sport=10000 + i, dport=20000 + i), dt=dt)
    if dst == "192.23.1.2":
        c.expect_drop(side, p, "no_frontend")
    elif dst.startswith("172.16."):
        c.expect_forward(side, p, "onprem", G)
    else:
        c.expect_forward(side, p, "vnet", V)
c.write()

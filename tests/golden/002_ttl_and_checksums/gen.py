#!/usr/bin/python3
"""002: what a hop through the fabric does to an IPv4 header.

- TTL goes down by one and the IPv4 header checksum stays right; the rest of
  the packet (L4 checksum included) is untouched, byte for byte.
- TTL 2 leaves with 1; TTL 1 and TTL 0 would expire in the fabric: dropped
  (ttl_exceeded), never sent on with TTL 0. Azure's SDN sends no ICMP for it.
- IP options are kept and covered by the new checksum.
- A wrong TCP checksum is carried through unchanged (routers do not check L4).
- Ethernet padding of a minimum-size frame is kept.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import IP, TCP, UDP, Ether, IPOption_RR, Padding, Raw  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
R = {"next_hop_type": "VnetLocal", "route_table": "System Route"}

for ttl in (64, 128, 255, 2):
    p = c.send("vnet", VM / IP(src="10.0.1.4", dst="10.0.2.4", ttl=ttl, id=ttl) / UDP(sport=1000 + ttl, dport=53) / Raw(b"q" * 20))
    c.expect_forward("vnet", p, "vnet", R)
for ttl in (1, 0):
    p = c.send("vnet", VM / IP(src="10.0.1.4", dst="10.0.2.4", ttl=ttl) / UDP(sport=2000 + ttl, dport=53))
    c.expect_drop("vnet", p, "ttl_exceeded")  # dropped on arrival: never routed
p = c.send("vnet", VM / IP(src="10.0.1.5", dst="10.0.2.9", options=[IPOption_RR(routers=["10.0.1.1"])]) / TCP(sport=3000, dport=80, flags="S"))
c.expect_forward("vnet", p, "vnet", R)
p = c.send("vnet", VM / IP(src="10.0.1.5", dst="10.0.2.9") / TCP(sport=3001, dport=80, flags="S", chksum=0xdead))
c.expect_forward("vnet", p, "vnet", R)
p = c.send("vnet", VM / IP(src="10.0.1.5", dst="10.0.2.9") / TCP(sport=3002, dport=80, flags="A") / Padding(b"\x00" * 6))
assert len(p) == 60
c.expect_forward("vnet", p, "vnet", R)
c.write()

#!/usr/bin/python3
"""003: packets the fabric cannot route are dropped with a named reason and
counted; none is forwarded, none crashes anything.

malformed: every truncation of a TCP SYN inside its IPv4+TCP headers, IHL < 5,
version 6 in an IPv4 ethertype, total length past the frame, a wrong IPv4 header
checksum, a TCP data offset < 5, an 802.3 length frame.
unsupported: IPv6, a VLAN-tagged frame (not IPv4 at the Ethernet layer).
arp: ARP is answered by the fabric itself, never forwarded.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import ARP, IP, TCP, UDP, Dot1Q, Dot3, Ether, IPv6, LLC  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
E = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC)
syn = bytes(E / IP(src="203.0.113.9", dst="10.0.1.4") / TCP(sport=40000, dport=443, flags="S"))

for cut in range(14, 14 + 20 + 20):  # inside the IPv4 or TCP header
    p = c.send_raw("internet", syn[:cut])
    c.expect_drop("internet", p, "malformed")


def ipv4(**kw):
    return bytearray(bytes(E / IP(src="10.0.1.4", dst="10.0.2.4", **kw) / UDP(sport=1, dport=2)))


def fix_ip_checksum(b):
    b[24:26] = b"\x00\x00"
    s = sum(int.from_bytes(b[14 + i:16 + i], "big") for i in range(0, 20, 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    b[24:26] = (~s & 0xFFFF).to_bytes(2, "big")
    return b


bad_ihl = ipv4()
bad_ihl[14] = 0x44
bad_version = ipv4()
bad_version[14] = 0x65
long_total = fix_ip_checksum(ipv4())
long_total[16:18] = (500).to_bytes(2, "big")
long_total = fix_ip_checksum(long_total)
bad_sum = ipv4()
bad_sum[24] ^= 0xFF
bad_doff = bytearray(bytes(E / IP(src="10.0.1.4", dst="10.0.2.4") / TCP(sport=1, dport=2, dataofs=4)))
for raw in (bad_ihl, bad_version, long_total, bad_sum, bad_doff):
    p = c.send_raw("vnet", bytes(raw))
    c.expect_drop("vnet", p, "malformed")
p = c.send("vnet", Dot3(src="02:00:00:00:01:04", dst="01:80:c2:00:00:00") / LLC())
c.expect_drop("vnet", p, "malformed")

p = c.send("internet", E / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=1, dport=2))
c.expect_drop("internet", p, "unsupported")
p = c.send("vnet", Ether(src="02:00:00:00:01:04", dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.0.1.4", pdst="10.0.1.1"))
c.expect_drop("vnet", p, "arp")
p = c.send("vnet", Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC) / Dot1Q(vlan=10) / IP(src="10.0.1.4", dst="10.0.2.4") / UDP())
c.expect_drop("vnet", p, "unsupported")
# A well-formed packet after all that still goes through.
p = c.send("vnet", Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC) / IP(src="10.0.1.4", dst="10.0.2.4") / UDP(sport=9, dport=9))
c.expect_forward("vnet", p, "vnet", {"next_hop_type": "VnetLocal", "route_table": "System Route"})
c.write()

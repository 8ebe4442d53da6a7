#!/usr/bin/python3
"""041: the port MTU and bytes past the IPv4 total length (issue 14, part 2).
Azure VNets carry 1,500-byte IPv4 packets ([emulator] mtu, default 1500):
- 1,500 bytes with DF set: forwarded (the boundary).
- 1,501 bytes with DF set, VM to VM: dropped (mtu_exceeded) and answered, as a
  router does (RFC 1191), with ICMP type 3 code 4 and next-hop MTU 1500, sent
  back out the port it came in on to the sender's MAC, from the sender's
  subnet gateway (10.0.1.1), quoting the IPv4 header and 8 bytes.
- 1,501 bytes without DF: dropped (mtu_exceeded); nothing is sent.
- 2,000 bytes with DF from the Internet to the VIP: dropped, answered from the
  VIP (the address the sender used).
- A SYN to the VIP followed by 100,000 bytes that are not part of the IPv4
  packet: load-balanced, the trailing bytes gone but for Ethernet's 60-byte
  minimum, whose padding is zeros (none of the sender's bytes leave); a
  1,500-byte packet with 4 trailing bytes (an FCS a capture kept): forwarded
  as 1,514 bytes.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case, nat  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
NET = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC)
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
VIP, INST, HOST, CLIENT, N = "192.23.1.2", "10.0.1.4", "10.0.2.4", "203.0.113.7", "ase-nsg"
V = {"next_hop_type": "VnetLocal", "route_table": "System Route"}


def udp(total, df, sport):
    """VM to VM UDP with an IPv4 total length of `total` bytes."""
    return VM / IP(src=INST, dst=HOST, flags="DF" if df else 0) / UDP(sport=sport, dport=9001) / Raw(b"x" * (total - 28))


def frag_needed(p, side, src, mac):
    """What the fabric sends back for `p`: ICMP fragmentation needed, MTU 1500."""
    ip = bytes(p[IP])
    quoted = ip[:(ip[0] & 0x0f) * 4 + 8]
    r = Ether(src=FABRIC_MAC, dst=mac) / IP(src=src, dst=p[IP].src, ttl=64, id=0) / \
        ICMP(type=3, code=4, nexthopmtu=1500) / Raw(quoted)
    r = Ether(bytes(r))
    r.time = p.time
    key = c._key(side, p)
    c.expect[side].append((key, r))  # made by the fabric at this packet's time


p = c.send("vnet", udp(1500, True, 40000))
assert len(p[IP]) == 1500
c.expect_forward("vnet", p, "vnet", V, nsg=[(N, "AllowVnetOutBound", "Allow")], flow="new")

p = c.send("vnet", udp(1501, True, 40001))
frag_needed(p, "vnet", "10.0.1.1", VM.src)
c.expect_drop("vnet", p, "mtu_exceeded")

p = c.send("vnet", udp(1501, False, 40002))
c.expect_drop("vnet", p, "mtu_exceeded")

p = c.send("internet", NET / IP(src=CLIENT, dst=VIP, flags="DF") / TCP(sport=50001, dport=443, flags="S") /
           Raw(b"y" * (2000 - 40)))
frag_needed(p, "internet", VIP, NET.src)
c.expect_drop("internet", p, "mtu_exceeded")

# Trailing bytes: a SYN to the VIP with 100,000 bytes after its IPv4 packet.
syn = NET / IP(src=CLIENT, dst=VIP) / TCP(sport=50002, dport=443, flags="S")
p = c.send("internet", bytes(syn) + b"\xab" * 100000)
clean = Ether(bytes(p)[:len(syn)] + b"\x00" * (60 - len(syn)))
clean.time = p.time
c.expect_forward("internet", nat(clean, dst=INST), "vnet", nsg=[(N, "AllowHttps", "Allow")], flow="new")

# A full-size packet with 4 bytes after it (a frame check sequence a capture kept).
big = udp(1500, True, 40003)
p = c.send("vnet", bytes(big) + b"\x12\x34\x56\x78")
clean = Ether(bytes(p)[:len(big)])
clean.time = p.time
c.expect_forward("vnet", clean, "vnet", V, nsg=[(N, "AllowVnetOutBound", "Allow")], flow="new")
c.write()

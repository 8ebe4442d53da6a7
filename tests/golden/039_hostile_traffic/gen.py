#!/usr/bin/python3
"""039: hostile and unusual traffic (issue 9 point 3). Each packet is either
handled per the spec or dropped with a named reason; none crashes replay;
every packet is counted; every mbuf is back in the pool at the end.
- Every truncation (0-53 bytes) of a 54-byte TCP SYN to the VIP: malformed.
- IHL 4, IHL 15 beyond the frame, a bad header checksum, a total length past
  the frame, a TCP data offset of 4, a UDP length past the packet: malformed.
- IP options (IHL 6): parsed past; the SYN to the VIP is load-balanced with its
  options kept.
- Fragments: first and later fragments to the VIP are not load-balanced
  (fragment, azure-semantics 7.5); VM-to-VM fragments inside the VNet are
  routed like any packet (a later fragment, portless, is judged by the NSG
  on its addresses without a connection entry).
- TTL 0 and 1: ttl_exceeded (the fabric is one hop).
- Source 0.0.0.0, 127.0.0.1 as destination, 255.255.255.255 as source:
  martian. Broadcast and multicast destinations, IP-in-IP and GRE: Azure
  blocks them within VNets (vnet_blocked).
- IPv6, VLAN-tagged IPv4, LLDP, MPLS: unsupported; an 802.3 length frame:
  malformed.
- A 9,000-byte UDP datagram between VMs, DF clear: longer than the VNet's
  1,500-byte MTU, dropped (mtu_exceeded; 041 has the MTU cases).
- ICMP errors quoting garbage: to the VIP no frontend takes them (no_frontend);
  to a VM from on-premises (no NSG on its subnet) they are plain ICMP, routed
  like any packet.
usage: gen.py [OUT_DIR]"""

import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case, nat  # noqa: E402
from scapy.all import GRE, ICMP, IP, TCP, UDP, Dot1Q, Ether, IPOption_NOP, IPv6, Raw  # noqa: E402
from scapy.contrib.mpls import MPLS  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
NET = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC)
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
ON = Ether(src="02:00:00:00:03:01", dst=FABRIC_MAC)
VIP, INST, HOST, N = "192.23.1.2", "10.0.1.4", "10.0.2.4", "ase-nsg"
V = {"next_hop_type": "VnetLocal", "route_table": "System Route"}

# Every truncation of a SYN to the VIP.
syn = bytes(NET / IP(src="203.0.113.7", dst=VIP) / TCP(sport=50000, dport=443, flags="S"))
assert len(syn) == 54
for n in range(len(syn)):
    p = c.send_raw("internet", syn[:n])
    c.expect_drop("internet", p, "malformed")


def raw_ip(ihl=5, tot=None, csum_ok=True, payload=b"", src="203.0.113.7", dst=VIP, proto=6, opts=b""):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, tot if tot is not None else ihl * 4 + len(payload), 1, 0, 64,
                      proto, 0, bytes(map(int, src.split("."))), bytes(map(int, dst.split(".")))) + opts
    s = sum(struct.unpack("!%dH" % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    cs = (~s & 0xffff) if csum_ok else (~s + 1) & 0xffff
    hdr = hdr[:10] + struct.pack("!H", cs) + hdr[12:]
    return bytes(Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC, type=0x0800)) + hdr + payload


tcp = bytes(TCP(sport=50000, dport=443, flags="S"))
for frame in (raw_ip(ihl=4, payload=tcp), raw_ip(ihl=15, payload=tcp), raw_ip(csum_ok=False, payload=tcp),
              raw_ip(tot=1000, payload=tcp)):
    p = c.send_raw("internet", frame)
    c.expect_drop("internet", p, "malformed")
bad_doff = bytearray(tcp)
bad_doff[12] = 0x40
p = c.send_raw("internet", raw_ip(payload=bytes(bad_doff)))
c.expect_drop("internet", p, "malformed")
p = c.send("vnet", VM / IP(src=INST, dst=HOST) / UDP(sport=1, dport=2, len=200) / Raw(b"x" * 10))
c.expect_drop("vnet", p, "malformed")

# IP options: load-balanced with them.
p = c.send("internet", NET / IP(src="203.0.113.7", dst=VIP, options=[IPOption_NOP()] * 4) /
           TCP(sport=50001, dport=443, flags="S"))
assert p[IP].ihl == 6
c.expect_forward("internet", nat(p, dst=INST), "vnet", V, nsg=[(N, "AllowHttps", "Allow")], flow="new")

# Fragments.
p = c.send("internet", NET / IP(src="203.0.113.7", dst=VIP, flags="MF", id=7) / TCP(sport=50002, dport=443, flags="S") / Raw(b"a" * 16))
c.expect_drop("internet", p, "fragment")
p = c.send("internet", NET / IP(src="203.0.113.7", dst=VIP, frag=4, id=7, proto=6) / Raw(b"b" * 16))
c.expect_drop("internet", p, "fragment")
p = c.send("vnet", VM / IP(src=INST, dst=HOST, flags="MF", id=9) / UDP(sport=7000, dport=7001) / Raw(b"c" * 24))
c.expect_forward("vnet", p, "vnet", V, nsg=[(N, "AllowVnetOutBound", "Allow")], flow="new")
p = c.send("vnet", VM / IP(src=INST, dst=HOST, frag=4, id=9, proto=17) / Raw(b"d" * 24))
# A later fragment has no ports: the NSG judges it on addresses and protocol,
# and no connection is kept for it.
c.expect_forward("vnet", p, "vnet", V, nsg=[(N, "AllowVnetOutBound", "Allow")])

# TTL 0 and 1.
for ttl in (0, 1):
    p = c.send("vnet", VM / IP(src=INST, dst=HOST, ttl=ttl) / UDP(sport=7100 + ttl, dport=53))
    c.expect_drop("vnet", p, "ttl_exceeded")

# Addresses no network carries, and what Azure blocks in a VNet.
for side, pkt in (("internet", NET / IP(src="0.0.0.0", dst=VIP) / TCP(sport=1, dport=443, flags="S")),
                  ("vnet", VM / IP(src=INST, dst="127.0.0.1") / UDP(sport=1, dport=53)),
                  ("internet", NET / IP(src="255.255.255.255", dst=VIP) / TCP(sport=1, dport=443, flags="S")),
                  ("vnet", VM / IP(src="224.0.0.1", dst=HOST) / UDP(sport=1, dport=53))):
    p = c.send(side, pkt)
    c.expect_drop(side, p, "martian")
for pkt in (VM / IP(src=INST, dst="255.255.255.255") / UDP(sport=68, dport=67),
            VM / IP(src=INST, dst="224.0.0.251") / UDP(sport=5353, dport=5353),
            VM / IP(src=INST, dst=HOST) / GRE() / IP(src="1.1.1.1", dst="2.2.2.2") / UDP(),
            VM / IP(src=INST, dst=HOST, proto=4) / IP(src="1.1.1.1", dst="2.2.2.2") / UDP()):
    p = c.send("vnet", pkt)
    c.expect_drop("vnet", p, "vnet_blocked")

# Not IPv4.
for pkt in (VM / IPv6(src="fd00::4", dst="fd00::5") / UDP(sport=1, dport=2),
            Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC, type=0x8100) / Dot1Q(vlan=10) / IP(src=INST, dst=HOST) / UDP(),
            Ether(src="02:00:00:00:01:04", dst="01:80:c2:00:00:0e", type=0x88CC) / Raw(b"\x02\x07\x04" + b"\0" * 40),
            Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC, type=0x8847) / MPLS(label=16) / IP(src=INST, dst=HOST) / UDP()):
    p = c.send("vnet", pkt)
    c.expect_drop("vnet", p, "unsupported")
p = c.send_raw("vnet", bytes(Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC, type=46) / Raw(b"\0" * 46)))
c.expect_drop("vnet", p, "malformed")

# A jumbo datagram between VMs.
p = c.send("vnet", VM / IP(src=INST, dst=HOST) / UDP(sport=9000, dport=9001) / Raw(bytes(range(256)) * 35))
assert len(p) > 9000
c.expect_drop("vnet", p, "mtu_exceeded")

# ICMP errors quoting garbage.
p = c.send("internet", NET / IP(src="203.0.113.9", dst=VIP) / ICMP(type=3, code=3) /
           IP(src=VIP, dst="203.0.113.9") / UDP(sport=4444, dport=5555))
c.expect_drop("internet", p, "no_frontend")
p = c.send("onprem", ON / IP(src="172.16.5.10", dst=HOST) / ICMP(type=3, code=1) / Raw(b"\xff" * 28))
c.expect_forward("onprem", p, "vnet", V)
p = c.send("onprem", ON / IP(src="172.16.5.10", dst=HOST) / ICMP(type=11, code=0) / Raw(b"\x45"))
c.expect_forward("onprem", p, "vnet", V)
c.summary_extra["mbufs_in_use_at_end"] = 0
c.write()

#!/usr/bin/python3
"""035: ICMP errors through NAT (azure-semantics 7.6; the translation RFC 5508
asks of a NAT): an error about a packet of a known flow follows the flow and
both its outer header and the packet it quotes are translated back.
- A router's "time exceeded" about an instance's SNATed TCP SYN reaches the
  instance; the quoted header shows the instance's own address and port again.
- A "port unreachable" about an SNATed UDP datagram: the same, the quoted UDP
  checksum kept right.
- An instance's "fragmentation needed" about a packet that came in through the
  VIP leaves from the VIP, quoting the VIP as the destination.
- An error about no known flow, sent to the VIP, is not answered (no_frontend).
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case, forwarded, nat, snat_ports  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
NET = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC)
VIP, A, D, R = "192.23.1.2", "10.0.1.4", "13.107.4.50", "198.51.100.1"
P = snat_ports(0)


def quote(pkt):
    """What an ICMP error carries: the offending IPv4 header and 8 bytes."""
    return bytes(pkt)[:28]


def expect_error(side, sent, out_side, outer_src, outer_dst, inner):
    """The error as delivered: outer addresses and the quoted packet translated."""
    e = Ether(bytes(sent))
    head = bytearray(bytes(e[ICMP])[:8])  # type, code, and the 4 type-specific bytes (e.g. the MTU)
    head[2:4] = b"\x00\x00"
    icmp = ICMP(bytes(head) + quote(inner))
    del icmp.chksum
    want = Ether(src=e.src, dst=e.dst) / IP(src=outer_src, dst=outer_dst, ttl=e[IP].ttl, id=e[IP].id) / icmp
    want = Ether(bytes(want))
    want.time = sent.time
    c.expect[out_side].append((c._key(side, sent), forwarded(want, out_side)))
    c.trace.append((c.expect[out_side][-1][0], {"in_port": side, "verdict": "forward", "out_port": out_side,
                                                 "flow": "related"}))


p = c.send("vnet", VM / IP(src=A, dst=D) / TCP(sport=40000, dport=443, flags="S"))
c.expect_forward("vnet", nat(p, src=VIP, sport=P[0]), "internet", flow="new")
err = c.send("internet", NET / IP(src=R, dst=VIP) / ICMP(type=11, code=0) /
             Raw(quote(IP(src=VIP, dst=D, ttl=1) / TCP(sport=P[0], dport=443, flags="S"))))
expect_error("internet", err, "vnet", R, A, IP(src=A, dst=D, ttl=1) / TCP(sport=40000, dport=443, flags="S"))

p = c.send("vnet", VM / IP(src=A, dst="8.8.8.8") / UDP(sport=53000, dport=53) / Raw(b"query"))
c.expect_forward("vnet", nat(p, src=VIP, sport=P[0]), "internet", flow="new")
err = c.send("internet", NET / IP(src="8.8.8.8", dst=VIP) / ICMP(type=3, code=3) /
             Raw(quote(IP(src=VIP, dst="8.8.8.8", ttl=63) / UDP(sport=P[0], dport=53) / Raw(b"query"))))
expect_error("internet", err, "vnet", "8.8.8.8", A, IP(src=A, dst="8.8.8.8", ttl=63) / UDP(sport=53000, dport=53) / Raw(b"query"))

p = c.send("internet", NET / IP(src="203.0.113.7", dst=VIP) / TCP(sport=50000, dport=443, flags="S"))
c.expect_forward("internet", nat(p, dst=A), "vnet", flow="new")
err = c.send("vnet", VM / IP(src=A, dst="203.0.113.7") / ICMP(type=3, code=4, nexthopmtu=1400) /
             Raw(quote(IP(src="203.0.113.7", dst=A, ttl=63) / TCP(sport=50000, dport=443, flags="A"))))
expect_error("vnet", err, "internet", VIP, "203.0.113.7", IP(src="203.0.113.7", dst=VIP, ttl=63) / TCP(sport=50000, dport=443, flags="A"))

p = c.send("internet", NET / IP(src=R, dst=VIP) / ICMP(type=11, code=0) /
           Raw(quote(IP(src=VIP, dst="13.107.4.99", ttl=1) / TCP(sport=P[5], dport=443, flags="S"))))
c.expect_drop("internet", p, "no_frontend")
c.write()

#!/usr/bin/python3
"""Writes the demo captures replayed by scripts/demo through
config/examples/public-vip-ase.toml (the seed's ASE: 10.0.1.0/26, VIP 192.23.1.2).

Each packet is something an ASE engineer sees every day; the comment says what
Azure does with it. Regenerate with: /usr/bin/python3 pcaps/gen_demo.py"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden", "lib"))
from asenet_golden import write_pcap  # noqa: E402
from scapy.all import ARP, DNS, DNSQR, ICMP, IP, IPv6, TCP, UDP, Ether, Raw  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1700000000.0
packets = {"internet": [], "vnet": [], "onprem": []}


def add(side, dt, pkt):
    global T0
    T0 = round(T0 + dt, 6)
    pkt = Ether(bytes(pkt))
    pkt.time = T0
    packets[side].append(pkt)


CLIENT = Ether(src="02:00:00:00:00:10", dst="12:34:56:78:9a:bc")
VM = Ether(src="02:00:00:00:01:04", dst="12:34:56:78:9a:bc")

# An app on instance 10.0.1.4 opens a connection to the SQL VM in the same VNet:
# VNet traffic keeps the instance's own address (seed rule 2) -> vnet.
add("vnet", 0.010, VM / IP(src="10.0.1.4", dst="10.0.2.4") / TCP(sport=50100, dport=1433, flags="S", seq=1000))
add("vnet", 0.001, Ether(src="02:00:00:00:02:04", dst="12:34:56:78:9a:bc") /
    IP(src="10.0.2.4", dst="10.0.1.4") / TCP(sport=1433, dport=50100, flags="SA", seq=5000, ack=1001))
# Instance 10.0.1.5 calls an on-premises API across the VPN gateway (BGP route
# 172.16.0.0/12): also its own address -> onprem.
add("vnet", 0.010, VM / IP(src="10.0.1.5", dst="172.16.5.10") / TCP(sport=50200, dport=443, flags="S", seq=7000))
add("onprem", 0.002, Ether(src="02:00:00:00:03:01", dst="12:34:56:78:9a:bc") /
    IP(src="172.16.5.10", dst="10.0.1.5") / TCP(sport=443, dport=50200, flags="SA", seq=9000, ack=7001))
# DNS from an instance to a resolver VM in the VNet.
add("vnet", 0.005, VM / IP(src="10.0.1.6", dst="10.0.2.4") / UDP(sport=53000, dport=53) / DNS(id=0x1234, qd=DNSQR(qname="sql.corp.internal")))
# A customer opens HTTPS to the ASE's VIP: the load balancer hands it to an
# instance (destination rewritten, the client's address kept; Maglev picks
# 10.0.1.4 for this client), the NSG admits 443, and the instance's answer
# leaves from the VIP.
add("internet", 0.010, CLIENT / IP(src="203.0.113.50", dst="192.23.1.2") / TCP(sport=51000, dport=443, flags="S", seq=100))
add("vnet", 0.001, VM / IP(src="10.0.1.4", dst="203.0.113.50") / TCP(sport=443, dport=51000, flags="SA", seq=300, ack=101))
# The app calls a public API: the call leaves from the VIP (SNAT, port 1024 of
# the instance's 1,024), and the answer finds its way back to the instance.
add("vnet", 0.010, VM / IP(src="10.0.1.4", dst="13.107.4.50") / TCP(sport=52000, dport=443, flags="S", seq=500))
add("internet", 0.020, Ether(src="02:00:00:00:00:20", dst="12:34:56:78:9a:bc") /
    IP(src="13.107.4.50", dst="192.23.1.2") / TCP(sport=443, dport=1024, flags="SA", seq=700, ack=501))
# A scanner pings the VIP: Basic-era VIPs do not answer ICMP (spec 7.5) -> dropped.
add("internet", 0.010, CLIENT / IP(src="198.51.100.7", dst="192.23.1.2") / ICMP(id=77, seq=1))
# A probe to a VIP port no frontend serves -> dropped.
add("internet", 0.010, CLIENT / IP(src="198.51.100.7", dst="192.23.1.2") / TCP(sport=40000, dport=3389, flags="S"))
# A packet that has run out of hops -> dropped, never forwarded with TTL 0.
add("vnet", 0.010, VM / IP(src="10.0.1.6", dst="10.0.2.4", ttl=1) / UDP(sport=53001, dport=53))
# A truncated IPv4 header from the Internet -> dropped as malformed, never parsed further.
add("internet", 0.010, Raw(bytes(CLIENT / IP(src="203.0.113.9", dst="192.23.1.2") / TCP(dport=443))[:30]))
# IPv6 and ARP are not routed by this emulator (Basic-era ASEs are IPv4 only).
add("internet", 0.010, CLIENT / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=1, dport=2))
add("vnet", 0.010, Ether(src="02:00:00:00:01:04", dst="ff:ff:ff:ff:ff:ff") / ARP(psrc="10.0.1.4", pdst="10.0.1.1"))

for side, pkts in packets.items():
    write_pcap(os.path.join(HERE, "demo", side + ".pcap"), pkts)
print("wrote", ", ".join("pcaps/demo/%s.pcap (%d)" % (s, len(p)) for s, p in packets.items()))

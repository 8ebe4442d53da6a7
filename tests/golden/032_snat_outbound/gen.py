#!/usr/bin/python3
"""032: outbound addressing (azure-semantics 3 rules 1-2, 7.6, 11.4, 11.5, 11.26):
- An instance's TCP to the Internet leaves from the VIP with a port of its own
  preallocation (the first instance owns 1024-2047, the second 2048-3071); the
  answer comes back to the VIP and is handed to the instance's own address and port.
- A second flow to a different destination may use the same SNAT port (TCP
  ports are per destination IP and port); a second flow to the same destination
  takes the next port.
- UDP (era 2016, classic rule: per destination IP and port) and an ICMP echo
  (the identifier is the port) are translated the same way, answers included.
- To the VNet and across the VPN an instance keeps its own address.
- A fragment on the SNAT path is dropped (7.6).
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case, nat, snat_ports  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
NET = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC)
VIP = "192.23.1.2"
P0, P1 = snat_ports(0), snat_ports(1)
I = {"next_hop_type": "Internet", "route_table": "System Route"}


def out(src, dst, sp, dp, port, flags="S", proto="tcp"):
    l4 = TCP(sport=sp, dport=dp, flags=flags) if proto == "tcp" else UDP(sport=sp, dport=dp) / Raw(b"q")
    p = c.send("vnet", VM / IP(src=src, dst=dst) / l4)
    c.expect_forward("vnet", nat(p, src=VIP, sport=port), "internet", I, flow="new")
    c.trace[-1][1]["nat"] = {"src": "%s:%d" % (VIP, port), "dst": "%s:%d" % (dst, dp)}
    return p


def back(src, dst, sp, port, inst_port, flags="SA", proto="tcp"):
    l4 = TCP(sport=sp, dport=port, flags=flags) if proto == "tcp" else UDP(sport=sp, dport=port) / Raw(b"a")
    p = c.send("internet", NET / IP(src=src, dst=VIP) / l4)
    c.expect_forward("internet", nat(p, dst=dst, dport=inst_port), "vnet", flow="reply")
    c.trace[-1][1]["nat"] = {"src": "%s:%d" % (src, sp), "dst": "%s:%d" % (dst, inst_port)}


out("10.0.1.4", "13.107.4.50", 40000, 443, P0[0])
back("13.107.4.50", "10.0.1.4", 443, P0[0], 40000)
out("10.0.1.4", "13.107.4.51", 40001, 443, P0[0])      # another destination: the same port
out("10.0.1.4", "13.107.4.50", 40002, 443, P0[1])      # the same destination: the next port
out("10.0.1.5", "13.107.4.50", 40000, 443, P1[0])      # the other instance: its own ports
back("13.107.4.50", "10.0.1.5", 443, P1[0], 40000)
out("10.0.1.4", "8.8.8.8", 53000, 53, P0[0], proto="udp")
back("8.8.8.8", "10.0.1.4", 53, P0[0], 53000, proto="udp")
out("10.0.1.4", "8.8.8.8", 53001, 123, P0[0], proto="udp")   # classic UDP: per destination port too

p = c.send("vnet", VM / IP(src="10.0.1.4", dst="8.8.4.4") / ICMP(type=8, id=7, seq=1))
c.expect_forward("vnet", nat(p, src=VIP, icmp_id=P0[0]), "internet", I, flow="new")
p = c.send("internet", NET / IP(src="8.8.4.4", dst=VIP) / ICMP(type=0, id=P0[0], seq=1))
c.expect_forward("internet", nat(p, dst="10.0.1.4", icmp_id=7), "vnet", flow="reply")

p = c.send("vnet", VM / IP(src="10.0.1.4", dst="10.0.2.4") / TCP(sport=40003, dport=1433, flags="S"))
c.expect_forward("vnet", p, "vnet", {"next_hop_type": "VnetLocal", "route_table": "System Route"}, flow="new")
p = c.send("vnet", VM / IP(src="10.0.1.4", dst="172.16.5.10") / TCP(sport=40004, dport=443, flags="S"))
c.expect_forward("vnet", p, "onprem", {"next_hop_type": "VirtualNetworkGateway", "route_table": "Gateway Route"}, flow="new")
p = c.send("vnet", VM / IP(src="10.0.1.4", dst="13.107.4.50", flags="MF") / UDP(sport=40005, dport=443) / Raw(b"f" * 16))
c.expect_drop("vnet", p, "fragment", I)
c.write()

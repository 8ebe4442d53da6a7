#!/usr/bin/python3
"""036: idle timeout and TCP reset (azure-semantics 7.3, 11.22). An inbound
connection idle longer than 4 minutes is dropped. With TCP reset enabled
(Standard), the LB also sends an RST to both ends, but only for an ESTABLISHED
connection: to the client from the VIP, and to the instance from the client,
each with the sequence number its receiver expects next. asenet sends them at
the first packet of a later capture second (its timers run in whole seconds),
stamped with that packet's time.
- ase-one (tcp_reset): an established connection idles out -> two RSTs;
  a connection closed with FINs from both sides idles out -> no RST.
- ase-two (no tcp_reset): an established connection idles out silently.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, PEER_MAC, Case, nat  # noqa: E402
from scapy.all import IP, TCP, Ether, Raw  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
NET = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC)
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
V1, V2, I1, I2, CL = "192.23.1.2", "192.23.1.3", "10.0.1.4", "10.0.2.4", "203.0.113.7"


def connect(vip, inst, cport, data=b""):
    p = c.send("internet", NET / IP(src=CL, dst=vip) / TCP(sport=cport, dport=443, flags="S", seq=1000), dt=0.5)
    c.expect_forward("internet", nat(p, dst=inst), "vnet", flow="new")
    p = c.send("vnet", VM / IP(src=inst, dst=CL) / TCP(sport=443, dport=cport, flags="SA", seq=5000, ack=1001), dt=0.5)
    c.expect_forward("vnet", nat(p, src=vip), "internet", flow="reply")
    p = c.send("internet", NET / IP(src=CL, dst=vip) / TCP(sport=cport, dport=443, flags="PA", seq=1001, ack=5001) / Raw(data),
               dt=0.5)
    c.expect_forward("internet", nat(p, dst=inst), "vnet", flow="established")


connect(V1, I1, 50000, b"0123456789")   # established: client next 1011, server next 5001
connect(V1, I1, 50001)
p = c.send("internet", NET / IP(src=CL, dst=V1) / TCP(sport=50001, dport=443, flags="FA", seq=1001, ack=5001), dt=0.5)
c.expect_forward("internet", nat(p, dst=I1), "vnet", flow="established")
p = c.send("vnet", VM / IP(src=I1, dst=CL) / TCP(sport=443, dport=50001, flags="FA", seq=5001, ack=1002), dt=0.5)
c.expect_forward("vnet", nat(p, src=V1), "internet", flow="reply")
connect(V2, I2, 50002)

# 300 s later a new client arrives; every flow above has idled out by now.
p = c.send("internet", NET / IP(src="198.51.100.9", dst=V1) / TCP(sport=60000, dport=443, flags="S"), dt=300.0)
key = c._key("internet", p)
rst_client = Ether(src=FABRIC_MAC, dst=PEER_MAC["internet"]) / IP(src=V1, dst=CL, ttl=64, id=0) / \
    TCP(sport=443, dport=50000, flags="RA", seq=5001, ack=1011, window=0)
rst_inst = Ether(src=FABRIC_MAC, dst=PEER_MAC["vnet"]) / IP(src=CL, dst=I1, ttl=64, id=0) / \
    TCP(sport=50000, dport=443, flags="RA", seq=1011, ack=5001, window=0)
for side, r in (("internet", rst_client), ("vnet", rst_inst)):
    r = Ether(bytes(r))
    r.time = p.time
    c.expect[side].append((key, r))  # made by the fabric at this packet's time, before it
c._n += 1
c.expect_forward("internet", nat(p, dst=I1), "vnet", flow="new")
c.write()

#!/usr/bin/python3
"""037: a rule removed mid-capture (replay --apply, issue 6). Azure applies NSG
changes to new connections only (azure-semantics 6.4): the flow table keeps
the verdict of connections that already exist.
- t=0: 203.0.113.7 opens HTTPS to the VIP; AllowHttps admits it; handshake.
- t=10 s: after.toml (no AllowHttps) becomes generation 2 (apply.json).
- t=11 s: the open connection sends data and gets a reply: still forwarded.
- t=11 s: a new client's SYN to VIP:443 meets DenyAllInBound.
- The old connection's FIN after the change still passes.
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case, nat  # noqa: E402
from scapy.all import IP, TCP, Ether, Raw  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
NET = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC)
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
VIP, INST, N, A = "192.23.1.2", "10.0.1.4", "ase-nsg", "203.0.113.7"
V = {"next_hop_type": "VnetLocal", "route_table": "System Route"}


def to_instance(p):
    return nat(p, dst=INST)


def to_client(p):
    return nat(p, src=VIP)


p = c.send("internet", NET / IP(src=A, dst=VIP) / TCP(sport=50000, dport=443, flags="S", seq=1), dt=0)
c.expect_forward("internet", to_instance(p), "vnet", V, nsg=[(N, "AllowHttps", "Allow")], flow="new")
p = c.send("vnet", VM / IP(src=INST, dst=A) / TCP(sport=443, dport=50000, flags="SA", seq=9, ack=2))
c.expect_forward("vnet", to_client(p), "internet", flow="reply")
p = c.send("internet", NET / IP(src=A, dst=VIP) / TCP(sport=50000, dport=443, flags="A", seq=2, ack=10))
c.expect_forward("internet", to_instance(p), "vnet", flow="established")

# 11 s in: generation 2 (no AllowHttps) is live.
p = c.send("internet", NET / IP(src=A, dst=VIP) / TCP(sport=50000, dport=443, flags="PA", seq=2, ack=10) / Raw(b"GET /"), dt=11.0)
c.expect_forward("internet", to_instance(p), "vnet", flow="established")
p = c.send("vnet", VM / IP(src=INST, dst=A) / TCP(sport=443, dport=50000, flags="PA", seq=10, ack=7) / Raw(b"200 OK"))
c.expect_forward("vnet", to_client(p), "internet", flow="reply")
p = c.send("internet", NET / IP(src="198.51.100.9", dst=VIP) / TCP(sport=52000, dport=443, flags="S", seq=1))
c.expect_drop("internet", p, "nsg_deny", nsg=[(N, "DenyAllInBound", "Deny")])
p = c.send("internet", NET / IP(src=A, dst=VIP) / TCP(sport=50000, dport=443, flags="FA", seq=7, ack=16))
c.expect_forward("internet", to_instance(p), "vnet", flow="established")
c.summary_extra["generation"] = 2
c.write()

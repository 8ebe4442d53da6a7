#!/usr/bin/python3
"""030: traffic to the VIP (azure-semantics 2, 6.6, 7, 11.1, 11.14):
- 203.0.113.7 -> VIP:443 reaches the healthy instance 10.0.1.4:443; only the
  destination is rewritten (the instance sees the client's address), and the
  NSG matches the client's address and the instance's address and port (its
  rule names 10.0.1.4, not the VIP). The down instance gets nothing.
- The instance's SYN-ACK leaves from VIP:443 to the client; the ACK follows the flow.
- Management 70.37.57.58 -> VIP:454 reaches the instance (AllowMgmt).
- 198.51.100.9 -> VIP:443: no rule admits it (DenyAllInBound).
- VIP:3389 (no frontend port), UDP to VIP:443 (frontends are TCP here) and
  ICMP echo to the VIP (a Basic-era VIP does not answer): no_frontend.
- A fragment to VIP:443: fragments are not load-balanced (7.5).
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether, Raw  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
NET = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC)
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
VIP, INST, N = "192.23.1.2", "10.0.1.4", "ase-nsg"
V = {"next_hop_type": "VnetLocal", "route_table": "System Route"}


def dnat(p, new_dst):
    """What Azure's load balancer delivers: the destination rewritten, nothing else."""
    q = Ether(bytes(p))
    q[IP].dst = new_dst
    del q[IP].chksum
    if q.haslayer(TCP):
        del q[TCP].chksum
    q = Ether(bytes(q))
    q.time = p.time
    return q


def snat_back(p, new_src):
    q = Ether(bytes(p))
    q[IP].src = new_src
    del q[IP].chksum
    del q[TCP].chksum
    q = Ether(bytes(q))
    q.time = p.time
    return q


p = c.send("internet", NET / IP(src="203.0.113.7", dst=VIP) / TCP(sport=50000, dport=443, flags="S", seq=1))
c.expect_forward("internet", dnat(p, INST), "vnet", V, nsg=[(N, "AllowHttpsFromPartner", "Allow")], flow="new")
c.trace[-1][1]["nat"] = {"src": "203.0.113.7:50000", "dst": INST + ":443"}
p = c.send("vnet", VM / IP(src=INST, dst="203.0.113.7") / TCP(sport=443, dport=50000, flags="SA", seq=9, ack=2))
c.expect_forward("vnet", snat_back(p, VIP), "internet", flow="reply")
c.trace[-1][1]["nat"] = {"src": VIP + ":443", "dst": "203.0.113.7:50000"}
p = c.send("internet", NET / IP(src="203.0.113.7", dst=VIP) / TCP(sport=50000, dport=443, flags="A", seq=2, ack=10))
c.expect_forward("internet", dnat(p, INST), "vnet", flow="established")
p = c.send("internet", NET / IP(src="70.37.57.58", dst=VIP) / TCP(sport=51000, dport=454, flags="S"))
c.expect_forward("internet", dnat(p, INST), "vnet", V, nsg=[(N, "AllowMgmt", "Allow")], flow="new")
p = c.send("internet", NET / IP(src="198.51.100.9", dst=VIP) / TCP(sport=52000, dport=443, flags="S"))
c.expect_drop("internet", p, "nsg_deny", nsg=[(N, "DenyAllInBound", "Deny")])
p = c.send("internet", NET / IP(src="198.51.100.9", dst=VIP) / TCP(sport=52001, dport=3389, flags="S"))
c.expect_drop("internet", p, "no_frontend")
p = c.send("internet", NET / IP(src="198.51.100.9", dst=VIP) / UDP(sport=52002, dport=443))
c.expect_drop("internet", p, "no_frontend")
p = c.send("internet", NET / IP(src="198.51.100.9", dst=VIP) / ICMP(id=3, seq=1))
c.expect_drop("internet", p, "no_frontend")
p = c.send("internet", NET / IP(src="198.51.100.9", dst=VIP, flags="MF") / TCP(sport=52003, dport=443, flags="S") / Raw(b"a" * 16))
c.expect_drop("internet", p, "fragment")
c.write()

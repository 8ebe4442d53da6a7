#!/usr/bin/python3
"""015: NSGs are stateful (azure-semantics 6.4, 11.11): the reply of an allowed
flow passes with no rule for it, in both directions, and the same packet
without a flow is judged by the rules.
- Out to the branch (TCP): SYN allowed (AllowVnetOutBound); the SYN-ACK and the
  data coming back pass although DenyBranchIn denies the branch.
- A SYN-ACK from the branch with no flow behind it, and a new SYN from the
  branch: DenyBranchIn.
- In from 172.16.7.0/24 on 443: AllowBranch7Https; the instance's SYN-ACK back
  passes although DenyToBranch7 forbids the instance to talk to 172.16.7.0/24,
  and a new connection from the instance to it is denied.
- UDP and ICMP echo keep state the same way (the echo identifier is the port).
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import ICMP, IP, TCP, UDP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
ON = Ether(src="02:00:00:00:03:01", dst=FABRIC_MAC)
N = "ase-nsg"
A, B = "10.0.1.4", "172.16.5.10"


def vm(pkt):
    return c.send("vnet", VM / pkt)


def branch(pkt):
    return c.send("onprem", ON / pkt)


p = vm(IP(src=A, dst=B) / TCP(sport=50000, dport=443, flags="S", seq=100))
c.expect_forward("vnet", p, "onprem", nsg=[(N, "AllowVnetOutBound", "Allow")], flow="new")
p = branch(IP(src=B, dst=A) / TCP(sport=443, dport=50000, flags="SA", seq=900, ack=101))
c.expect_forward("onprem", p, "vnet", flow="reply")
p = vm(IP(src=A, dst=B) / TCP(sport=50000, dport=443, flags="A", seq=101, ack=901))
c.expect_forward("vnet", p, "onprem", flow="established")
p = branch(IP(src=B, dst=A) / TCP(sport=443, dport=50000, flags="PA", seq=901, ack=101) / (b"x" * 100))
c.expect_forward("onprem", p, "vnet", flow="reply")
p = branch(IP(src=B, dst=A) / TCP(sport=443, dport=50001, flags="SA", seq=5, ack=6))
c.expect_drop("onprem", p, "nsg_deny", nsg=[(N, "DenyBranchIn", "Deny")])
p = branch(IP(src=B, dst=A) / TCP(sport=1234, dport=443, flags="S"))
c.expect_drop("onprem", p, "nsg_deny", nsg=[(N, "DenyBranchIn", "Deny")])

C = "172.16.7.9"
p = branch(IP(src=C, dst=A) / TCP(sport=51000, dport=443, flags="S", seq=1))
c.expect_forward("onprem", p, "vnet", nsg=[(N, "AllowBranch7Https", "Allow")], flow="new")
p = vm(IP(src=A, dst=C) / TCP(sport=443, dport=51000, flags="SA", seq=70, ack=2))
c.expect_forward("vnet", p, "onprem", flow="reply")
p = vm(IP(src=A, dst=C) / TCP(sport=52000, dport=8443, flags="S"))
c.expect_drop("vnet", p, "nsg_deny", nsg=[(N, "DenyToBranch7", "Deny")])

D = "172.16.5.53"
p = vm(IP(src="10.0.1.5", dst=D) / UDP(sport=5353, dport=53))
c.expect_forward("vnet", p, "onprem", nsg=[(N, "AllowVnetOutBound", "Allow")], flow="new")
p = branch(IP(src=D, dst="10.0.1.5") / UDP(sport=53, dport=5353))
c.expect_forward("onprem", p, "vnet", flow="reply")
p = branch(IP(src=D, dst="10.0.1.5") / UDP(sport=53, dport=5354))
c.expect_drop("onprem", p, "nsg_deny", nsg=[(N, "DenyBranchIn", "Deny")])

p = vm(IP(src=A, dst=B) / ICMP(type=8, id=9, seq=1))
c.expect_forward("vnet", p, "onprem", nsg=[(N, "AllowVnetOutBound", "Allow")], flow="new")
p = branch(IP(src=B, dst=A) / ICMP(type=0, id=9, seq=1))
c.expect_forward("onprem", p, "vnet", flow="reply")
p = branch(IP(src=B, dst=A) / ICMP(type=8, id=10, seq=1))
c.expect_drop("onprem", p, "nsg_deny", nsg=[(N, "DenyBranchIn", "Deny")])
c.write()

#!/usr/bin/python3
"""016: flow records expire on the capture's own clock (azure-semantics 6.4,
7.3, 7.6; timers: idle 4 min, 240 s after both FINs, 15 s after an RST).
Once a flow is gone, the reply direction is a new flow, and DenyBranchIn
denies it. Replay runs on packet time, so these minutes pass instantly.
- TCP idle: a reply 239 s after the last packet passes; one 241 s after it is
  denied.
- UDP idle: the same with 200 s (passes) and then 241 s (denied).
- RST: a stray packet 14 s after the RST passes (and restarts the 15 s), one
  16 s after that is denied.
- FIN from both sides: a packet 200 s later passes, one 241 s after that is
  denied.
- A new SYN on the tuple of a reset connection starts a new flow at once (the
  NSG is consulted again).
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import IP, TCP, UDP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
ON = Ether(src="02:00:00:00:03:01", dst=FABRIC_MAC)
N = "ase-nsg"
NEW_OUT = [(N, "AllowVnetOutBound", "Allow")]
DENY_IN = [(N, "DenyBranchIn", "Deny")]
B = "172.16.5.10"


def handshake(a, sport):
    p = c.send("vnet", VM / IP(src=a, dst=B) / TCP(sport=sport, dport=443, flags="S"), dt=1.0)
    c.expect_forward("vnet", p, "onprem", nsg=NEW_OUT, flow="new")
    p = c.send("onprem", ON / IP(src=B, dst=a) / TCP(sport=443, dport=sport, flags="SA"))
    c.expect_forward("onprem", p, "vnet", flow="reply")
    p = c.send("vnet", VM / IP(src=a, dst=B) / TCP(sport=sport, dport=443, flags="A"))
    c.expect_forward("vnet", p, "onprem", flow="established")


def back(a, sport, dt, ok, flags="A"):
    p = c.send("onprem", ON / IP(src=B, dst=a) / TCP(sport=443, dport=sport, flags=flags), dt=dt)
    if ok:
        c.expect_forward("onprem", p, "vnet", flow="reply")
    else:
        c.expect_drop("onprem", p, "nsg_deny", nsg=DENY_IN)


# TCP idle timeout.
handshake("10.0.1.4", 50000)
back("10.0.1.4", 50000, 239.0, True)
back("10.0.1.4", 50000, 241.0, False)

# UDP idle timeout.
p = c.send("vnet", VM / IP(src="10.0.1.5", dst=B) / UDP(sport=6000, dport=53), dt=1.0)
c.expect_forward("vnet", p, "onprem", nsg=NEW_OUT, flow="new")
p = c.send("onprem", ON / IP(src=B, dst="10.0.1.5") / UDP(sport=53, dport=6000), dt=200.0)
c.expect_forward("onprem", p, "vnet", flow="reply")
p = c.send("onprem", ON / IP(src=B, dst="10.0.1.5") / UDP(sport=53, dport=6000), dt=241.0)
c.expect_drop("onprem", p, "nsg_deny", nsg=DENY_IN)

# RST: 15 s.
handshake("10.0.1.4", 50100)
p = c.send("vnet", VM / IP(src="10.0.1.4", dst=B) / TCP(sport=50100, dport=443, flags="R"))
c.expect_forward("vnet", p, "onprem", flow="established")
back("10.0.1.4", 50100, 14.0, True)
back("10.0.1.4", 50100, 16.0, False)

# Both FINs: 240 s.
handshake("10.0.1.5", 50200)
p = c.send("vnet", VM / IP(src="10.0.1.5", dst=B) / TCP(sport=50200, dport=443, flags="FA"))
c.expect_forward("vnet", p, "onprem", flow="established")
back("10.0.1.5", 50200, 0.001, True, flags="FA")
back("10.0.1.5", 50200, 200.0, True)
back("10.0.1.5", 50200, 241.0, False)

# A new SYN on a reset tuple is a new flow.
handshake("10.0.1.4", 50300)
p = c.send("vnet", VM / IP(src="10.0.1.4", dst=B) / TCP(sport=50300, dport=443, flags="R"))
c.expect_forward("vnet", p, "onprem", flow="established")
p = c.send("vnet", VM / IP(src="10.0.1.4", dst=B) / TCP(sport=50300, dport=443, flags="S"), dt=1.0)
c.expect_forward("vnet", p, "onprem", nsg=NEW_OUT, flow="new")
c.write()

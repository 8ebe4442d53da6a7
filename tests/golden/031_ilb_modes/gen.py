#!/usr/bin/python3
"""031: ILB ASE frontends (azure-semantics 1.5, 2, 11.2, 11.3, 11.23):
ase-wp ("Web, Publishing"): HTTP(S) and FTP are on the ILB, so VIP:443 is not
served while ILB:443 and ILB:21 reach the instance; management 454 still
arrives on the VIP. ase-pub ("Publishing"): FTP on the ILB, HTTP(S) on the VIP,
so ILB:443 is not served. A VNet client keeps its own address through the ILB
(VNet traffic, no SNAT); so does an instance of one ASE calling the other's
ILB. An instance calling its own ASE's ILB fails (no hairpin on an internal LB).
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case, nat  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
NET = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC)
VM = Ether(src="02:00:00:00:02:04", dst=FABRIC_MAC)
V = {"next_hop_type": "VnetLocal", "route_table": "System Route"}
sport = [48000]


def syn(eth, src, dst, dport):
    sport[0] += 1
    return eth / IP(src=src, dst=dst) / TCP(sport=sport[0], dport=dport, flags="S")


def lb(side, p, backend):
    c.expect_forward(side, nat(p, dst=backend), "vnet", V, flow="new")


p = c.send("internet", syn(NET, "203.0.113.7", "192.23.1.2", 443))
c.expect_drop("internet", p, "no_frontend")
p = c.send("vnet", syn(VM, "10.0.2.9", "10.0.1.11", 443))
lb("vnet", p, "10.0.1.4")
p = c.send("vnet", syn(VM, "10.0.2.9", "10.0.1.11", 21))
lb("vnet", p, "10.0.1.4")
p = c.send("internet", syn(NET, "70.37.57.58", "192.23.1.2", 454))
lb("internet", p, "10.0.1.4")
p = c.send("internet", syn(NET, "203.0.113.7", "192.23.1.3", 443))
lb("internet", p, "10.0.1.68")
p = c.send("vnet", syn(VM, "10.0.2.9", "10.0.1.75", 21))
lb("vnet", p, "10.0.1.68")
p = c.send("vnet", syn(VM, "10.0.2.9", "10.0.1.75", 443))
c.expect_drop("vnet", p, "no_frontend")
p = c.send("vnet", syn(VM, "10.0.1.68", "10.0.1.11", 443))
lb("vnet", p, "10.0.1.4")
p = c.send("vnet", syn(VM, "10.0.1.4", "10.0.1.11", 443))
c.expect_drop("vnet", p, "ilb_hairpin")
c.write()

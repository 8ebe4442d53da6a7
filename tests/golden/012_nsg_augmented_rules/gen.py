#!/usr/bin/python3
"""012: an augmented rule with two source prefixes and "21,10001-10020" matches
each element and nothing else (azure-semantics 6.1, 11.16): both sources on 21,
10001 and 10020 hit DevFtp; 10000, 10021, 22 and a third source fall through to
AllowVnetInBound (the branch is VirtualNetwork).
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
ON = Ether(src="02:00:00:00:03:01", dst=FABRIC_MAC)
N = "ase-nsg"
sport = 42000
for src in ("172.16.1.200", "172.16.3.5", "172.16.3.6"):
    for dport in (21, 10001, 10020, 10000, 10021, 22):
        sport += 1
        p = c.send("onprem", ON / IP(src=src, dst="10.0.1.4") / TCP(sport=sport, dport=dport, flags="S"))
        if src != "172.16.3.6" and dport in (21, 10001, 10020):
            c.expect_drop("onprem", p, "nsg_deny", nsg=[(N, "DevFtp", "Deny")])
        else:
            c.expect_forward("onprem", p, "vnet", nsg=[(N, "AllowVnetInBound", "Allow")], flow="new")
c.write()

#!/usr/bin/python3
"""020: route selection (azure-semantics 8.1-8.3, 11.30-11.32, 11.35, 11.36).
From the ASE subnet (route table ase-rt):
- 10.0.5.9 matches the UDR 10.0.5.0/24 (longer than the VNet /16): it goes to
  the virtual appliance 10.0.3.4 on the vnet side, and the appliance's NIC NSG
  applies (telnet is denied there); 10.0.6.9 matches only the /16: VnetLocal.
- 172.16.5.10: the UDR 172.16.0.0/12 -> None beats the equal BGP prefix: dropped.
- 198.51.100.7: the BGP /24 is more specific than the UDR 0.0.0.0/0: on-premises.
- 8.8.8.8: the UDR 0.0.0.0/0 -> Internet beats the equal BGP default: internet.
  (Its bytes are not asserted: Azure SNATs it to the VIP, which comes with the
  load balancer and NAT issue.)
From the data subnet (no route table): the BGP 0.0.0.0/0 beats the system
default, so 8.8.8.8 goes on-premises with the VM's own address.
From the isolated subnet (propagation disabled): no BGP routes, so the branch
172.16.5.10 falls to the system default: internet (bytes: as above).
From outside no subnet's UDR applies: on-premises -> 10.0.5.9 is VnetLocal, and
the Internet cannot reach a private address at all (no_route).
usage: gen.py [OUT_DIR]"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

c = Case(sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__)))
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
ON = Ether(src="02:00:00:00:03:01", dst=FABRIC_MAC)
NET = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC)
SNAT = "the source becomes the VIP (SNAT, LB+NAT issue)"
sport = [45000]


def syn(eth, src, dst, dport=443):
    sport[0] += 1
    return eth / IP(src=src, dst=dst) / TCP(sport=sport[0], dport=dport, flags="S")


def route(t, table):
    return {"next_hop_type": t, "route_table": table}


p = c.send("vnet", syn(VM, "10.0.1.4", "10.0.5.9"))
c.expect_forward("vnet", p, "vnet", {"next_hop_type": "VirtualAppliance", "route_table": "ase-rt",
                                     "next_hop_ip": "10.0.3.4"},
                 nsg=[("fw-nic", "AllowVnetInBound", "Allow")], flow="new")
p = c.send("vnet", syn(VM, "10.0.1.4", "10.0.5.9", dport=23))
c.expect_drop("vnet", p, "nsg_deny", {"next_hop_type": "VirtualAppliance", "route_table": "ase-rt",
                                      "next_hop_ip": "10.0.3.4"}, nsg=[("fw-nic", "NoTelnet", "Deny")])
p = c.send("vnet", syn(VM, "10.0.1.4", "10.0.6.9"))
c.expect_forward("vnet", p, "vnet", route("VnetLocal", "System Route"), flow="new")
p = c.send("vnet", syn(VM, "10.0.1.5", "172.16.5.10"))
c.expect_drop("vnet", p, "route_none", route("None", "ase-rt"))
p = c.send("vnet", syn(VM, "10.0.1.5", "198.51.100.7"))
c.expect_forward("vnet", p, "onprem", route("VirtualNetworkGateway", "Gateway Route"), flow="new")
p = c.send("vnet", syn(VM, "10.0.1.5", "8.8.8.8"))
c.expect_forward("vnet", p, "internet", route("Internet", "ase-rt"), flow="new", unchecked=SNAT)

p = c.send("vnet", syn(VM, "10.0.2.7", "8.8.8.8"))
c.expect_forward("vnet", p, "onprem", route("VirtualNetworkGateway", "Gateway Route"), flow="new")
p = c.send("vnet", syn(VM, "10.0.4.7", "172.16.5.10"))
c.expect_forward("vnet", p, "internet", route("Internet", "System Route"), flow="new", unchecked=SNAT)

p = c.send("onprem", syn(ON, "172.16.5.10", "10.0.5.9"))
c.expect_forward("onprem", p, "vnet", route("VnetLocal", "System Route"), flow="new")
p = c.send("internet", syn(NET, "203.0.113.50", "10.0.1.4"))
c.expect_drop("internet", p, "no_route")
c.write()

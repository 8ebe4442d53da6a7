#!/usr/bin/python3
"""`next-hop` and `effective-routes` agree with the data path (issue 4): on the
route-selection golden topology, packets from every subnet to a grid of
destinations (prefix edges included) are replayed with --trace, and for each
one `asenetctl next-hop` must name the same next-hop type, address and route
table as the trace; `effective-routes` must mark Active exactly the routes the
data path can use.
usage: test_routes.py ASENETCTL SOURCE_ROOT"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "lib"))
from asenet_golden import FABRIC_MAC, write_pcap  # noqa: E402
from scapy.all import IP, UDP, Ether  # noqa: E402

asenetctl, root = sys.argv[1], sys.argv[2]
topo = os.path.join(root, "tests", "golden", "020_routing_udr", "topology.toml")
sources = ["10.0.1.4", "10.0.2.7", "10.0.3.9", "10.0.4.7"]  # one per subnet (ase-one, data, nva, isolated)
dests = ["10.0.5.0", "10.0.5.255", "10.0.4.255", "10.0.6.1", "10.0.255.255", "10.1.0.0", "172.15.255.255",
         "172.16.0.0", "172.31.255.255", "172.32.0.0", "198.51.99.255", "198.51.100.0", "198.51.100.255",
         "198.51.101.0", "8.8.8.8", "1.0.0.1", "223.255.255.254"]  # the lowest and highest routable addresses
tmp = tempfile.mkdtemp(prefix="asenet-routes-")
failures = []


def check(name, cond, detail=""):
    if not cond:
        print("FAIL " + name + ": " + detail)
        failures.append(name)


try:
    pkts, pairs, t = [], [], 1700000000.0
    for s in sources:
        for d in dests:
            p = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC) / IP(src=s, dst=d) / UDP(sport=40000 + len(pkts), dport=53)
            t += 0.001
            p.time = t
            pkts.append(p)
            pairs.append((s, d))
    write_pcap(os.path.join(tmp, "in.pcap"), pkts)
    out = os.path.join(tmp, "out")
    r = subprocess.run([asenetctl, "replay", "--topology", topo, "--in", "vnet=" + os.path.join(tmp, "in.pcap"),
                        "--out-dir", out, "--trace"], capture_output=True, text=True)
    check("replay", r.returncode == 0, r.stderr)
    trace = [json.loads(line) for line in open(os.path.join(out, "trace.jsonl"))]
    for (s, d), tr in zip(pairs, trace):
        r = subprocess.run([asenetctl, "next-hop", "--topology", topo, "--source", s, "--destination", d, "--json"],
                           capture_output=True, text=True)
        nh = json.loads(r.stdout)
        route = tr.get("route")
        if route is None:
            check("%s -> %s routed" % (s, d), False, json.dumps(tr))
            continue
        check("%s -> %s type" % (s, d), route["next_hop_type"] == nh["nextHopType"], "%s vs %s" % (route, nh))
        check("%s -> %s table" % (s, d), route["route_table"] == nh["routeTableId"], "%s vs %s" % (route, nh))
        check("%s -> %s ip" % (s, d), route.get("next_hop_ip", "") == nh["nextHopIpAddress"], "%s vs %s" % (route, nh))
    print("%d source/destination pairs compared" % len(pairs))

    def eff(subnet):
        r = subprocess.run([asenetctl, "effective-routes", "--topology", topo, "--subnet", subnet, "--json"],
                           capture_output=True, text=True)
        return {(x["source"], x["addressPrefix"]): x for x in json.loads(r.stdout)["routes"]}

    ase = eff("ase-one")
    check("UDR 0/0 active, BGP and system 0/0 invalid",
          ase[("User", "0.0.0.0/0")]["state"] == "Active" and ase[("VirtualNetworkGateway", "0.0.0.0/0")]["state"] == "Invalid"
          and ase[("Default", "0.0.0.0/0")]["state"] == "Invalid", json.dumps(list(ase.values())))
    check("UDR None beats the equal BGP prefix", ase[("User", "172.16.0.0/12")]["state"] == "Active"
          and ase[("VirtualNetworkGateway", "172.16.0.0/12")]["state"] == "Invalid")
    check("more specific BGP stays active", ase[("VirtualNetworkGateway", "198.51.100.0/24")]["state"] == "Active")
    check("appliance route shows its address", ase[("User", "10.0.5.0/24")]["nextHopIpAddress"] == "10.0.3.4")
    iso = eff("isolated")
    check("propagation disabled: no gateway routes", not any(k[0] == "VirtualNetworkGateway" for k in iso), str(iso.keys()))
    data = eff("data")
    check("no route table: BGP 0/0 beats the system default", data[("VirtualNetworkGateway", "0.0.0.0/0")]["state"] == "Active"
          and data[("Default", "0.0.0.0/0")]["state"] == "Invalid")
    r = subprocess.run([asenetctl, "next-hop", "--topology", topo, "--source", "192.168.9.9", "--destination", "8.8.8.8"],
                       capture_output=True, text=True)
    check("next-hop from outside every subnet exits 2", r.returncode == 2, r.stderr)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print("%d failed" % len(failures))
sys.exit(1 if failures else 0)

#!/usr/bin/python3
"""asenetctl graph (issue 7 point 6): the picture names what the topology
holds, wired as the topology says, and Graphviz renders it.
- DOT: every subnet with its prefix, each ASE with its VIP and instances
  (a down instance marked), each NSG attached to its subnet or NIC, each route
  table to its subnet with its routes, the gateway with its BGP prefixes, and
  the three ports; the internet port leads to the VIP.
- Edges from an NSG or route table end on the subnet's border (lhead on a
  compound graph), instances are drawn in address order, counts are singular
  for one ("1 rule").
- What doctor finds broken is drawn in red: forced tunnelling without the fix
  (golden 021) gets red edges from the ASE to the gateway for the management
  replies and the dependencies; the fixed one (022) none.
- SVG (Graphviz's dot) is well-formed XML holding the same names; PNG is a PNG.
- A bad topology exits 2 with file:line:col.
usage: test_graph.py ASENETCTL REPO_ROOT"""

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

asenetctl, root = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="asenet-graph-")
topo = os.path.join(tmp, "t.toml")
open(topo, "w").write("""
[vnet]
name = "corp"
address_space = "10.0.0.0/16"
[[subnets]]
name = "ase-one"
prefix = "10.0.1.0/26"
nsg = "ase-nsg"
route_table = "ase-rt"
[[subnets]]
name = "data"
prefix = "10.0.2.0/24"
[[ases]]
name = "ase-one"
subnet = "ase-one"
public_vip = "192.23.1.2"
ilb_address = "10.0.1.11"
ilb_mode = "Web"
instances = ["10.0.1.5", "10.0.1.4"]
down = ["10.0.1.5"]
[[hosts]]
name = "sql"
ip = "10.0.2.4"
nsg = "sql-nsg"
[[nsgs]]
name = "ase-nsg"
[[nsgs]]
name = "sql-nsg"
[[nsgs.rules]]
name = "AllowSql"
priority = 100
direction = "Inbound"
access = "Allow"
protocol = "Tcp"
source_address_prefixes = "10.0.1.0/26"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "1433"
[[route_tables]]
name = "ase-rt"
[[route_tables.routes]]
name = "to-nva"
address_prefix = "0.0.0.0/0"
next_hop_type = "VirtualAppliance"
next_hop_ip_address = "10.0.2.9"
[gateway]
bgp_routes = ["172.16.0.0/12"]
""")
r = subprocess.run([asenetctl, "graph", "--topology", topo], capture_output=True, text=True)
assert r.returncode == 0, r.stderr
dot = r.stdout
must = ["subnet ase-one 10.0.1.0/26", "subnet data 10.0.2.0/24", "VIP 192.23.1.2", "ILB 10.0.1.11",
        "instance 10.0.1.4", "instance 10.0.1.5 (down)", "VM sql\\n10.0.2.4", "NSG ase-nsg", "NSG sql-nsg",
        "route table ase-rt\\n0.0.0.0/0 -> VirtualAppliance 10.0.2.9", "BGP 172.16.0.0/12",
        "port internet", "port vnet", "port onprem"]
for m in must:
    assert m in dot, "missing %r in:\n%s" % (m, dot)
edges = set(re.findall(r"^\s*(\w+) -> (\w+)", dot, re.M))
for e in [("nsg_ase_nsg", "subnet_ase_one"), ("nsg_sql_nsg", "host_sql"), ("rt_ase_rt", "subnet_ase_one"),
          ("port_internet", "ase_ase_one"), ("ase_ase_one", "inst_ase_one_0"), ("gateway", "port_onprem")]:
    assert e in edges, "missing edge %s -> %s" % e
assert "NSG sql-nsg\\n1 rule + 6 defaults" in dot and "NSG ase-nsg\\n0 rules + 6 defaults" in dot, dot
assert "compound=true" in dot
for nsg_or_rt in ("nsg_ase_nsg", "rt_ase_rt"):
    line = re.search(r"^\s*%s -> subnet_ase_one \[(.*)\];$" % nsg_or_rt, dot, re.M)
    assert line and "lhead=cluster_subnet_ase_one" in line.group(1), (nsg_or_rt, dot)
assert re.search(r"subnet_ase_one \[shape=point, style=invis", dot), dot
# The topology lists 10.0.1.5 first; the picture lists 10.0.1.4 first.
assert dot.index("instance 10.0.1.4") < dot.index("instance 10.0.1.5 (down)"), dot
# 0.0.0.0/0 to an NVA sends management replies there: doctor's finding ends on
# the route table responsible.
assert re.search(r'^\s*ase_ase_one -> rt_ase_rt \[color="#c0392b".*label="doctor: management-return', dot, re.M), dot


def graph_of(case):
    r = subprocess.run([asenetctl, "graph", "--topology", os.path.join(root, "tests", "golden", case, "topology.toml")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


broken = graph_of("021_forced_tunnel_broken")
red = re.findall(r"^\s*(\w+) -> (\w+) \[color=\"#c0392b\".*label=\"([^\"]*)\"", broken, re.M)
assert ("ase_ase_one", "gateway", "doctor: management-return x2") in red, red
assert any(e[:2] == ("ase_ase_one", "gateway") and e[2].startswith("doctor: dependency") for e in red), red
assert re.search(r"ase_ase_one \[color=\"#c0392b\"", broken), broken
assert "#c0392b" not in graph_of("022_forced_tunnel_fixed")
png = os.path.join(tmp, "t.png")
r = subprocess.run([asenetctl, "graph", "--topology", topo, "--format", "png", "--out", png], capture_output=True, text=True)
assert r.returncode == 0 and open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n", r.stderr
svg = os.path.join(tmp, "t.svg")
r = subprocess.run([asenetctl, "graph", "--topology", topo, "--format", "svg", "--out", svg], capture_output=True, text=True)
assert r.returncode == 0, r.stderr
text = "".join(t for t in ET.parse(svg).getroot().itertext())
for m in ("VIP 192.23.1.2", "NSG sql-nsg", "port onprem"):
    assert m in text, m
open(topo, "a").write("[[ases]]\nname = 2\n")
r = subprocess.run([asenetctl, "graph", "--topology", topo], capture_output=True, text=True)
assert r.returncode == 2 and re.search(r"t\.toml:\d+:\d+", r.stderr), r.stderr
print("graph: ok")

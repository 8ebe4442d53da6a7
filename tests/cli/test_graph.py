#!/usr/bin/python3
"""asenetctl graph (issue 7 point 6): the picture names what the topology
holds, wired as the topology says, and Graphviz renders it.
- DOT: every subnet with its prefix, each ASE with its VIP and instances
  (a down instance marked), each NSG attached to its subnet or NIC, each route
  table to its subnet with its routes, the gateway with its BGP prefixes, and
  the three ports; the internet port leads to the VIP.
- SVG (Graphviz's dot) is well-formed XML holding the same names.
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
instances = ["10.0.1.4", "10.0.1.5"]
down = ["10.0.1.5"]
[[hosts]]
name = "sql"
ip = "10.0.2.4"
nsg = "sql-nsg"
[[nsgs]]
name = "ase-nsg"
[[nsgs]]
name = "sql-nsg"
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

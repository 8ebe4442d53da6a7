#!/usr/bin/python3
"""asenetctl doctor (issue 4): it reports the forced-tunnel breakage, the
documented fix, a blocked 454/455 NSG and a squatting VM, each with the route
or rule responsible, and exits 0 healthy / 1 unhealthy / 2 bad input.
usage: test_doctor.py ASENETCTL SOURCE_ROOT"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

asenetctl, root = sys.argv[1], sys.argv[2]
golden = os.path.join(root, "tests", "golden")
failures = []


def doctor(path):
    r = subprocess.run([asenetctl, "doctor", "--topology", path, "--json"], capture_output=True, text=True)
    return r.returncode, (json.loads(r.stdout) if r.stdout.strip() else None), r.stderr


def problems(report):
    return [f["detail"] for a in report["ases"] for f in a["findings"] if not f["ok"]]


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + detail))
    if not cond:
        failures.append(name)


rc, rep, _ = doctor(os.path.join(golden, "021_forced_tunnel_broken", "topology.toml"))
p = problems(rep)
check("forced tunnel: unhealthy", rc == 1 and rep["healthy"] is False, str(rc))
check("forced tunnel: management answers are asymmetric, naming the route",
      any("asymmetric" in x and "0.0.0.0/0, Gateway Route" in x for x in p), "\n".join(p))
check("forced tunnel: SQL forced on-premises without the VIP", any("SQL" in x and "on-premises" in x for x in p), "\n".join(p))

rc, rep, _ = doctor(os.path.join(golden, "022_forced_tunnel_fixed", "topology.toml"))
check("the documented fix: healthy", rc == 0 and rep["healthy"] is True and not problems(rep), json.dumps(rep))

rc, rep, _ = doctor(os.path.join(golden, "024_ase_subnet_squatter", "topology.toml"))
p = problems(rep)
check("squatting VM: unhealthy, named", rc == 1 and any("'squatter'" in x and "10.0.1.20" in x for x in p), "\n".join(p))

tmp = tempfile.mkdtemp(prefix="asenet-doctor-")
try:
    # A custom deny-all above the default rules (the GH-115138 pattern). (With a
    # UDR for 0.0.0.0/0 the Internet tag is empty, so "deny Internet" would not
    # catch anything here: the contract's VirtualNetwork tag covers everything.)
    topo = os.path.join(tmp, "blocked.toml")
    with open(topo, "w") as f:
        f.write(open(os.path.join(golden, "022_forced_tunnel_fixed", "topology.toml")).read().replace(
            'route_table = "ase-rt"', 'route_table = "ase-rt"\nnsg = "ase-nsg"', 1) + '''
[[nsgs]]
name = "ase-nsg"
[[nsgs.rules]]
name = "DenyEverything"
priority = 4000
direction = "Inbound"
access = "Deny"
protocol = "*"
source_address_prefixes = "*"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "*"
''')
    rc, rep, err = doctor(topo)
    p = problems(rep) if rep else [err]
    check("blocked 454/455: unhealthy, naming the NSG rule",
          rc == 1 and any("454" in x and "NSG 'ase-nsg' rule securityRules/DenyEverything" in x for x in p), "\n".join(p))
    bad = os.path.join(tmp, "bad.toml")
    with open(bad, "w") as f:
        f.write("[vnet\n")
    rc, rep, err = doctor(bad)
    check("bad topology exits 2", rc == 2 and "bad.toml:1:" in err, err)
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print("%d failed" % len(failures))
sys.exit(1 if failures else 0)

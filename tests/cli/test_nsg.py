#!/usr/bin/python3
"""asenetctl nsg analyze and nsg diff (issue 17, sections 3 and 4), through the
CLI as users run them: the planted findings of config/examples/nsg-review.toml
and the planted change in nsg-review-proposed.toml are reported, every example
packet gets from `asenetctl verify` the verdict and rule the finding states
(the verify command printed is run as printed), a capture's flows are judged
on both sides, bad input exits 2.
usage: test_nsg.py ASENETCTL SOURCE_ROOT"""

import json
import os
import shlex
import subprocess
import sys
import tempfile

asenetctl, root = sys.argv[1], sys.argv[2]
sys.path.insert(0, "/usr/lib/python3/dist-packages")
from scapy.all import IP, TCP, Ether, wrpcap  # noqa: E402

examples = os.path.join(root, "config", "examples")
review = os.path.join(examples, "nsg-review.toml")
proposed = os.path.join(examples, "nsg-review-proposed.toml")
failures = []
passes = []


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + str(detail)[:2000]))
    (passes if cond else failures).append(name)


def run(*args):
    return subprocess.run([asenetctl, *args], capture_output=True, text=True)


def verify_printed(command):
    """Runs a printed `asenetctl verify ...` line with --json; (access, ruleName, nsg)."""
    argv = shlex.split(command)
    assert argv[0] == "asenetctl" and argv[1] == "verify", command
    r = run(*argv[1:], "--json")
    if r.returncode != 0:
        return ("rc %d" % r.returncode, r.stderr, None)
    j = json.loads(r.stdout)
    return (j["access"], j["ruleName"], j["nsg"])


# --- analyze -----------------------------------------------------------------
r = run("nsg", "analyze", "--topology", review, "--json")
check("analyze: exit 0 with findings", r.returncode == 0, r.stderr)
rep = json.loads(r.stdout)
kinds = {(f["kind"], f["rule"]) for f in rep["findings"]}
for kind, rule in [("shadowed", "AllowHttpsToSubnet"), ("conflicting", "DenyBadNet"), ("conflicting", "AllowHttp"),
                   ("redundant", "AllowVnet"), ("never-matches", "AllowLegacyApp"), ("masked", "AllowRdpFromInternet")]:
    check("analyze: planted %s %s found" % (kind, rule), (kind, "securityRules/" + rule) in kinds, sorted(kinds))
check("analyze: a rule that does its job is no finding",
      not any(f["rule"] == "securityRules/AllowMgmt" for f in rep["findings"]), sorted(kinds))
checked = 0
for f in rep["findings"]:
    ex = f["example"]
    if ex is None:
        continue
    got = verify_printed(ex["verify"])
    check("analyze: verify agrees with the %s %s example" % (f["kind"], f["rule"]),
          got == (ex["access"], ex["ruleName"], ex["nsg"]), (got, ex))
    checked += 1
check("analyze: examples checked", checked >= 7, checked)
x = rep["exposure"][0]
ports = {(p["protocol"], p["ports"]): p for p in x["from_internet"]}
check("analyze: HTTPS open to every Internet address, served by the VIP",
      ports.get(("TCP", "443-443"), {}).get("every_source") is True and ports[("TCP", "443-443")]["served_by_vip"], ports)
check("analyze: management open to the two AppServiceManagement addresses only",
      ports.get(("TCP", "454-455"), {}).get("sources") == 2, ports)
check("analyze: doctor's management verdicts beside the exposure", all(m["ok"] for m in x["management"]) and x["management"], x)
lim = {l["nsg"]: l for l in rep["limits"]}
check("analyze: limits per NSG, with rte_acl expansion",
      lim["ase-nsg"]["rules"] == 7 and lim["ase-nsg"]["rule_limit"] == 1000 and lim["ase-nsg"]["acl_rules"] > 7, lim)

r = run("nsg", "analyze", "--topology", review, "--nsg", "data-nsg", "--json")
one = json.loads(r.stdout)
check("analyze --nsg: only that NSG", r.returncode == 0 and {f["nsg"] for f in one["findings"]} <= {"data-nsg"}
      and [l["nsg"] for l in one["limits"]] == ["data-nsg"], r.stdout[:500])
r = run("nsg", "analyze", "--topology", review)
check("analyze: the text report names rules and prints verify commands",
      r.returncode == 0 and "shadowed: securityRules/AllowHttpsToSubnet" in r.stdout and "check:   asenetctl verify" in r.stdout,
      r.stdout[:1500])
r = run("nsg", "analyze", "--topology", review, "--nsg", "nope")
check("analyze --nsg unknown: exit 2 naming it", r.returncode == 2 and "nope" in r.stderr, r.stderr)

tmp = tempfile.mkdtemp(prefix="asenet-nsg-")
bad = os.path.join(tmp, "bad.toml")
with open(bad, "w") as f:
    f.write('[vnet]\nname = "vnet"\naddress_space = ["10.0.0.0/16"]\n[[subnets]]\nname = "s"\nprefix = "10.0.1.0/24"\nnsg = "missing"\n')
r = run("nsg", "analyze", "--topology", bad)
check("analyze: a bad topology exits 2 with file:line:col", r.returncode == 2 and bad + ":7:" in r.stderr, r.stderr)
for sub in ("analyze", "diff"):
    r = run("nsg", sub, "--help")
    check("nsg %s --help" % sub, r.returncode == 0 and "usage: asenetctl nsg " + sub in r.stdout, r.stdout[:300])
r = run("nsg")
check("nsg without a subcommand: exit 2 with usage", r.returncode == 2 and "nsg analyze" in r.stderr, r.stderr)

# --- diff ----------------------------------------------------------------------
r = run("nsg", "diff", "--topology", review, "--against", proposed, "--json")
check("diff: exit 0", r.returncode == 0, r.stderr)
d = json.loads(r.stdout)
changes = sorted((g["change"], g["a"]["ruleName"], g["b"]["ruleName"]) for g in d["regions"])
check("diff: exactly the two planted changes", changes == [
    ("Allow->Deny", "securityRules/AllowHttps", "defaultSecurityRules/DenyAllInBound"),
    ("Deny->Allow", "securityRules/DenyBadNet", "securityRules/AllowHttp")], changes)
for g in d["regions"]:
    a_access, b_access = g["change"].split("->")
    check("diff: verify on A agrees (%s)" % g["change"], verify_printed(g["a"]["verify"])[:2] == (a_access, g["a"]["ruleName"]),
          (verify_printed(g["a"]["verify"]), g))
    check("diff: verify on B agrees (%s)" % g["change"], verify_printed(g["b"]["verify"])[:2] == (b_access, g["b"]["ruleName"]),
          (verify_printed(g["b"]["verify"]), g))
r = run("nsg", "diff", "--topology", review, "--against", review, "--json")
check("diff: a rule set against itself changes nothing", r.returncode == 0 and json.loads(r.stdout)["regions"] == [], r.stdout[:300])

# A capture of three flows to the VIP, one packet back each: the first two change.
cap = os.path.join(tmp, "flows.pcap")
vip = "192.23.1.2"
pkts = []
for src, port in [("8.8.8.8", 443), ("203.0.113.10", 80), ("198.51.100.10", 443)]:
    pkts.append(Ether() / IP(src=src, dst=vip) / TCP(sport=50000, dport=port, flags="S"))
    pkts.append(Ether() / IP(src=vip, dst=src) / TCP(sport=port, dport=50000, flags="SA"))
wrpcap(cap, pkts)
r = run("nsg", "diff", "--topology", review, "--against", proposed, "--pcap", cap, "--json")
p = json.loads(r.stdout).get("pcap", {}) if r.returncode == 0 else {}
check("diff --pcap: flows counted, both directions as one", p.get("flows") == 3 and p.get("packets") == 6, p)
got = sorted((c["packet"]["source"], c["a"]["access"], c["b"]["access"], c["first_packet"], c["packets"]) for c in p.get("flows_changed", []))
check("diff --pcap: the HTTPS flow from the Internet and the HTTP flow from 203.0.113.0/24 change, nothing else",
      got == [("203.0.113.10", "Deny", "Allow", 3, 2), ("8.8.8.8", "Allow", "Deny", 1, 2)], got)
check("diff --pcap: both rules named",
      any(c["a"]["rule"] == "ase-nsg securityRules/AllowHttps" and c["b"]["rule"] == "ase-nsg defaultSecurityRules/DenyAllInBound"
          for c in p.get("flows_changed", [])), p)
r = run("nsg", "diff", "--topology", review, "--against", proposed, "--pcap", os.path.join(tmp, "absent.pcap"))
check("diff --pcap missing file: exit 2", r.returncode == 2 and "absent.pcap" in r.stderr, r.stderr)
r = run("nsg", "diff", "--topology", review, "--against", proposed, "--pcap", cap)
check("diff: the text report, one screen", r.returncode == 0 and "Allow -> Deny" in r.stdout and "2 change verdict" in r.stdout, r.stdout)

print("%d passed, %d failed" % (len(passes), len(failures)))
sys.exit(1 if failures else 0)

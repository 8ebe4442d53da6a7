#!/usr/bin/python3
"""asenetctl import (issue 17, section 1): Azure CLI and ARM JSON, in any order
and mix, become one topology that validate accepts, with the associations the
JSON states and DEFAULT comments where it is silent; NSGs Azure would refuse
import with a warning and enforce_limits = false; unknown types are listed and
skipped; malformed files exit 2 naming the file and the JSON path, writing
nothing. Uses ../shared/testdata/azure when present (skips those checks when not).
usage: test_import.py ASENETCTL SOURCE_ROOT"""

import glob
import json
import os
import subprocess
import sys
import tempfile

asenetctl, root = sys.argv[1], sys.argv[2]
azure = os.path.join(root, "config", "examples", "azure")
testdata = os.path.join(root, "..", "shared", "testdata", "azure")
failures, passes = [], []


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + str(detail)[:2000]))
    (passes if cond else failures).append(name)


def run(*args):
    return subprocess.run([asenetctl, *args], capture_output=True, text=True)


def verify(topo, direction, proto, local, remote):
    r = run("verify", "--topology", topo, "--direction", direction, "--protocol", proto, "--local", local,
            "--remote", remote, "--json")
    return json.loads(r.stdout) if r.returncode == 0 else {"rc": r.returncode, "err": r.stderr}


tmp = tempfile.mkdtemp(prefix="asenet-import-")
files = sorted(glob.glob(os.path.join(azure, "*.json")))
out = os.path.join(tmp, "review.toml")
r = run("import", "--out", out, *files)
check("import: the example Azure JSON imports", r.returncode == 0 and os.path.exists(out), r.stderr)
check("import: unknown resource types listed and skipped",
      "skipped: " + os.path.join(azure, "public-ip.json") + ": Microsoft.Network/publicIPAddresses" in r.stderr, r.stderr)
text = open(out).read() if os.path.exists(out) else ""
r = run("validate", "--topology", out)
check("import: validate accepts what import wrote", r.returncode == 0, r.stderr)
for needle in ['name = "ase-subnet"\nprefix = "10.0.1.0/24"\nnsg = "ase-nsg"\nroute_table = "ase-rt"',
               'public_vip = "192.23.1.2"', 'name = "db"\nip = "10.0.2.4"\nnsg = "db-nic-nsg"',
               'bgp_routes = ["172.16.0.0/12"]', 'era = "current"', "# DEFAULT: Azure's JSON does not list instances"]:
    check("import: wrote %r" % needle.split("\n")[-1], needle in text, text)
check("import: the route table with its route", 'address_prefix = "172.16.0.0/12"\nnext_hop_type = "VirtualNetworkGateway"' in text, text)
# The rules as Azure holds them: verify answers with the exported rule names.
v = verify(out, "Inbound", "TCP", "10.0.1.4:80", "203.0.113.10:50000")
check("import: rules keep their order and names (DenyBadNet decides)", v.get("ruleName") == "securityRules/DenyBadNet", v)
v = verify(out, "Inbound", "TCP", "10.0.2.4:1433", "10.0.1.4:50000")
check("import: subnet and NIC NSGs both on the host's path",
      v.get("access") == "Allow" and [e["nsg"] for e in v.get("evaluations", [])] == ["data-nsg", "db-nic-nsg"], v)
# Any order: the same topology (the header lists the files in the order given).
out2 = os.path.join(tmp, "reversed.toml")
run("import", "--out", out2, *reversed(files))
body = lambda t: "\n".join(l for l in t.splitlines() if not l.startswith("#"))
check("import: file order does not matter", os.path.exists(out2) and body(open(out2).read()) == body(text))
r = run("nsg", "analyze", "--topology", out, "--json")
check("import: nsg analyze works on an imported topology",
      r.returncode == 0 and json.loads(r.stdout)["summary"]["shadowed"] == 1, r.stdout[:300])

# An ARM template: parameters, variables and resourceId() resolve the names and associations.
tpl = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "parameters": {"nsgName": {"type": "string", "defaultValue": "web-nsg"}},
    "variables": {"vnetName": "tpl-vnet"},
    "resources": [
        {"type": "Microsoft.Network/virtualNetworks", "name": "[variables('vnetName')]", "apiVersion": "2022-07-01",
         "properties": {"addressSpace": {"addressPrefixes": ["10.5.0.0/16"]}, "subnets": [
             {"name": "web", "properties": {"addressPrefix": "10.5.1.0/24", "networkSecurityGroup": {
                 "id": "[resourceId('Microsoft.Network/networkSecurityGroups', parameters('nsgName'))]"}}}]}},
        {"type": "Microsoft.Network/networkSecurityGroups", "name": "[parameters('nsgName')]",
         "properties": {"securityRules": [{"name": "AllowWeb", "properties": {
             "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp", "sourceAddressPrefix": "Internet",
             "sourcePortRange": "*", "destinationAddressPrefix": "*", "destinationPortRange": "443"}}]}},
        {"type": "Microsoft.Network/networkSecurityGroups/securityRules", "name": "[concat(parameters('nsgName'), '/AllowWeb')]",
         "properties": {}},
        {"type": "Microsoft.Storage/storageAccounts", "name": "logs"},
    ]}
tp = os.path.join(tmp, "template.json")
json.dump(tpl, open(tp, "w"))
out3 = os.path.join(tmp, "tpl.toml")
r = run("import", "--out", out3, tp)
t3 = open(out3).read() if os.path.exists(out3) else ""
check("import: an ARM template's expressions resolve (names, resourceId associations)",
      r.returncode == 0 and 'name = "tpl-vnet"' in t3 and 'nsg = "web-nsg"' in t3, r.stderr + t3)
check("import: a template's storage account is listed as skipped", "Microsoft.Storage/storageAccounts logs" in r.stderr, r.stderr)
check("import: a rule repeated as a child resource is read once", t3.count('name = "AllowWeb"') == 1, t3)

# Malformed input: exit 2, file and JSON path (or line:col), nothing written.
bad = os.path.join(tmp, "bad.json")
open(bad, "w").write('{\n  "name": "v",\n  "type": "Microsoft.Network/virtualNetworks",\n  "addressSpace": {"addressPrefixes": [1, 2]\n')
out4 = os.path.join(tmp, "never.toml")
r = run("import", "--out", out4, bad)
check("import: invalid JSON exits 2 with file:line:col", r.returncode == 2 and r.stderr.startswith(bad + ":5:"), r.stderr)
check("import: nothing written on error", not os.path.exists(out4))
open(bad, "w").write(json.dumps([{"name": "vnet1", "type": "Microsoft.Network/virtualNetworks",
                                   "addressSpace": {"addressPrefixes": ["10.0.0.0/16", 7]}}]))
r = run("import", "--out", out4, bad)
check("import: a wrong field exits 2 naming the JSON path",
      r.returncode == 2 and bad in r.stderr and "[0].addressSpace.addressPrefixes[1]" in r.stderr, r.stderr)
open(bad, "w").write(json.dumps({"type": "Microsoft.Network/networkSecurityGroups", "name": "n",
                                  "securityRules": [{"name": "r", "priority": 100, "direction": "Sideways", "access": "Allow",
                                                     "protocol": "Tcp", "sourceAddressPrefix": "*", "sourcePortRange": "*",
                                                     "destinationAddressPrefix": "*", "destinationPortRange": "22"}]}))
r = run("import", "--out", out4, bad)
check("import: a bad rule exits 2 naming the rule's path", r.returncode == 2 and "securityRules[0].direction" in r.stderr, r.stderr)
nic = json.load(open(os.path.join(azure, "nic-db.json")))
nic["ipConfigurations"][0]["privateIPAddress"] = "10.0.2.999"
nicbad = os.path.join(tmp, "nic-bad.json")
json.dump({"value": [nic]}, open(nicbad, "w"))
r = run("import", "--out", out4, os.path.join(azure, "vnet.json"), nicbad)
check("import: a value a topology may not hold exits 2 naming the file and the resource's JSON path",
      r.returncode == 2 and r.stderr.startswith(nicbad + ":1:1: value[0]: '10.0.2.999' is not an IPv4 address"), r.stderr)
r = run("import", "--out", out4, os.path.join(tmp, "absent.json"))
check("import: a missing file exits 2", r.returncode == 2 and "absent.json" in r.stderr, r.stderr)
r = run("import", "--out", out4, os.path.join(azure, "nsg-list.json"))
check("import: NSGs without their VNet: exit 2 saying so", r.returncode == 2 and "virtualNetworks" in r.stderr, r.stderr)
r = run("import", "--help")
check("import --help", r.returncode == 0 and "usage: asenetctl import --out" in r.stdout, r.stdout[:200])

# Azure's own exports (../shared/testdata/azure), when present.
exports = os.path.join(testdata, "nsg-exports", "test-nsg")
if os.path.isdir(exports):
    out5 = os.path.join(tmp, "test-nsg.toml")
    r = run("import", "--out", out5, *sorted(glob.glob(os.path.join(exports, "*.json"))))
    t5 = open(out5).read() if os.path.exists(out5) else ""
    check("testdata: the test-nsg export imports", r.returncode == 0 and run("validate", "--topology", out5).returncode == 0, r.stderr)
    check("testdata: priority 5 imports with a warning and enforce_limits = false",
          "enforce_limits = false" in t5 and "priority outside Azure's 100-4096" in r.stderr, r.stderr)
    check("testdata: virtual machines listed as skipped", "Microsoft.Compute/virtualMachines" in r.stderr, r.stderr)
    check("testdata: NICs become hosts with their NIC NSG, subnets their NSG by id",
          'name = "VM2"\nip = "10.0.1.5"\nnsg = "testNsg"' in t5 and 'nsg = "testNsgSubnet"' in t5, t5)
    v = verify(out5, "Inbound", "TCP", "10.0.1.5:22", "10.0.1.6:50000")
    check("testdata: the export's own rule decides (SSH from VM3 to VM2 denied)",
          v.get("access") == "Deny" and v.get("ruleName") == "securityRules/DenySSHFromVm3ToVm2", v)
    r = run("nsg", "analyze", "--topology", out5, "--json")
    rep = json.loads(r.stdout) if r.returncode == 0 else {}
    check("testdata: nsg analyze on the imported export: both NSGs, their limits, no NSG left out",
          sorted(l["nsg"] for l in rep.get("limits", [])) == ["testNsg", "testNsgSubnet"] and rep.get("incomplete") == [], r.stdout[:500])
    for f in rep.get("findings", []):
        if f["example"]:
            v = subprocess.run([asenetctl] + f["example"]["verify"].split()[1:] + ["--json"], capture_output=True, text=True)
            got = json.loads(v.stdout) if v.returncode == 0 else {}
            check("testdata: verify agrees with the %s finding on %s" % (f["kind"], f["rule"]),
                  (got.get("access"), got.get("ruleName")) == (f["example"]["access"], f["example"]["ruleName"]), (got, f))
    tplf = os.path.join(testdata, "templates", "quickstart_asev2_ilb", "prereq.azuredeploy.json")
    r = run("import", "--out", "-", tplf)
    check("testdata: the ASEv2 quickstart template's variables resolve", r.returncode == 0 and 'name = "vnet01"' in r.stdout
          and 'name = "subnet01"' in r.stdout, r.stderr)
else:
    print("skip testdata: ../shared/testdata/azure is absent")

print("%d passed, %d failed" % (len(passes), len(failures)))
sys.exit(1 if failures else 0)

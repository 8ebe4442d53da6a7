#!/usr/bin/python3
"""The command-line contract (contract sections 1 and 3): bad input exits 2 with
one line naming the file (and line:col for TOML); --help works; a replay of the
demo produces captures tshark can read and a summary whose counts add up.
usage: test_cli.py ASENETCTL ASENETD SOURCE_ROOT"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

asenetctl, asenetd, root = sys.argv[1], sys.argv[2], sys.argv[3]
tmp = tempfile.mkdtemp(prefix="asenet-cli-")
failures = []


def run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=120, **kw)


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + detail))
    if not cond:
        failures.append(name)


def write(name, text, mode="w"):
    p = os.path.join(tmp, name)
    with open(p, mode) as f:
        f.write(text)
    return p


topo = os.path.join(root, "config", "examples", "public-vip-ase.toml")
demo = {s: os.path.join(root, "pcaps", "demo", s + ".pcap") for s in ("internet", "vnet", "onprem")}
try:
    for args in ([asenetctl, "--help"], [asenetctl, "replay", "--help"], [asenetctl, "validate", "--help"],
                 [asenetd, "--help"]):
        r = run(args)
        check("help: " + " ".join(os.path.basename(a) for a in args), r.returncode == 0 and "usage" in r.stdout,
              r.stdout + r.stderr)

    bad = write("bad.toml", '[vnet]\nname = "vvnet"\naddress_space = "10.0.0.0/16"\n[[subnets]]\nname = "s"\nprefix = "10.1.0.0/24"\n')
    r = run([asenetctl, "validate", "--topology", bad])
    line = r.stderr.strip()
    check("bad topology exits 2", r.returncode == 2, str(r.returncode))
    check("bad topology message is file:line:col: path: message on one line",
          re.fullmatch(re.escape(bad) + r":6:10: subnets\[0\]\.prefix: .*outside the VNet.*", line) is not None, line)
    r = run([asenetctl, "replay", "--topology", bad, "--in", "internet=" + demo["internet"], "--out-dir", tmp + "/o1"])
    check("replay with a bad topology exits 2 and writes nothing", r.returncode == 2 and not os.path.exists(tmp + "/o1"),
          r.stderr)
    r = run([asenetd, "--no-huge", "--no-shconf", "--no-pci", "--log-level=error", "--file-prefix", "cli-%d" % os.getpid(),
             "--", "--topology", bad])
    check("asenetd with a bad topology exits 2", r.returncode == 2 and "outside the VNet" in r.stderr, r.stderr)
    shutil.rmtree("/var/run/dpdk/cli-%d" % os.getpid(), ignore_errors=True)

    r = run([asenetctl, "replay", "--topology", topo, "--in", "internet=/nonexistent.pcap", "--out-dir", tmp + "/o2"])
    check("missing pcap exits 2 naming it", r.returncode == 2 and "/nonexistent.pcap" in r.stderr, r.stderr)
    garbage = write("garbage.pcap", "this is not a capture\n")
    r = run([asenetctl, "replay", "--topology", topo, "--in", "vnet=" + garbage, "--out-dir", tmp + "/o3"])
    check("unreadable pcap exits 2 naming it", r.returncode == 2 and garbage in r.stderr, r.stderr)
    # A pcap whose link type is raw IP (101), not Ethernet.
    raw = write("raw.pcap", b"\xd4\xc3\xb2\xa1\x02\x00\x04\x00" + b"\x00" * 8 + b"\xff\xff\x00\x00" + b"\x65\x00\x00\x00", "wb")
    r = run([asenetctl, "replay", "--topology", topo, "--in", "vnet=" + raw, "--out-dir", tmp + "/o4"])
    check("non-Ethernet pcap exits 2", r.returncode == 2 and "not Ethernet" in r.stderr, r.stderr)
    r = run([asenetctl, "replay", "--topology", topo, "--in", "moon=" + demo["vnet"], "--out-dir", tmp + "/o5"])
    check("unknown side exits 2", r.returncode == 2 and "moon" in r.stderr, r.stderr)
    r = run([asenetctl, "replay", "--topology", topo, "--bogus"])
    check("unknown flag exits 2", r.returncode == 2, r.stderr)
    r = run([asenetctl, "frobnicate"])
    check("unknown command exits 2", r.returncode == 2, r.stderr)

    # verify (contract section 3): the JSON document and its rule-name forms.
    def verify(*args):
        r = run([asenetctl, "verify", "--json"] + list(args))
        return r.returncode, (json.loads(r.stdout) if r.returncode == 0 else r.stderr)

    rc, v = verify("--topology", topo, "--direction", "Inbound", "--protocol", "TCP",
                   "--local", "10.0.1.4:454", "--remote", "70.37.57.58:50000")
    check("verify: management allowed by the user rule",
          rc == 0 and v["access"] == "Allow" and v["ruleName"] == "securityRules/AllowMgmt" and v["nsg"] == "ase-one-nsg", str(v))
    rc, v = verify("--topology", topo, "--direction", "Inbound", "--protocol", "UDP",
                   "--local", "10.0.1.4:454", "--remote", "70.37.57.58:50000")
    check("verify: UDP falls to DenyAllInBound",
          rc == 0 and v["access"] == "Deny" and v["ruleName"] == "defaultSecurityRules/DenyAllInBound", str(v))
    rc, v = verify("--topology", topo, "--direction", "Inbound", "--protocol", "TCP",
                   "--local", "10.0.2.4:1433", "--remote", "10.0.1.5:50000")
    check("verify: subnet without NSG, then the NIC NSG",
          rc == 0 and v["nsg"] == "sql-nic-nsg" and v["ruleName"] == "securityRules/AllowSqlFromAse"
          and len(v["evaluations"]) == 1, str(v))
    rc, v = verify("--topology", topo, "--direction", "Outbound", "--protocol", "TCP",
                   "--local", "10.0.2.9:50000", "--remote", "8.8.8.8:443")
    check("verify: no NSG on the path", rc == 0 and v["access"] == "Allow" and v["nsg"] is None
          and v["ruleName"] is None, str(v))
    rc, v = verify("--topology", topo, "--direction", "Outbound", "--protocol", "TCP",
                   "--local", "192.168.1.1:1", "--remote", "8.8.8.8:443")
    check("verify: a local address in no subnet exits 2", rc == 2 and "no subnet" in v, str(v))
    # A TCP or UDP flow without a port is a question not asked (issue 17): exit 2 naming the option.
    rc, v = verify("--topology", topo, "--direction", "Inbound", "--protocol", "TCP",
                   "--local", "10.0.1.4", "--remote", "70.37.57.58:50000")
    check("verify: TCP without a --local port exits 2 naming it", rc == 2 and "--local '10.0.1.4' has no port" in v, str(v))
    rc, v = verify("--topology", topo, "--direction", "Outbound", "--protocol", "UDP",
                   "--local", "10.0.1.4:5000", "--remote", "8.8.8.8")
    check("verify: UDP without a --remote port exits 2 naming it", rc == 2 and "--remote '8.8.8.8' has no port" in v, str(v))
    rc, v = verify("--topology", topo, "--direction", "Inbound", "--protocol", "TCP",
                   "--local", "10.0.1.4:*", "--remote", "70.37.57.58:*")
    check("verify: IP:* asks for any port", rc == 0 and v["access"] in ("Allow", "Deny"), str(v))
    rc, v = verify("--topology", topo, "--direction", "Outbound", "--protocol", "ICMP",
                   "--local", "10.0.1.4", "--remote", "8.8.8.8")
    check("verify: ICMP needs no port", rc == 0 and v["access"] in ("Allow", "Deny"), str(v))
    r = run([asenetctl, "validate", "--topology", os.path.join(root, "tests", "unit", "data", "nsg-az-cli.json")])
    check("validate on an Azure JSON export says it is JSON and where to use it",
          r.returncode == 2 and ":1:1: this is JSON, not a topology" in r.stderr and "nsg_file" in r.stderr
          and "verify --nsg-json" in r.stderr, r.stderr)
    rc, v = verify("--nsg-json", os.path.join(root, "tests", "unit", "data", "nsg-az-cli.json"),
                   "--vnet-prefix", "10.0.0.0/16", "--direction", "Outbound", "--protocol", "UDP",
                   "--local", "10.0.0.4:5000", "--remote", "8.8.8.8:53")
    check("verify --nsg-json: an exported NSG alone", rc == 0 and v["access"] == "Deny"
          and v["ruleName"] == "securityRules/NoPublicDns" and v["nsg"] == "web-nsg", str(v))

    out = os.path.join(tmp, "demo")
    r = run([asenetctl, "replay", "--topology", topo, "--out-dir", out, "--trace"]
            + sum((["--in", "%s=%s" % (s, p)] for s, p in demo.items()), []))
    check("demo replay exits 0", r.returncode == 0, r.stdout + r.stderr)
    s = json.load(open(os.path.join(out, "summary.json")))
    n_out = sum(s["packets_out"].values())
    check("demo summary adds up", s["packets_in"] == s["packets_forwarded"] + s["packets_dropped"]
          and s["packets_dropped"] == sum(s["drops"].values()) and n_out == s["packets_forwarded"], json.dumps(s))
    trace = [json.loads(l) for l in open(os.path.join(out, "trace.jsonl"))]
    check("trace has one line per input packet", len(trace) == s["packets_in"]
          and [t["index"] for t in trace] == list(range(len(trace))), str(len(trace)))
    # --trace-filter: tcpdump's language on each frame as it arrived. The
    # expectation is scapy's count of UDP frames on each side.
    from scapy.all import UDP, rdpcap
    want = {side: sum(1 for p in rdpcap(path) if UDP in p) for side, path in demo.items()}
    outf = os.path.join(tmp, "demo-udp")
    r = run([asenetctl, "replay", "--topology", topo, "--out-dir", outf, "--trace-filter", "udp"]
            + sum((["--in", "%s=%s" % (s, p)] for s, p in demo.items()), []))
    kept = [json.loads(l) for l in open(os.path.join(outf, "trace.jsonl"))] if r.returncode == 0 else []
    got = {side: sum(1 for t in kept if t["in_port"] == side) for side in demo}
    check("replay --trace-filter udp keeps the UDP frames of each side, with their indices",
          r.returncode == 0 and got == want and sum(want.values()) > 0
          and all(trace[t["index"]] == t for t in kept), "%s vs %s %s" % (got, want, r.stderr))
    r = run([asenetctl, "replay", "--topology", topo, "--out-dir", os.path.join(tmp, "o-bad"), "--trace-filter", "tcp port",
             "--in", "internet=" + demo["internet"]])
    check("replay --trace-filter with a bad expression exits 2", r.returncode == 2 and "not a valid filter" in r.stderr,
          r.stderr)
    if shutil.which("tshark"):
        total = 0
        for side in ("internet", "vnet", "onprem"):
            r = run(["tshark", "-r", os.path.join(out, side + ".pcap")])
            check("tshark reads %s.pcap" % side, r.returncode == 0, r.stderr)
            total += len([l for l in r.stdout.splitlines() if l.strip()])
        check("tshark sees every forwarded packet", total == n_out, "%d vs %d" % (total, n_out))
    else:
        print("skip tshark checks: tshark is not installed")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print("%d failed" % len(failures))
sys.exit(1 if failures else 0)

#!/usr/bin/python3
"""One generation on a pool of asenetd nodes (issue 20, item 3): `asenetctl
push --socket A --socket B` in two phases.
- Two nodes on null devices, A started with MTU 9000, B with 1500: their
  spec hashes differ. A is pushed twice alone (generation 3), B not (1).
- A pool push of one topology: both nodes end on generation 4, one above the
  highest, with the same spec_hash in stats (JSON and Prometheus
  asenet_spec_info), and the hash is the one a single-node push of the same
  topology gives (it does not depend on the generation number).
- A pool push that B refuses (MTU 9000 is above what B started with): exit 2
  naming B, A drops what it prepared, and both stay on generation 4 with
  their hashes unchanged; A's log says the push was aborted.
- One health verdict given to both nodes (asenetctl health with two
  sockets): both mark the instance down, generation unchanged.
- A dry run prints each node's plan and changes nothing.
- A commit under a token nobody prepared is refused; its generation stays.
- One prober per instance: node P probes (probe_port, 1 s; nothing answers
  on null devices, so its instances go down), node F runs --no-probes and
  keeps them up until `asenetctl health-relay --from P --socket F` gives it
  P's verdicts, one line each; a second round finds nothing to send.
usage: pool_push.py ASENETD ASENETCTL"""

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

asenetd, asenetctl = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="asenet-pool-")
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "config", "examples",
                       "public-vip-ase.toml")
base = re.sub(r'"net_pcap(\d)"', r'"net_null\1,no-rx=1"', open(EXAMPLE).read())
cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))


def topology(name, mtu=None, extra=""):
    """The example on null devices, with [emulator] mtu when given."""
    text = base.replace('era = "2016"', 'era = "2016"' + ("\nmtu = %d" % mtu if mtu else "")) + extra
    path = os.path.join(tmp, name + ".toml")
    with open(path, "w") as f:
        f.write(text)
    return path


def start(name, topo, *extra):
    sock = os.path.join(tmp, name + ".sock")
    d = subprocess.Popen([asenetd, "--lcores", "(0-1)@(%s)" % cpus, "--no-huge", "--no-shconf", "-m", "256",
                          "--no-pci", "--log-level=error", "--file-prefix", "asenet-pool-%s-%d" % (name, os.getpid()),
                          "--", "--topology", topo, "--control-socket", sock, "--idle-sleep", "200"] + list(extra),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(300):
        if os.path.exists(sock) or d.poll() is not None:
            break
        time.sleep(0.1)
    assert d.poll() is None, "asenetd %s did not start: %s" % (name, d.stderr.read())
    return d, sock


def ctl(*args):
    return subprocess.run([asenetctl] + list(args), capture_output=True, text=True, timeout=120)


def stats(sock):
    r = ctl("stats", "--socket", sock, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def frame(t, payload):
    return struct.pack("<IHHI", 0x544e5341, 1, t, len(payload)) + payload


nodes = []
try:
    a_topo, b_topo = topology("a", mtu=9000), topology("b")
    a, sock_a = start("a", a_topo)
    nodes.append(a)
    b, sock_b = start("b", b_topo)
    nodes.append(b)
    ha, hb = stats(sock_a)["spec_hash"], stats(sock_b)["spec_hash"]
    assert re.fullmatch(r"fnv1a64:[0-9a-f]{16}", ha) and ha != hb, (ha, hb)
    for _ in range(2):
        r = ctl("push", "--socket", sock_a, "--topology", a_topo)
        assert r.returncode == 0, r.stderr
    assert stats(sock_a)["generation"] == 3 and stats(sock_a)["spec_hash"] == ha  # the hash ignores the number
    assert stats(sock_b)["generation"] == 1
    print("two nodes, generations 3 and 1, hashes %s and %s: ok" % (ha, hb))

    pool = topology("pool", extra='\n[[nsgs]]\nname = "spare-nsg"\n')
    r = ctl("push", "--socket", sock_a, "--socket", sock_b, "--topology", pool)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)
    assert "generation 4 live on all 2 nodes" in r.stdout, r.stdout
    sa, sb = stats(sock_a), stats(sock_b)
    assert sa["generation"] == sb["generation"] == 4, (sa["generation"], sb["generation"])
    assert sa["spec_hash"] == sb["spec_hash"] and sa["spec_hash"] not in (ha, hb), (sa["spec_hash"], ha, hb)
    prom = ctl("stats", "--socket", sock_b, "--format", "prometheus").stdout
    assert 'asenet_spec_info{spec_hash="%s"} 1\n' % sa["spec_hash"] in prom and "\nasenet_generation 4\n" in prom
    pooled = sa["spec_hash"]
    print("pool push: generation 4 on both, spec %s on both: ok" % pooled)

    # The same topology pushed to one node alone hashes the same.
    r = ctl("push", "--socket", sock_b, "--topology", pool, "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["generation"] == 5, r.stderr
    assert stats(sock_b)["spec_hash"] == pooled
    r = ctl("push", "--socket", sock_a, "--socket", sock_b, "--topology", pool, "--json")
    out = json.loads(r.stdout)
    assert r.returncode == 0 and out["generation"] == 6 and not out["failed"], r.stdout
    assert [n["previous"] for n in out["nodes"]] == [4, 5], out
    print("a lagging node catches up: generations 4 and 5 -> 6 on both: ok")

    # One health verdict to every node: the same instance down on both.
    r = ctl("health", "--socket", sock_a, "--socket", sock_b, "--ase", "ase-one", "--instance", "10.0.1.5", "down")
    assert r.returncode == 0 and r.stdout.count("ase-one 10.0.1.5 down: health epoch 1 live (generation 6)") == 2, (
        r.stdout, r.stderr)
    for st in (stats(sock_a), stats(sock_b)):
        assert st["health"]["ase-one/10.0.1.5"] == "down" and st["generation"] == 6, st["health"]
    print("health to every node: 10.0.1.5 down on both, generation 6 kept: ok")

    # A dry run asks each node what would change, and changes nothing.
    r = ctl("push", "--socket", sock_a, "--socket", sock_b, "--topology", b_topo, "--dry-run")
    assert r.returncode == 0 and r.stdout.count("dry run: nothing changed; generation 6 stays live") == 2, r.stdout
    assert r.stdout.index(sock_a + ":") < r.stdout.index(sock_b + ":") and "spare-nsg" in r.stdout, r.stdout
    assert stats(sock_a)["generation"] == stats(sock_b)["generation"] == 6
    print("a dry run on both: the plan of each, nothing changed: ok")

    # B refuses (MTU above its start): nobody changes.
    jumbo = topology("jumbo", mtu=9000)
    r = ctl("push", "--socket", sock_a, "--socket", sock_b, "--topology", jumbo)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert sock_b in r.stderr and "emulator.mtu = 9000" in r.stderr and "no node changed" in r.stderr, r.stderr
    sa, sb = stats(sock_a), stats(sock_b)
    assert sa["generation"] == sb["generation"] == 6 and sa["spec_hash"] == sb["spec_hash"] == pooled, (sa, sb)
    print("a push one node refuses: exit 2 naming it, both stay on 6: ok")

    # A commit nobody prepared: refused, and counted once as a failed push.
    failed = stats(sock_a)["control"]["pushes_failed"]
    s = socket.socket(socket.AF_UNIX)
    s.connect(sock_a)
    s.sendall(frame(7, json.dumps({"token": "0123456789abcdef", "action": "commit", "generation": 99}).encode()))
    head = s.recv(12)
    typ, n = struct.unpack("<HI", head[6:12])
    body = b""
    while len(body) < n:
        body += s.recv(n - len(body))
    s.close()
    assert typ == 0x81 and b"no push prepared under this token" in body, (typ, body)
    after = stats(sock_a)
    assert after["generation"] == 6 and after["control"]["pushes_failed"] == failed + 1, after["control"]
    print("a commit under an unknown token: refused, generation 6 stays: ok")

    for d in nodes:
        d.terminate()
    logs = [d.communicate(timeout=30)[1] for d in nodes]
    assert all(d.returncode == 0 for d in nodes), logs
    assert "prepared push aborted" in logs[0], logs[0]
    nodes = []
    print("pool push: ok")

    # One prober, its verdicts relayed: P probes, F does not.
    probing = topology("probing", extra="")
    text = open(probing).read().replace('load_distribution = "Default"',
                                        'load_distribution = "Default"\nprobe_port = 443\nprobe_interval = 1', 1)
    open(probing, "w").write(text)
    p, sock_p = start("p", probing)
    nodes.append(p)
    f, sock_f = start("f", probing, "--no-probes")
    nodes.append(f)
    instances = ["ase-one/10.0.1.%d" % i for i in (4, 5, 6)]
    for _ in range(100):
        if all(stats(sock_p)["health"].get(k) == "down" for k in instances):
            break
        time.sleep(0.2)
    assert all(stats(sock_p)["health"][k] == "down" for k in instances), stats(sock_p)["health"]
    sf = stats(sock_f)
    assert all(sf["health"][k] == "up" for k in instances) and "probes" not in sf, sf  # it sends none
    r = ctl("health-relay", "--from", sock_p, "--socket", sock_f, "--count", "1")
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert sorted(r.stdout.splitlines()) == ["%s: ase-one 10.0.1.%d down (from %s)" % (sock_f, i, sock_p)
                                             for i in (4, 5, 6)], r.stdout
    assert all(stats(sock_f)["health"][k] == "down" for k in instances), stats(sock_f)["health"]
    r = ctl("health-relay", "--from", sock_p, "--socket", sock_f, "--count", "2", "--interval", "0.2")
    assert r.returncode == 0 and r.stdout == "", (r.stdout, r.stderr)
    r = ctl("health-relay", "--from", sock_p, "--socket", sock_p, "--count", "1")
    assert r.returncode == 2 and "not its own follower" in r.stderr, r.stderr
    for d in nodes:
        d.terminate()
        d.communicate(timeout=30)
    nodes = []
    print("health-relay: one prober's verdicts on the follower, nothing sent twice: ok")
finally:
    failing = sys.exc_info()[0] is not None
    for d in nodes:
        d.kill()
        err = d.communicate()[1]
        if failing:  # a node that died (a sanitizer's report, say) says why here
            print("asenetd %d exited %s; its stderr ends:\n%s" % (d.pid, d.returncode, err[-4000:]), file=sys.stderr)
    shutil.rmtree(tmp, ignore_errors=True)

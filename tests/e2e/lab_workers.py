#!/usr/bin/python3
"""End to end with two workers (issue 8: RSS across workers): the first-ase
lab (scripts/lab up --workers 2), where each TAP device has two queues and
the kernel spreads flows over them by its own hash, so a connection's two
directions often reach different workers. asenetd hands each packet to the
worker that owns its connection (by its external address), so NAT still holds:
- 16 curls to the VIP all get 200, and the instances see the client's address;
- 16 outbound curls from an instance all get 200, and the server sees the VIP;
- iperf3 with 4 parallel streams through the VIP completes;
- `asenetctl stats` shows both workers processing packets, packets handed
  between them (handed_off, all of them received: handed_in matches), and no
  packet dropped for want of a flow (no_flow-like drops are absent).
usage: lab_workers.py REPO_ROOT"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time

root = sys.argv[1]
lab = os.path.join(root, "scripts", "lab")
ctl = os.path.join(root, "build", "control", "asenetctl")
sock = "/run/asenet-lab/ctl.sock"
VIP, CLIENT, SERVER = "192.23.1.2", "203.0.113.10", "198.51.100.80"
procs = []
tmp = tempfile.mkdtemp(prefix="asenet-e2e-w2-")


def run(*cmd, check=True, timeout=60):
    r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("%s exited %d: %s%s" % (" ".join(cmd), r.returncode, r.stdout, r.stderr))
    return r


def in_ns(ns, *cmd, **kw):
    return run("ip", "netns", "exec", ns, *cmd, **kw)


def background(ns, name, *cmd):
    log = open(os.path.join(tmp, name + ".log"), "w")
    p = subprocess.Popen(["ip", "netns", "exec", ns] + list(cmd), stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True)
    procs.append(p)
    return os.path.join(tmp, name + ".log")


def wait_listening(ns, port):
    for _ in range(100):
        if (":%d " % port) in in_ns(ns, "ss", "-ltn").stdout:
            return
        time.sleep(0.1)
    raise AssertionError("nothing listens on %s port %d" % (ns, port))


def curl(ns, url, timeout=10):
    r = in_ns(ns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", str(timeout), url, check=False)
    return int(r.stdout or 0)


def stats():
    return json.loads(run(ctl, "stats", "--socket", sock, "--json").stdout)


def http_server(ns, name, bind, port):
    log = background(ns, name, "/usr/bin/python3", "-u", "-m", "http.server", str(port), "--bind", bind)
    wait_listening(ns, port)
    return log


ok = False
try:
    run(lab, "down", check=False)
    print(run(lab, "up", os.path.join(root, "config", "labs", "first-ase.toml"), "--workers", "2").stdout)
    s = stats()
    assert s["workers"] == 2, s["workers"]
    logs = [http_server("asenet-ase-one-%d" % i, "http%d" % i, "10.0.1.%d" % (4 + i), 80) for i in (0, 1)]
    srv = http_server("asenet-internet", "internet-http", SERVER, 80)

    codes = [curl("asenet-internet", "http://%s/" % VIP) for _ in range(16)]
    assert codes == [200] * 16, "curl to the VIP with two workers: %s" % codes
    seen = open(logs[0]).read() + open(logs[1]).read()
    assert len(re.findall(r"^%s - - .*\"GET / HTTP/1.1\" 200" % re.escape(CLIENT), seen, re.M)) == 16, seen
    print("16 curls to the VIP: all 200, the instances saw %s: ok" % CLIENT)

    codes = [curl("asenet-ase-one-0", "http://%s/" % SERVER) for _ in range(16)]
    assert codes == [200] * 16, "outbound curls with two workers: %s" % codes
    assert len(re.findall(r"^%s - - .*\"GET / HTTP/1.1\" 200" % re.escape(VIP), open(srv).read(), re.M)) == 16
    print("16 outbound curls: all 200, the server saw the VIP: ok")

    for p in list(procs):
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(timeout=10)
    procs.clear()
    for i in (0, 1):
        background("asenet-ase-one-%d" % i, "iperf-%d" % i, "iperf3", "-s", "-p", "80", "-B", "10.0.1.%d" % (4 + i))
        wait_listening("asenet-ase-one-%d" % i, 80)
    r = in_ns("asenet-internet", "iperf3", "-c", VIP, "-p", "80", "-t", "2", "-P", "4", "-J", check=False, timeout=60)
    j = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
    assert r.returncode == 0 and "error" not in j, "iperf3 -P 4 through the VIP: " + r.stdout[-500:] + r.stderr
    print("iperf3 -P 4 through the VIP: %.0f Mbit/s: ok" % (j["end"]["sum_received"]["bits_per_second"] / 1e6))

    time.sleep(0.5)  # nothing in flight between the workers
    s = stats()
    w = s["per_worker"]
    print("per worker:", json.dumps(w))
    assert len(w) == 2 and all(x["packets"] > 0 for x in w), w
    off = sum(x["handed_off"] for x in w)
    assert off > 0, "no packet was handed between workers: the steering was not exercised"
    assert off == sum(x["handed_in"] for x in w), w
    assert "no_route" not in s["drops"] and "nsg_deny" not in s["drops"], s["drops"]
    print("stats: both workers busy, %d packets handed between them, all received: ok" % off)
    ok = True
finally:
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    run(lab, "down", check=False)
print("lab_workers: " + ("ok" if ok else "FAILED"))
sys.exit(0 if ok else 1)

"""Helpers shared by the e2e scripts: the lab's paths, processes run in its
namespaces (and stopped together), curl, HTTP servers and asenetctl stats."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

root = sys.argv[1]
lab = os.path.join(root, "scripts", "lab")
ctl = os.path.join(root, "build", "control", "asenetctl")
# This run's own lab name, so that it runs beside a user's lab (and another run).
NAME = "e2e%d" % (os.getpid() % 100000)
sock = "/run/asenet-lab/%s/ctl.sock" % NAME


def ns(what):
    """The namespace `what` of this run's lab (scripts/lab: NAME-what)."""
    return "%s-%s" % (NAME, what)
VIP, CLIENT, SERVER, MGMT = "192.23.1.2", "203.0.113.10", "198.51.100.80", "70.37.57.58"
procs = []
tmp = tempfile.mkdtemp(prefix="asenet-e2e-")  # the background processes' logs


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


def stop_all():
    for p in procs:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    for p in procs:
        p.wait(timeout=10)
    procs.clear()


def wait_listening(ns, port):
    for _ in range(100):
        if (":%d " % port) in in_ns(ns, "ss", "-ltn").stdout:
            return
        time.sleep(0.1)
    raise AssertionError("nothing listens on %s port %d" % (ns, port))


def curl(ns, url, *extra, timeout=10):
    """HTTP status, or 0 when no connection was made."""
    r = in_ns(ns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-m", str(timeout), *extra, url, check=False)
    return int(r.stdout or 0)


def stats():
    return json.loads(run(ctl, "stats", "--socket", sock, "--json").stdout)


def http_server(ns, name, bind, port):
    log = background(ns, name, "/usr/bin/python3", "-u", "-m", "http.server", str(port), "--bind", bind)
    wait_listening(ns, port)
    return log




def iperf_through_vip(seconds, tag):
    """iperf3 servers on port 80 of both instances (the app port the lab's NSG
    admits), then one client from the Internet through the VIP: its JSON,
    after checking that it ran."""
    stop_all()
    for i in (0, 1):
        background(ns("ase-one-%d" % i), "%s-%d" % (tag, i), "iperf3", "-s", "-p", "80", "-B", "10.0.1.%d" % (4 + i))
        wait_listening(ns("ase-one-%d" % i), 80)
    r = in_ns(ns("internet"), "iperf3", "-c", VIP, "-p", "80", "-t", str(seconds), "-J", check=False, timeout=60)
    j = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
    assert r.returncode == 0 and "error" not in j, "iperf3 through the VIP: " + r.stdout[-500:] + r.stderr
    return j


def iperf_through_drain(rx, settle, what="a drain"):
    """A pool (--nodes 2): iperf3 servers on both instances, one 6 s client
    through the VIP; 2.5 s in, the node whose internet port carried the stream
    (rx(k): node k's frame count there) is drained and settle(busy) runs.
    Checks that the stream ran every second; returns (iperf3's JSON, the
    drained node, the per-second rates, what settle returned)."""
    stop_all()
    for i in (0, 1):
        background(ns("ase-one-%d" % i), "iperf-%d" % i, "iperf3", "-s", "-p", "80", "-B", "10.0.1.%d" % (4 + i))
        wait_listening(ns("ase-one-%d" % i), 80)
    before = [rx(0), rx(1)]
    client = subprocess.Popen(["ip", "netns", "exec", ns("internet"), "iperf3", "-c", VIP, "-p", "80", "-t", "6",
                               "-J"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2.5)
    mid = [rx(0), rx(1)]
    busy = 0 if mid[0] - before[0] > mid[1] - before[1] else 1
    run(lab, "drain", str(busy), "--name", NAME)
    settled = settle(busy)
    o, e = client.communicate(timeout=60)
    j = json.loads(o) if o.strip().startswith("{") else {}
    assert client.returncode == 0 and "error" not in j, "iperf3 through %s: %s%s" % (what, o[-500:], e)
    rates = [iv["sum"]["bits_per_second"] for iv in j["intervals"]]
    assert len(rates) >= 6 and min(rates) > 0, rates
    return j, busy, rates, settled

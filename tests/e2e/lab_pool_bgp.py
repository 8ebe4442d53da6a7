#!/usr/bin/python3
"""End to end with a pool of two asenetd nodes whose VIPs are announced over
BGP (issue 20, item 4's BGP variant): scripts/lab up first-ase.toml --nodes 2
--bgp. Each node's BIRD announces the VIP, with the node's own next hop, only
while its asenetd serves a committed generation; the router's BIRD installs
one multipath route that Linux spreads on the 5-tuple. As Ananta's Muxes do,
a node that stops or is drained withdraws its route.
- Both nodes' routes reach the router: one kernel route to the VIP with two
  next hops, 198.18.100.2 (node 0) and 198.18.101.2 (node 1).
- 100 curls from five clients all get 200, both nodes receive a share.
- A drain during iperf3: the node carrying the stream withdraws, the router's
  route keeps one next hop, the stream completes with data every second.
- undrain: the route has both next hops again.
- Node 1's asenetd killed: the watcher withdraws its route within 5 s; the
  clients whose connections node 0 owns still get 200 on every try. (Those
  node 1 owned are lost with it: membership changes, item 5, are not built;
  the test prints how many.)
usage: lab_pool_bgp.py REPO_ROOT"""

import json
import os
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labkit import NAME, VIP, ctl, curl, http_server, in_ns, lab, ns, root, run, sock  # noqa: E402
from labkit import iperf_through_drain, stop_all  # noqa: E402

sock1 = sock.replace("ctl.sock", "ctl-1.sock")
CLIENTS = ["203.0.113.%d" % n for n in (10, 11, 12, 13, 14)]
HOPS = ["198.18.100.2", "198.18.101.2"]


def owner(ip, nodes=2):
    """The node that owns a client's connections: asenetd's steer_unit over nodes x 1 worker."""
    a = struct.unpack("!I", socket.inet_aton(ip))[0]
    return (((a * 0x9e3779b97f4a7c15) & (2 ** 64 - 1)) >> 17) % nodes


def route():
    return run("ip", "-n", ns("internet"), "route", "show", VIP + "/32").stdout


def wait_route(hops, seconds=10):
    for _ in range(int(seconds * 10)):
        r = route()
        if all(h in r for h in hops) and not [h for h in HOPS if h in r and h not in hops]:
            return r
        time.sleep(0.1)
    raise AssertionError("the router's route to %s did not become %s in %d s: %r" % (VIP, hops, seconds, r))


def internet_rx(k):
    s = json.loads(run(ctl, "stats", "--socket", sock if k == 0 else sock1, "--json").stdout)
    return s["ports"]["internet"]["nic_rx"]


ok = False
try:
    run(lab, "down", NAME, check=False)
    out = run(lab, "up", os.path.join(root, "config", "labs", "first-ase.toml"), "--name", NAME, "--nodes", "2",
              "--bgp").stdout
    print(out)
    assert "announcing its VIPs over BGP" in out, out
    r = wait_route(HOPS)
    print("both nodes announced: %s: ok" % " | ".join(line.strip() for line in r.splitlines()))

    for c in CLIENTS[1:]:
        in_ns(ns("internet"), "ip", "addr", "add", c + "/32", "dev", "eth0")
    for i in (0, 1):
        http_server(ns("ase-one-%d" % i), "http%d" % i, "10.0.1.%d" % (4 + i), 80)
    rx = [internet_rx(0), internet_rx(1)]
    codes = [curl(ns("internet"), "http://%s/" % VIP, "--interface", CLIENTS[n % 5]) for n in range(100)]
    assert codes == [200] * 100, sorted(set(codes))
    d = [internet_rx(0) - rx[0], internet_rx(1) - rx[1]]
    assert min(d) > 0.2 * sum(d), "the router gave the nodes %s frames" % d
    print("100 curls from 5 clients: all 200, the router gave the nodes %d and %d frames: ok" % tuple(d))

    j, busy, rates, _ = iperf_through_drain(internet_rx, lambda busy: wait_route([HOPS[1 - busy]]), "a withdrawal")
    print("iperf3 through node %d's withdrawal at 2.5 s: %.0f Mbit/s, every second above 0 (lowest %.0f): ok" % (
        busy, j["end"]["sum_received"]["bits_per_second"] / 1e6, min(rates) / 1e6))
    run(lab, "undrain", str(busy), "--name", NAME)
    wait_route(HOPS)
    print("undrain: both next hops again: ok")

    stop_all()
    for i in (0, 1):
        http_server(ns("ase-one-%d" % i), "http%d-b" % i, "10.0.1.%d" % (4 + i), 80)
    pid1 = int(open("/run/asenet-lab/%s/asenetd-1.pid" % NAME).read())
    os.kill(pid1, signal.SIGKILL)
    t0 = time.time()
    wait_route([HOPS[0]], seconds=5)
    took = time.time() - t0
    kept = [c for c in CLIENTS if owner(c) == 0]
    lost = [c for c in CLIENTS if owner(c) == 1]
    assert kept and lost, (kept, lost)
    codes = [curl(ns("internet"), "http://%s/" % VIP, "--interface", kept[n % len(kept)]) for n in range(20)]
    assert codes == [200] * 20, codes
    gone = [curl(ns("internet"), "http://%s/" % VIP, "--interface", c, timeout=2) for c in lost]
    print("node 1 killed: its route withdrawn in %.1f s; 20 curls from node 0's clients %s all 200; node 1's "
          "clients %s: %s (membership changes are not built): ok" % (took, kept, lost, gone))
    ok = True
finally:
    stop_all()
    run(lab, "down", NAME, check=False)
print("lab_pool_bgp: " + ("ok" if ok else "FAILED"))
sys.exit(0 if ok else 1)

#!/usr/bin/python3
"""End to end with a pool of two asenetd nodes behind Linux ECMP (issue 20,
item 4): scripts/lab up first-ase.toml --nodes 2. The router namespace spreads
the VIP over the nodes by a resilient nexthop group hashed on the 5-tuple; a
connection's owner (the node holding its state, by the client's address, so
that SNAT's per-destination ports stay exact) is usually not the node ECMP
picked, and the frame crosses the peer veth to it. Azure's Mux pool works so:
any Mux may receive any packet, each maps it to the same instance.
- Both nodes run generation 1 with the same spec hash, the pool's size in
  stats, and the same health for the instances (node 0 probes, the lab's
  health relay carries the verdicts).
- 200 curls from five client addresses all get 200; both instances serve;
  both nodes receive a share from the router (each over 20 % of the frames),
  both own connections, frames cross the peer links both ways, none dropped.
- A pool push: both nodes on generation 2, the same hash; curls still 200.
- A drain during iperf3: the node carrying the stream leaves the ECMP group
  mid-run; the stream moves to the other node (which hands it to its owner)
  and completes, every second with data moving, nothing reset.
- A drained node gets no new connections (20 curls: its internet port sees
  at most a few ARP frames); undrain puts it back.
- `down` leaves no namespace, device or EAL folder.
- Three nodes: 63 curls from seven clients all 200, each node gets over 10 %
  of the router's frames and receives frames its peers got for it.
- Membership (item 5), with 21 inbound connections and 12 outbound SNAT
  connections held open: `lab leave 2` (node 2 stopped, the others told):
  every inbound connection goes on (the new owner picks it up with Maglev's
  same instance); a line each server sends after the change reaches the
  instance on exactly the SNAT connections node 2 did not own; `lab join 2`:
  one generation on all three, the servers' lines all arrive (node 2 asks
  the previous owners of its slots) and every connection goes on.
usage: lab_pool.py REPO_ROOT"""

import json
import os
import re
import socket
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labkit import NAME, VIP, curl, http_server, in_ns, lab, ns, root, run, stop_all  # noqa: E402
from labkit import background, ctl, iperf_through_drain, sock, wait_listening  # noqa: E402

sock1 = sock.replace("ctl.sock", "ctl-1.sock")
CLIENTS = ["203.0.113.%d" % n for n in (10, 11, 12, 13, 14)]
TOPO = os.path.join(root, "config", "labs", "first-ase.toml")
ECHO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "echo_conns.py")


def node_stats(k):
    return json.loads(run(ctl, "stats", "--socket", sock if k == 0 else sock1, "--json").stdout)


def internet_rx(k):
    return node_stats(k)["ports"]["internet"]["nic_rx"]


def peer(s, key):
    return sum(w[key] for w in s["per_worker"])


def home3(ip):
    """The node of a pool of three (one worker each) owning `ip`'s connections (steer_hash % 3)."""
    v = int.from_bytes(socket.inet_aton(ip), "big")
    return (((v * 0x9e3779b97f4a7c15) % (1 << 64)) >> 17) % 3


class Conns:
    """echo_conns.py open in a namespace: long-lived connections, a round of pings on demand."""

    def __init__(self, where, targets):
        self.p = subprocess.Popen(["ip", "netns", "exec", where, "/usr/bin/python3", ECHO, "open"] + targets,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, cmd):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()
        return json.loads(self.p.stdout.readline())

    def close(self):
        self.p.kill()
        self.p.wait()


def membership(socks, clients):
    """Three nodes; node 2 leaves (stopped, its links down, the others told)
    and joins again (started, all told, undrained). Inbound connections from
    the clients and outbound SNAT connections of instance 0 to twelve servers
    stay open throughout."""
    stop_all()
    for i in (0, 1):  # port 80: the app port the NSG admits (and the probes' port)
        background(ns("ase-one-%d" % i), "echo%d" % i, "/usr/bin/python3", ECHO, "serve", "10.0.1.%d" % (4 + i), "80")
        wait_listening(ns("ase-one-%d" % i), 80)
    servers = ["198.51.100.%d" % n for n in range(81, 93)]
    for a in servers:
        in_ns(ns("internet"), "ip", "addr", "add", a + "/32", "dev", "eth0")
    background(ns("internet"), "echo-out", "/usr/bin/python3", ECHO, "serve", "0.0.0.0", "7000")
    wait_listening(ns("internet"), 7000)
    lost = {a for a in servers if home3(a) == 2}
    assert lost and len(lost) < len(servers), "the servers' owners: %s" % [home3(a) for a in servers]
    inbound = Conns(ns("internet"), ["%s=%s:80" % (c, VIP) for c in clients for _ in range(3)])
    outbound = Conns(ns("ase-one-0"), ["%s:7000" % a for a in servers])
    try:
        assert all(inbound.ask("round")) and all(outbound.ask("round")), "before any change"
        # The servers speak first after the change: a reply reaching a node
        # that holds no SNAT state for it is dropped (the instance speaking
        # first would open a new flow, and the deterministic port choice
        # would give it the old port: that one survives).
        outbound.ask("later 15")
        # The request and its ACK settle first: one still in flight when node
        # 2 stops would be retransmitted by the instance through the new
        # owner, which then picks the flow up mid-stream (with the same port:
        # the connection survives and the test would see a false "kept").
        time.sleep(1)
        t0 = time.time()
        r = run(lab, "leave", "2", "--name", NAME, timeout=120)
        assert "members [0, 1]" in r.stdout, r.stdout
        assert time.time() - t0 < 13, "leave took %.1f s: the servers spoke before it was done" % (time.time() - t0)
        pools = [json.loads(run(ctl, "stats", "--socket", x, "--json").stdout) for x in socks[:2]]
        assert all(p["pool"]["members"] == [0, 1] for p in pools), [p["pool"] for p in pools]
        got_out = outbound.ask("collect 20")
        broken = {a for a, ok in zip(servers, got_out) if not ok}
        assert broken == lost, "SNAT connections broken: %s, owned by node 2: %s" % (sorted(broken), sorted(lost))
        got_in = inbound.ask("round")
        assert all(got_in), "inbound connections lost when node 2 left: %s" % got_in
        assert all(outbound.ask("reopen")), "connections opened after node 2 left"
        print("node 2 left: all %d inbound connections go on (Maglev picks the same instance), the %d SNAT "
              "connections node 2 owned broke and only those; reopened through nodes 0 and 1: ok"
              % (len(got_in), len(lost)))
        outbound.ask("later 15")
        time.sleep(1)  # as before the leave: nothing of the request left in flight
        t0 = time.time()
        r = run(lab, "join", "2", "--name", NAME, timeout=120)
        assert "members [0, 1, 2]" in r.stdout, r.stdout
        assert time.time() - t0 < 13, "join took %.1f s: the servers spoke before it was done" % (time.time() - t0)
        got_out = outbound.ask("collect 20")
        assert all(got_out), "SNAT connections lost when node 2 joined: %s" % got_out
        after = [json.loads(run(ctl, "stats", "--socket", x, "--json").stdout) for x in socks]
        assert len({(a["generation"], a["spec_hash"]) for a in after}) == 1, [a["generation"] for a in after]
        assert all(a["pool"]["members"] == [0, 1, 2] for a in after), [a["pool"] for a in after]
        got_in, got_out = inbound.ask("round"), outbound.ask("round")
        assert all(got_in) and all(got_out), "after node 2 joined: inbound %s, outbound %s" % (got_in, got_out)
        asked = peer(json.loads(run(ctl, "stats", "--socket", socks[2], "--json").stdout), "peer_asked")
        assert asked > 0, "node 2 asked no previous owner"
        print("node 2 joined: generation %d on all three; every connection goes on, node 2 asking the previous "
              "owners %d times: ok" % (after[0]["generation"], asked))
    finally:
        inbound.close()
        outbound.close()


ok = False
try:
    run(lab, "down", NAME, check=False)
    out = run(lab, "up", TOPO, "--name", NAME, "--nodes", "2").stdout
    print(out)
    assert "a pool of 2 asenetd nodes behind ECMP" in out and "node 1 on eth1" in out, out
    for _ in range(50):  # the relay's first round gives node 1 node 0's verdicts
        s0, s1 = node_stats(0), node_stats(1)
        if s0["health"] == s1["health"]:
            break
        time.sleep(0.2)
    assert (s0["node"], s0["nodes"], s1["node"], s1["nodes"]) == (0, 2, 1, 2), (s0["node"], s1["node"])
    assert s0["generation"] == s1["generation"] == 1 and s0["spec_hash"] == s1["spec_hash"], (s0["spec_hash"],
                                                                                              s1["spec_hash"])
    assert s0["health"] == s1["health"], (s0["health"], s1["health"])
    print("two nodes, generation 1, spec %s, the same health on both: ok" % s0["spec_hash"])

    for c in CLIENTS[1:]:
        in_ns(ns("internet"), "ip", "addr", "add", c + "/32", "dev", "eth0")
    logs = [http_server(ns("ase-one-%d" % i), "http%d" % i, "10.0.1.%d" % (4 + i), 80) for i in (0, 1)]
    rx0, rx1 = internet_rx(0), internet_rx(1)
    codes = [curl(ns("internet"), "http://%s/" % VIP, "--interface", CLIENTS[n % 5]) for n in range(200)]
    assert codes == [200] * 200, "200 curls through the pool: %s" % sorted(set(codes))
    served = [len(re.findall(r'"GET / HTTP/1.1" 200', open(f).read())) for f in logs]
    assert sum(served) == 200 and min(served) > 0, served
    d0, d1 = internet_rx(0) - rx0, internet_rx(1) - rx1
    assert min(d0, d1) > 0.2 * (d0 + d1), "ECMP put %d and %d frames on the nodes" % (d0, d1)
    s0, s1 = node_stats(0), node_stats(1)
    # Each node received frames the other owns: both own connections.
    assert peer(s0, "peer_sent") > 0 and peer(s1, "peer_sent") > 0, "frames crossed the peer links one way only"
    for s in (s0, s1):
        assert peer(s, "peer_dropped") == 0 and peer(s, "peer_refused") == 0, s["per_worker"]
    print("200 curls from 5 clients: all 200, instances served %s, the router gave the nodes %d and %d frames, "
          "peer links %d and %d frames: ok" % (served, d0, d1, peer(s0, "peer_sent"), peer(s1, "peer_sent")))

    r = run(lab, "push", "--name", NAME, TOPO)
    assert "generation 2 live on all 2 nodes" in r.stdout, r.stdout
    s0, s1 = node_stats(0), node_stats(1)
    assert s0["generation"] == s1["generation"] == 2 and s0["spec_hash"] == s1["spec_hash"]
    assert curl(ns("internet"), "http://%s/" % VIP) == 200
    print("pool push: generation 2 on both nodes, one hash; curl 200: ok")

    def settle(_busy):
        time.sleep(0.5)
        return [internet_rx(0), internet_rx(1)]
    j, busy, rates, moved = iperf_through_drain(internet_rx, settle)
    after = [internet_rx(0), internet_rx(1)]
    still, other = after[busy] - moved[busy], after[1 - busy] - moved[1 - busy]
    assert other > 100 * max(still, 1), "after the drain node %d still got %d frames, node %d %d" % (
        busy, still, 1 - busy, other)
    print("iperf3 through a drain of node %d at 2.5 s: %.0f Mbit/s, %s retransmits, every second above 0 "
          "(lowest %.0f Mbit/s); after it node %d got %d frames, node %d %d: ok" % (
              busy, j["end"]["sum_received"]["bits_per_second"] / 1e6, j["end"]["sum_sent"].get("retransmits"),
              min(rates) / 1e6, busy, still, 1 - busy, other))
    run(lab, "undrain", str(busy), "--name", NAME)

    stop_all()
    logs = [http_server(ns("ase-one-%d" % i), "http%d-b" % i, "10.0.1.%d" % (4 + i), 80) for i in (0, 1)]
    run(lab, "drain", "1", "--name", NAME)
    rx1 = internet_rx(1)
    codes = [curl(ns("internet"), "http://%s/" % VIP, "--interface", CLIENTS[n % 5]) for n in range(20)]
    assert codes == [200] * 20, codes
    assert internet_rx(1) - rx1 <= 5, "a drained node received %d frames" % (internet_rx(1) - rx1)
    st = run(lab, "status", "--name", NAME).stdout
    assert "node 1: asenetd pid" in st and "drained" in st, st
    r = run(lab, "drain", "0", "--name", NAME, check=False)
    assert r.returncode == 2 and "last one in service" in r.stderr, (r.returncode, r.stderr)
    run(lab, "undrain", "1", "--name", NAME)
    print("drained node 1: 20 curls all 200 through node 0, node 1's port quiet; the last node is not drained: ok")

    stop_all()
    tag = NAME if len(NAME) <= 6 else NAME[:3] + "%03d" % (zlib.crc32(NAME.encode()) % 1000)  # scripts/lab's rule
    assert ("as%s-q01" % tag) in run("ip", "-n", ns("node0"), "-o", "link").stdout, "no peer link in node 0's netns"
    run(lab, "down", NAME)
    links = run("ip", "-o", "link").stdout
    assert ("as%s-" % tag) not in links, links
    assert not [n for n in run("ip", "netns", "list").stdout.split() if n.startswith(NAME + "-")]
    assert not [d for d in os.listdir("/var/run/dpdk") if d.startswith("asenet-lab-%s" % NAME)] \
        if os.path.isdir("/var/run/dpdk") else True
    print("down: no namespace, device or EAL folder left: ok")

    # Three nodes, as the machine allows: every node receives and owns a share.
    run(lab, "up", TOPO, "--name", NAME, "--nodes", "3")
    more = ["203.0.113.%d" % n for n in (10, 11, 12, 13, 14, 15, 16)]
    for c in more[1:]:
        in_ns(ns("internet"), "ip", "addr", "add", c + "/32", "dev", "eth0")
    for i in (0, 1):
        http_server(ns("ase-one-%d" % i), "http%d-3" % i, "10.0.1.%d" % (4 + i), 80)
    socks = [sock, sock1, sock.replace("ctl.sock", "ctl-2.sock")]
    rx = [json.loads(run(ctl, "stats", "--socket", x, "--json").stdout)["ports"]["internet"]["nic_rx"] for x in socks]
    codes = [curl(ns("internet"), "http://%s/" % VIP, "--interface", more[n % 7]) for n in range(63)]
    assert codes == [200] * 63, sorted(set(codes))
    after = [json.loads(run(ctl, "stats", "--socket", x, "--json").stdout) for x in socks]
    d = [a["ports"]["internet"]["nic_rx"] - r for a, r in zip(after, rx)]
    assert min(d) > 0.1 * sum(d), "the router gave the three nodes %s frames" % d
    assert all(peer(a, "peer_received") > 0 and peer(a, "peer_dropped") == 0 for a in after), \
        [a["per_worker"] for a in after]
    print("three nodes: 63 curls from 7 clients all 200, the router gave them %s frames, each owns some: ok" % d)
    membership(socks, more)
    stop_all()
    run(lab, "down", NAME)
    ok = True
finally:
    stop_all()
    run(lab, "down", NAME, check=False)
print("lab_pool: " + ("ok" if ok else "FAILED"))
sys.exit(0 if ok else 1)

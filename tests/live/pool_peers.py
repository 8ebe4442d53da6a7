#!/usr/bin/python3
"""Two asenetd nodes as one data plane (issue 20, items 1 and 2): each node on
TAP devices of its own, one worker each, a net_memif peer link between them.
Any node may receive any packet; the node that owns a connection holds its
state, and the other hands it the frame over the link.
- 200 connections from 200 Internet clients to the VIP, all arriving at node
  0: every one reaches an instance (the ASE's two both used), spread over both
  nodes (each sends some on its vnet side), and node 1 sends exactly what node
  0 handed it (peer_sent, peer_received).
- The same SYNs again, now arriving at node 1: each leaves the same node
  towards the same instance (the owner's flow, whichever node saw it).
- The instances' SYN-ACKs, all arriving at node 1: every one leaves on the
  Internet side with the VIP as source, from the node that owns its flow
  (both directions met there).
- SNAT across the pool: 1,025 connections of one instance to one destination,
  arriving alternately at both nodes: 1,024 leave, with the instance's 1,024
  ports exactly (azure-semantics 7.6: the ports of the instance's
  preallocation, each used once), from one node; the 1,025th is refused
  (snat_exhausted once over the pool), and another destination still gets a
  port.
- Membership (item 5): node 1 leaves (push --members 0 to node 0): every
  inbound connection goes on through node 0 to its own instance (node 1's
  picked up mid-stream, Maglev choosing the same), SNAT connections node 0
  held still answer and those node 1 held are gone. Node 1 joins again (push
  --members 0,1 to both): the connections node 0 took meanwhile go on from
  node 0, asked of it by their new owner (peer_asked exactly those on node
  1's slots); new connections go to their owners; a second SNAT connection
  to a destination node 0 holds ports for is allocated by node 0 (no port
  given twice); a mid-stream packet nobody holds is asked, sent back
  (peer_returned) and taken by its owner.
- Health probe answers reaching either node are taken by node 0, the prober.
- Neither node dropped or refused a peer frame, and stats --json and
  Prometheus say which node each is (node, nodes, asenet_pool_nodes).
- asenetd refuses bad --node/--peer sets with exit 2 and a line.
usage: pool_peers.py ASENETD ASENETCTL"""

import json
import os
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "lib"))
from asenet_golden import FABRIC_MAC, snat_ports  # noqa: E402
from scapy.all import IP, TCP, Ether  # noqa: E402

asenetd, asenetctl = sys.argv[1], sys.argv[2]
pid = os.getpid()
tmp = tempfile.mkdtemp(prefix="asenet-peers-")
cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
VIP, INSTANCES, DEST = "192.23.1.2", ["10.0.1.4", "10.0.1.5"], "13.107.4.50"
TAPS = [{"internet": "pi%d_%d" % (n, pid % 10000), "vnet": "pv%d_%d" % (n, pid % 10000)} for n in range(2)]
PEER_SOCK = os.path.join(tmp, "peer01.sock")

TOPO = """
[vnet]
name = "corp-vnet"
address_space = ["10.0.0.0/16"]
[[subnets]]
name = "ase-one"
prefix = "10.0.1.0/26"
[[ases]]
name = "ase-one"
subnet = "ase-one"
public_vip = "192.23.1.2"
instances = ["10.0.1.4", "10.0.1.5"]
[gateway]
bgp_routes = ["172.16.0.0/12"]
[ports]
internet = "tap:%s"
vnet = "tap:%s"
onprem = "net_null%d,no-rx=1"
"""


def ctl(*args):
    return subprocess.run([asenetctl] + list(args), capture_output=True, text=True, timeout=60)


def stats(sock):
    r = ctl("stats", "--socket", sock, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def peer_totals(s):
    return {k: sum(w[k] for w in s["per_worker"]) for k in ("peer_sent", "peer_received", "peer_dropped",
                                                            "peer_refused", "peer_asked", "peer_returned")}


def daemon(node, peer, sock=None, extra=()):
    topo = os.path.join(tmp, "node%d.toml" % node)
    with open(topo, "w") as f:
        f.write(TOPO % (TAPS[node]["internet"], TAPS[node]["vnet"], node))
    args = [asenetd, "--lcores", "(0-1)@(%s)" % cpus, "--no-huge", "-m", "512", "--no-pci", "--log-level=error",
            "--file-prefix", "asenet-peers-%d-%d" % (node, pid), "--", "--topology", topo, "--idle-sleep", "100"]
    if sock:
        args += ["--control-socket", sock]
    if peer is not None:
        args += ["--node", str(node), "--peer", peer]
    return subprocess.Popen(args + list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


class Sniffer:
    """Every frame asenetd sends on a TAP (a packet socket on the Linux end)."""

    def __init__(self, iface):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.s.bind((iface, 0))
        self.s.setblocking(False)

    def take(self, settle=1.0):
        """The TCP/IPv4 frames received since the last call, as scapy packets."""
        out, quiet_since = [], time.time()
        while time.time() - quiet_since < settle:
            if not select.select([self.s], [], [], 0.1)[0]:
                continue
            while True:
                try:
                    data, addr = self.s.recvfrom(65535)
                except BlockingIOError:
                    break
                if addr[2] == socket.PACKET_OUTGOING:
                    continue  # what this test itself wrote into the TAP
                p = Ether(data)
                if p.haslayer(TCP) and p.haslayer(IP):
                    out.append(p)
            quiet_since = time.time()
        return out


class Writer:
    """Writes frames into a TAP from the Linux end (what asenetd receives)."""

    def __init__(self, iface):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.s.bind((iface, 0))

    def send(self, pkts):
        for k, p in enumerate(pkts):
            self.s.send(bytes(p))
            if k % 50 == 49:
                time.sleep(0.02)  # the TAP's queue holds 500 frames: stay well inside it (ASan builds too)


NET = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC)
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)


def clients():
    return [("198.51.%d.%d" % (100 + i // 200, 1 + i % 200), 40000 + i) for i in range(200)]


def check_refusals():
    bad = [(["--node", "2", "--peer", "1=net_null9"], "numbers its nodes 0 to 1"),
           (["--peer", "1=net_null9"], "--peer needs --node"),
           (["--node", "0", "--peer", "0=net_null9"], "that is this node"),
           (["--node", "0", "--peer", "1net_null9"], "expected NODE=DEVICE")]
    for extra, want in bad:
        topo = os.path.join(tmp, "bad.toml")
        with open(topo, "w") as f:
            f.write(TOPO.replace("tap:%s", "net_null7,no-rx=1", 1).replace("tap:%s", "net_null8,no-rx=1", 1) % 9)
        r = subprocess.run([asenetd, "--no-huge", "--no-pci", "--", "--topology", topo] + extra,
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 2 and want in r.stderr, (extra, r.returncode, r.stderr)
    print("bad --node / --peer sets: exit 2 with a line: ok")


def home(ip):
    """The node owning `ip`'s connections in the full pool of two (steer_hash % 2)."""
    v = int.from_bytes(socket.inet_aton(ip), "big")
    return (((v * 0x9e3779b97f4a7c15) % (1 << 64)) >> 17) % 2


def brief(got):
    return {n: [p.summary() for p in v[:4]] + ["... %d in all" % len(v)] for n, v in got.items()}


def left(sniff, side):
    """{node: [packets]} that left each node on `side`."""
    return {node: sniff[node][side].take() for node in range(2)}


def snat_out(write, sniff, dests, sport0, into=0):
    """One SNAT connection of instance 1 to each destination, into node
    `into`: {destination: (node it left, VIP port)}."""
    write[into]["vnet"].send([VM / IP(src=INSTANCES[1], dst=d) / TCP(sport=sport0 + i, dport=443, flags="S")
                              for i, d in enumerate(dests)])
    got = {}
    for node, pkts in left(sniff, "internet").items():
        for p in pkts:
            assert p[IP].src == VIP and p[IP].dst in dests, p.summary()
            got[p[IP].dst] = (node, p[TCP].sport)
    assert len(got) == len(dests), got
    return got


def snat_back(write, node, dests, sport0, out):
    """Each destination's SYN-ACK to its VIP port, into `node`'s Internet side."""
    write[node]["internet"].send([NET / IP(src=d, dst=VIP) / TCP(sport=443, dport=out[d][1], flags="SA", ack=1)
                                  for d in dests])


def push_members(socks, members):
    topo = os.path.join(tmp, "pool.toml")
    with open(topo, "w") as f:
        f.write(TOPO[:TOPO.index("[ports]")])  # each node keeps its own ports
    r = ctl("push", *[a for s in socks for a in ("--socket", s)], "--topology", topo, "--members", members)
    assert r.returncode == 0, (r.returncode, r.stdout, r.stderr)


def membership(socks, sniff, write, owner):
    """6. Membership (item 5): node 1 leaves, then joins again."""
    assert all(home(c) == owner[(c, sp)][0] for c, sp in clients()), "the owner rule"
    d1 = ["13.107.6.%d" % i for i in range(1, 21)]
    out1 = snat_out(write, sniff, d1, 32000)
    assert all(out1[d][0] == home(d) for d in d1) and {home(d) for d in d1} == {0, 1}, out1

    # 6a. Node 1 leaves: node 0 alone, told so.
    push_members(socks[:1], "0")
    pool = stats(socks[0])["pool"]
    assert pool["members"] == [0] and pool["slots_by_node"] == [1024, 0], pool
    acks = [NET / IP(src=c, dst=VIP) / TCP(sport=sp, dport=443, flags="A", seq=1001, ack=5001) for c, sp in clients()]
    write[0]["internet"].send(acks)
    got = left(sniff, "vnet")
    assert not got[1] and len(got[0]) == 200, (len(got[0]), len(got[1]))
    assert all(owner[(p[IP].src, p[TCP].sport)][1] == p[IP].dst for p in got[0])
    print("node 1 left: all 200 inbound connections go on through node 0, each to its own instance "
          "(node 1's %d picked up mid-stream, Maglev's choice the same): ok" % sum(1 for n, _ in owner.values() if n))
    snat_back(write, 0, d1, 32000, out1)
    back = {p[TCP].dport - 32000 for p in left(sniff, "vnet")[0] if p[IP].dst == INSTANCES[1]}
    assert back == {i for i, d in enumerate(d1) if home(d) == 0}, sorted(back)
    print("node 1 left: the SNAT connections node 0 held answer (%d), those node 1 held are gone (%d): ok"
          % (len(back), len(d1) - len(back)))
    clients2 = [("198.52.0.%d" % i, 45000 + i) for i in range(1, 41)]
    write[0]["internet"].send([NET / IP(src=c, dst=VIP) / TCP(sport=sp, dport=443, flags="S", seq=1000)
                               for c, sp in clients2])
    inst2 = {p[IP].src: p[IP].dst for p in left(sniff, "vnet")[0]}
    assert len(inst2) == 40 and {home(c) for c, _ in clients2} == {0, 1}, inst2
    d2 = ["13.107.7.%d" % i for i in range(1, 21)]
    out2 = snat_out(write, sniff, d2, 33000)
    assert {n for n, _ in out2.values()} == {0}, out2

    # 6b. Node 1 joins again: both told, in two phases.
    push_members(socks, "0,1")
    for s in socks:
        pool = stats(s)["pool"]
        assert pool["members"] == [0, 1] and pool["slots_by_node"] == [512, 512], pool
        assert pool["previous_owners_s"] > 200, pool  # one idle timeout (4 min)
    asked0 = peer_totals(stats(socks[1]))
    write[1]["internet"].send([NET / IP(src=c, dst=VIP) / TCP(sport=sp, dport=443, flags="A", seq=1001, ack=5001)
                               for c, sp in clients2])
    got = left(sniff, "vnet")
    assert not got[1] and sorted((p[IP].src, p[IP].dst) for p in got[0]) == sorted(inst2.items()), brief(got)
    snat_back(write, 1, d2, 33000, out2)
    got = left(sniff, "vnet")
    assert not got[1] and sorted(p[TCP].dport for p in got[0]) == list(range(33000, 33020)), brief(got)
    asked = peer_totals(stats(socks[1]))["peer_asked"] - asked0["peer_asked"]
    want = sum(1 for c, _ in clients2 if home(c) == 1) + sum(1 for d in d2 if home(d) == 1)
    assert asked == want, (asked, want)
    print("node 1 joined: the %d connections node 0 took meanwhile go on from node 0, %d of them asked of it "
          "by node 1, their new owner: ok" % (len(clients2) + len(d2), asked))
    # SNAT ports across the join: node 0 still holds a port of instance 1 for
    # each destination of d2, so it allocates the next connection to each
    # too, wherever it arrives (none reused); a destination it holds nothing
    # for is its owner's.
    again = snat_out(write, sniff, d2, 34000, into=1)
    assert {n for n, _ in again.values()} == {0}, again
    assert all(again[d][1] != out2[d][1] for d in d2), "a VIP port given twice for one destination"
    d3 = ["13.107.8.%d" % i for i in range(1, 21)]
    out3 = snat_out(write, sniff, d3, 35000, into=1)
    assert all(out3[d][0] == home(d) for d in d3), out3
    print("node 1 joined: a second connection to each of those 20 destinations allocated by node 0, which "
          "holds their ports (no port given twice); 20 fresh destinations allocated by their owners: ok")
    clients3 = [("198.53.0.%d" % i, 46000 + i) for i in range(1, 41)]
    write[1]["internet"].send([NET / IP(src=c, dst=VIP) / TCP(sport=sp, dport=443, flags="S", seq=1000)
                               for c, sp in clients3])
    got = left(sniff, "vnet")
    assert all(home(p[IP].src) == n for n in range(2) for p in got[n]) and len(got[0]) + len(got[1]) == 40, brief(got)
    assert got[0] and got[1]
    returned0 = peer_totals(stats(socks[0]))["peer_returned"]
    clients4 = [("198.54.0.%d" % i, 47000 + i) for i in range(1, 21)]
    write[1]["internet"].send([NET / IP(src=c, dst=VIP) / TCP(sport=sp, dport=443, flags="A", seq=1, ack=1)
                               for c, sp in clients4])
    got = left(sniff, "vnet")
    assert all(home(p[IP].src) == n for n in range(2) for p in got[n]) and len(got[0]) + len(got[1]) == 20, brief(got)
    returned = peer_totals(stats(socks[0]))["peer_returned"] - returned0
    assert returned == len(got[1]), (returned, len(got[1]))
    print("node 1 joined: new connections go to their owners (%d to node 1); %d mid-stream packets nobody held "
          "were asked of node 0, sent back and taken by node 1: ok" % (len(got[1]), returned))
    for s in socks:
        t = peer_totals(stats(s))
        assert t["peer_dropped"] == 0 and t["peer_refused"] == 0, t


procs = []
try:
    check_refusals()
    socks = [os.path.join(tmp, "n%d.sock" % n) for n in range(2)]
    procs.append(daemon(0, "1=net_memif0,role=server,socket=%s" % PEER_SOCK, socks[0]))
    for _ in range(300):  # node 1 may start first (it waits), but its log is quieter this way
        if os.path.exists(PEER_SOCK) or procs[0].poll() is not None:
            break
        time.sleep(0.1)
    procs.append(daemon(1, "0=net_memif0,role=client,socket=%s" % PEER_SOCK, socks[1]))
    for _ in range(300):
        if all(os.path.exists(s) for s in socks) or any(p.poll() is not None for p in procs):
            break
        time.sleep(0.1)
    for p in procs:
        assert p.poll() is None, "asenetd did not start: %s" % p.stderr.read()
    for t in TAPS:
        for iface in t.values():
            subprocess.run(["sysctl", "-q", "-w", "net.ipv6.conf.%s.disable_ipv6=1" % iface], check=False)
            subprocess.run(["ip", "link", "set", iface, "up"], check=True)
    time.sleep(2)  # the memif client connects to the server's socket
    sniff = [{side: Sniffer(t[side]) for side in t} for t in TAPS]
    write = [{side: Writer(t[side]) for side in t} for t in TAPS]
    for s in socks:
        st = stats(s)
        assert st["nodes"] == 2 and st["node"] == socks.index(s), st

    # 1. Inbound, everything arriving at node 0.
    syns = [NET / IP(src=c, dst=VIP) / TCP(sport=sp, dport=443, flags="S", seq=1000) for c, sp in clients()]
    write[0]["internet"].send(syns)
    owner = {}
    for node in range(2):
        for p in sniff[node]["vnet"].take():
            key = (p[IP].src, p[TCP].sport)
            assert p[IP].dst in INSTANCES and p[TCP].dport == 443, p.summary()
            assert key not in owner, "flow %s left twice" % (key,)
            owner[key] = (node, p[IP].dst)
    assert len(owner) == 200, "%d of 200 connections reached an instance" % len(owner)
    share = [sum(1 for n, _ in owner.values() if n == node) for node in range(2)]
    assert min(share) >= 40, "the pool's nodes own %s of 200" % share
    assert {i for _, i in owner.values()} == set(INSTANCES)
    t0, t1 = peer_totals(stats(socks[0])), peer_totals(stats(socks[1]))
    assert t0["peer_sent"] == share[1] == t1["peer_received"], (share, t0, t1)
    print("200 connections into node 0: %d owned by node 0, %d handed to node 1 over memif: ok" % tuple(share))

    # 2. The same SYNs arriving at node 1 meet the owner's flows.
    write[1]["internet"].send(syns)
    seen = 0
    for node in range(2):
        for p in sniff[node]["vnet"].take():
            assert owner[(p[IP].src, p[TCP].sport)] == (node, p[IP].dst), (node, p.summary())
            seen += 1
    assert seen == 200, seen
    print("the same connections into node 1: each from its owner to the same instance: ok")

    # 3. Every reply arrives at node 1; each leaves from its flow's owner, as the VIP.
    replies = [VM / IP(src=owner[(c, sp)][1], dst=c) / TCP(sport=443, dport=sp, flags="SA", seq=5000, ack=1001)
               for c, sp in clients()]
    write[1]["vnet"].send(replies)
    back = 0
    for node in range(2):
        for p in sniff[node]["internet"].take():
            key = (p[IP].dst, p[TCP].dport)
            assert p[IP].src == VIP and p[TCP].sport == 443 and owner[key][0] == node, (node, p.summary())
            back += 1
    assert back == 200, "%d of 200 replies left as the VIP" % back
    print("200 replies into node 1: each left its owner with the VIP as source: ok")

    # 4. SNAT across the pool: one instance, one destination, both nodes.
    out = [VM / IP(src=INSTANCES[0], dst=DEST) / TCP(sport=20000 + i, dport=443, flags="S") for i in range(1025)]
    for k in range(0, 1025, 100):
        write[0]["vnet"].send(out[k:k + 100:2])
        write[1]["vnet"].send(out[k + 1:k + 100:2])
    ports, nodes_out = [], set()
    for node in range(2):
        for p in sniff[node]["internet"].take(settle=2.0):
            assert p[IP].src == VIP and p[IP].dst == DEST, p.summary()
            ports.append(p[TCP].sport)
            nodes_out.add(node)
    assert len(ports) == 1024 and len(set(ports)) == 1024, "%d out, %d ports" % (len(ports), len(set(ports)))
    assert sorted(ports) == sorted(snat_ports(0)), "not the instance's preallocated ports"
    assert len(nodes_out) == 1, "one destination's connections left %s" % nodes_out
    exhausted = sum(stats(s)["drops"].get("snat_exhausted", 0) for s in socks)
    assert exhausted == 1, exhausted
    other = VM / IP(src=INSTANCES[0], dst="13.107.4.51") / TCP(sport=30001, dport=443, flags="S")
    write[1]["vnet"].send([other])
    got = [p for node in range(2) for p in sniff[node]["internet"].take()]
    assert len(got) == 1 and got[0][IP].src == VIP, [p.summary() for p in got]
    print("SNAT over the pool: 1,024 of 1,025 out on the instance's own 1,024 ports, from node %d; "
          "the 1,025th refused once; another destination still served: ok" % nodes_out.pop())

    # 5. Health probe answers (to 168.63.129.16) belong to the pool's prober, node 0,
    # whichever node the instance sent them to.
    before = [stats(s)["drops"].get("probe_reply", 0) for s in socks]
    answers = [VM / IP(src=INSTANCES[k % 2], dst="168.63.129.16") / TCP(sport=443, dport=61000 + k, flags="SA")
               for k in range(20)]
    write[1]["vnet"].send(answers[:10])  # whichever node owns 168.63.129.16's hash,
    write[0]["vnet"].send(answers[10:])  # one of these halves would go astray without the rule
    time.sleep(1)
    after = [stats(s)["drops"].get("probe_reply", 0) for s in socks]
    assert after[0] - before[0] == 20 and after[1] == before[1], (before, after)
    print("20 probe answers into both nodes: all taken by node 0, the prober: ok")

    for s in socks:
        t = peer_totals(stats(s))
        assert t["peer_dropped"] == 0 and t["peer_refused"] == 0, t
    prom = ctl("stats", "--socket", socks[1], "--format", "prometheus").stdout
    assert 'asenet_pool_nodes{node="1"} 2' in prom, prom
    assert 'asenet_peer_packets_total{direction="received"}' in prom
    print("no peer frame dropped or refused; stats and Prometheus name the node: ok")
    membership(socks, sniff, write, owner)
    print("pool peers: ok")
finally:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            _, err = p.communicate(timeout=20)
            if p.returncode not in (0, None):
                print("asenetd exited %s: %s" % (p.returncode, err), file=sys.stderr)
        except subprocess.TimeoutExpired:
            p.kill()
    shutil.rmtree(tmp, ignore_errors=True)

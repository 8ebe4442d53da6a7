#!/usr/bin/python3
"""100 generations pushed while traffic flows (issue 6 acceptance).

asenetd reads a capture of established connections to the VIP in a loop (pcap
PMD, infinite_rx: as fast as the worker takes it). Meanwhile asenetctl pushes
100 generations, alternating a topology that allows HTTPS with one that does
not; a push with a validation error is thrown in half-way. Azure applies rule
changes to new connections only, so:
- not one packet of these established connections is dropped (every packet in
  is forwarded, drops are empty) across all 100 swaps;
- the generation counts up by one per push (a health change raises the
  health epoch instead) and the bad push changes nothing
  (exit 2, same generation, traffic still forwarded);
- the DPDK heap holds the same number of blocks after the same topology
  (every retired generation is freed once RCU says no worker holds it).
With --workers 2 the capture is split over two RX queues (RSS's job on a
NIC), one per worker, and every tenth push is a health change instead
(an instance down, later up again): still no packet lost.
usage: push_under_load.py ASENETD ASENETCTL [--workers N]"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "lib"))
from asenet_golden import FABRIC_MAC, write_pcap  # noqa: E402
from scapy.all import IP, TCP, Ether, Raw  # noqa: E402

asenetd, asenetctl = sys.argv[1], sys.argv[2]
WORKERS = int(sys.argv[sys.argv.index("--workers") + 1]) if "--workers" in sys.argv else 1
PUSHES = 100
tmp = tempfile.mkdtemp(prefix="asenet-push-")
prefix = "asenet-push-%d" % os.getpid()
sock = os.path.join(tmp, "ctl.sock")
VIP = "192.23.1.2"

TOPO = """
[vnet]
name = "vvnet"
address_space = "10.0.0.0/16"
[[subnets]]
name = "ase"
prefix = "10.0.1.0/26"
nsg = "ase-nsg"
[[ases]]
name = "ase"
subnet = "ase"
public_vip = "192.23.1.2"
instances = ["10.0.1.4", "10.0.1.5", "10.0.1.6"]
[[nsgs]]
name = "ase-nsg"
[[nsgs.rules]]
name = "AllowMgmt"
priority = 100
direction = "Inbound"
access = "Allow"
protocol = "Tcp"
source_address_prefixes = "*"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "454-455"
%s
[ports]
internet = "net_pcap0,%s,infinite_rx=1"
vnet = "net_null0,no-rx=1"
onprem = "net_null1,no-rx=1"
"""
ALLOW = """
[[nsgs.rules]]
name = "AllowHttps"
priority = 300
direction = "Inbound"
access = "Allow"
protocol = "Tcp"
source_address_prefixes = "Internet"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "443"
"""


def ctl(*args, check=True):
    r = subprocess.run([asenetctl] + list(args), capture_output=True, text=True, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError("asenetctl %s exited %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r


def stats():
    return json.loads(ctl("stats", "--socket", sock, "--json").stdout)


daemon = None
try:
    # 100 connections: each opens with a SYN (a new flow the first time round),
    # then data; in later loops of the capture every packet is established.
    E = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
    pkts = [E / IP(src="198.51.100.%d" % (i + 1), dst=VIP) / TCP(sport=40000 + i, dport=443, flags="S", seq=1)
            for i in range(100)]
    for k in range(4):
        pkts += [E / IP(src="198.51.100.%d" % (i + 1), dst=VIP) /
                 TCP(sport=40000 + i, dport=443, flags="A", seq=2 + 10 * k) / Raw(b"x" * 10) for i in range(100)]
    # One capture per worker queue; a connection lives in one of them only.
    caps = []
    for q in range(WORKERS):
        cap = os.path.join(tmp, "established-%d.pcap" % q)
        write_pcap(cap, [p for p in pkts if (p[TCP].sport - 40000) % WORKERS == q])
        caps.append(cap)
    cap = ",".join("rx_pcap=" + c for c in caps)
    allow = os.path.join(tmp, "allow.toml")
    deny = os.path.join(tmp, "deny.toml")
    broken = os.path.join(tmp, "broken.toml")
    open(allow, "w").write(TOPO % (ALLOW, cap))
    open(deny, "w").write(TOPO % ("", cap))
    open(broken, "w").write((TOPO % (ALLOW, cap)).replace('"10.0.1.6"]', '"10.0.1.300"]'))
    summary = os.path.join(tmp, "summary.json")
    cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    daemon = subprocess.Popen([asenetd, "--lcores", "(0-%d)@(%s)" % (WORKERS, cpus), "--no-huge", "--no-shconf", "-m", "512",
                               "--no-pci", "--log-level=error", "--file-prefix", prefix, "--",
                               "--topology", allow, "--control-socket", sock, "--summary", summary],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(300):
        if os.path.exists(sock) or daemon.poll() is not None:
            break
        time.sleep(0.1)
    assert daemon.poll() is None, "asenetd died: %s" % daemon.communicate()[1]
    time.sleep(0.5)
    s = stats()
    assert s["flows"]["live"] == 100 and s["rule_hits"] == {"ase-nsg/AllowHttps": 100}, s
    heap = {}
    t0 = time.time()
    health_changes = 0
    for i in range(PUSHES):
        topo = allow if i % 2 == 0 else deny
        if WORKERS > 1 and i % 10 == 5:
            # A health change publishes tables too, but it raises the health
            # epoch, not the generation: 10.0.1.6 down, ten pushes later up.
            state = "down" if (i // 10) % 2 == 0 else "up"
            r = json.loads(ctl("health", "--socket", sock, "--ase", "ase", "--instance", "10.0.1.6", state,
                               "--json").stdout)
            health_changes += 1
        else:
            r = json.loads(ctl("push", "--socket", sock, "--topology", topo, "--json").stdout)
        assert r["generation"] == i + 2 - health_changes and r["health_epoch"] == health_changes, r
        if i == PUSHES // 2:
            before = stats()
            b = ctl("push", "--socket", sock, "--topology", broken, check=False)
            assert b.returncode == 2 and "broken.toml:" in b.stderr, b.stderr
            time.sleep(0.2)
            after = stats()
            assert after["generation"] == before["generation"] == i + 2 - health_changes, (before, after)
            assert after["packets_forwarded"] > before["packets_forwarded"], "no forwarding after a bad push"
        if i % 2 == 1 and i % 10 != 5:  # the deny topology (never a health change)
            mem = stats()["memory"]
            heap[i] = (mem["heap_allocations"], mem["heap_bytes_in_use"])
    elapsed = time.time() - t0
    s = stats()
    assert s["generation"] == PUSHES - health_changes + 1 and s["tables_version"] == PUSHES + 1, s
    assert s["control"]["pushes"] == PUSHES - health_changes and s["control"]["health_changes"] == health_changes, s["control"]
    assert s["workers"] == WORKERS
    assert s["drops"] == {}, s["drops"]
    assert s["flows"]["created"] == 100, s["flows"]
    print("%d pushes in %.1f s; %d packets in, %d forwarded; DPDK heap (blocks, bytes) after push 2: %s, after push %d: %s"
          % (PUSHES, elapsed, s["packets_in"], s["packets_forwarded"], heap[1], PUSHES, heap[PUSHES - 1]))
    # Every block a generation allocated is freed with it: the block count is
    # exact. Bytes may differ by an element header or two: how free space
    # splits and merges (fragmentation), not memory that is held.
    assert heap[1][0] == heap[PUSHES - 1][0], "DPDK heap blocks grew over %d pushes: %s -> %s" % (PUSHES, heap[1], heap[PUSHES - 1])
    assert abs(heap[1][1] - heap[PUSHES - 1][1]) <= 1024, "DPDK heap grew: %s -> %s" % (heap[1], heap[PUSHES - 1])

    daemon.send_signal(signal.SIGINT)
    out, err = daemon.communicate(timeout=30)
    assert daemon.returncode == 0, "asenetd exited %d: %s" % (daemon.returncode, err)
    daemon = None
    fin = json.load(open(summary))
    print(json.dumps(fin))
    assert fin["generation"] == PUSHES - health_changes + 1
    assert fin["drops"] == {}, fin["drops"]
    assert fin["packets_in"] > 100000 and fin["packets_forwarded"] == fin["packets_in"], fin
    print("push under load: ok")
finally:
    if daemon is not None:
        daemon.kill()
        print(daemon.communicate()[1])
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)

#!/usr/bin/python3
"""EAL smoke test of asenetd on pcap vdevs: asenetd probes the pcap PMD devices
named in the topology's [ports], forwards for a moment on a worker lcore, stops
on --duration, and what it wrote must be what the fabric does (issue 2 point 4).
usage: smoke_asenetd.py ASENETD"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "lib"))
from asenet_golden import FABRIC_MAC, PEER_MAC, write_pcap  # noqa: E402
from scapy.all import IP, UDP, Ether, rdpcap  # noqa: E402

asenetd = sys.argv[1]
tmp = tempfile.mkdtemp(prefix="asenet-smoke-")
prefix = "asenet-smoke-%d" % os.getpid()
try:
    E = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
    inputs = {
        "internet": [E / IP(src="198.51.100.1", dst="192.23.1.2") / UDP(sport=1, dport=9)],  # VIP, no frontend
        "vnet": [E / IP(src="10.0.1.4", dst="10.0.2.%d" % i) / UDP(sport=5000 + i, dport=53) for i in range(4, 14)]
        + [E / IP(src="10.0.1.4", dst="172.16.5.10") / UDP(sport=6000, dport=443),
           E / IP(src="10.0.1.4", dst="10.0.2.4", ttl=1) / UDP(sport=7000, dport=53)],
        "onprem": [E / IP(src="172.16.5.10", dst="10.0.1.4") / UDP(sport=443, dport=6000)],
    }
    ports = {}
    for i, (side, pkts) in enumerate(inputs.items()):
        write_pcap(os.path.join(tmp, "in_%s.pcap" % side), pkts)
        ports[side] = "net_pcap%d,rx_pcap=%s/in_%s.pcap,tx_pcap=%s/out_%s.pcap" % (i, tmp, side, tmp, side)
    topo = os.path.join(tmp, "topo.toml")
    with open(topo, "w") as f:
        f.write('[vnet]\nname = "vvnet"\naddress_space = "10.0.0.0/16"\n'
                '[[subnets]]\nname = "ase"\nprefix = "10.0.1.0/26"\n'
                '[[ases]]\nname = "ase"\nsubnet = "ase"\npublic_vip = "192.23.1.2"\ninstances = "10.0.1.4"\n'
                '[gateway]\nbgp_routes = "172.16.0.0/12"\n[ports]\n')
        for side, dev in ports.items():
            f.write('%s = "%s"\n' % (side, dev))
    summary = os.path.join(tmp, "summary.json")
    cmd = [asenetd, "--lcores", "(0-1)@(%s)" % ",".join(str(c) for c in sorted(os.sched_getaffinity(0))),
           "--no-huge", "--no-shconf", "-m", "256", "--no-pci", "--log-level=error", "--file-prefix", prefix,
           "--", "--topology", topo, "--duration", "1.5", "--summary", summary]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    print(r.stderr)
    assert r.returncode == 0, "asenetd exited %d" % r.returncode
    s = json.load(open(summary))
    print(json.dumps(s))
    assert s["packets_in"] == 14, s
    assert s["packets_out"] == {"internet": 0, "vnet": 11, "onprem": 1}, s
    assert s["drops"] == {"ttl_exceeded": 1, "no_frontend": 1}, s
    out = {side: rdpcap(os.path.join(tmp, "out_%s.pcap" % side)) for side in inputs}
    assert len(out["vnet"]) == 11 and len(out["onprem"]) == 1 and len(out["internet"]) == 0
    for side in ("vnet", "onprem"):
        for p in out[side]:
            assert p.src == FABRIC_MAC and p.dst == PEER_MAC[side], p.summary()
            assert p[IP].ttl == 63, p.summary()
            fixed = IP(bytes(p[IP]))
            del fixed.chksum
            assert IP(bytes(fixed)).chksum == p[IP].chksum, "IPv4 checksum wrong after TTL decrement"
    # The worker kept each side's order (one queue per side, one worker).
    assert [p[UDP].sport for p in out["vnet"] if p[IP].src == "10.0.1.4"] == list(range(5004, 5014))
    print("asenetd smoke: ok")
finally:
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)

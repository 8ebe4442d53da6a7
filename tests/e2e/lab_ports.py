#!/usr/bin/python3
"""End to end: how a lab's asenetd meets its sides (issue 18, section 2).
- A jumbo lab ([emulator] mtu = 9000, af_packet veths, scripts/lab's
  default): every namespace's eth0 is at MTU 9000; a 9,000-byte IP datagram
  with DF set crosses the fabric whole from the VNet host to an instance
  (Azure carries MTUs above 1,500 within a virtual network only); a TCP
  connection through the VIP negotiates a jumbo MSS and carries data; the
  worker's busy and idle cycles are counted.
- The same jumbo topology on TAPs is refused with a message naming
  af_packet (DPDK's net_tap carries MTU 1500 at most), and nothing is left.
- A lab on TAPs (--ports tap) at MTU 1500 still answers curl through the VIP.
usage: lab_ports.py REPO_ROOT"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labkit import (NAME, ns, VIP, background, curl, http_server, in_ns, iperf_through_vip, lab, root, run,  # noqa: E402
                    stats, stop_all, tmp)

RX = ("import socket, sys\n"
      "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((sys.argv[1], 9999)); s.settimeout(10)\n"
      "d, a = s.recvfrom(65535); print(len(d), a[0], flush=True)\n")
TX = ("import socket, sys\n"
      "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
      "s.setsockopt(socket.IPPROTO_IP, 10, 2)  # IP_MTU_DISCOVER = IP_PMTUDISC_DO: DF, never fragmented\n"
      "s.sendto(b'x' * int(sys.argv[2]), (sys.argv[1], 9999))\n")


def wait_up(timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if all(p["state"] == "up" for p in stats().get("probes", [])):
            return
        time.sleep(0.5)
    raise AssertionError("the instances' probes never came up: %s" % stats().get("probes"))


ok = False
jumbo = os.path.join(tmp, "jumbo.toml")
first = os.path.join(root, "config", "labs", "first-ase.toml")
with open(first) as f:
    text = f.read()
with open(jumbo, "w") as f:
    f.write(text.replace("[vnet]", "[emulator]\nmtu = 9000\n\n[vnet]", 1))
try:
    run(lab, "down", NAME, check=False)
    print(run(lab, "up", jumbo, "--name", NAME).stdout)
    for n in ("internet", "vm", "ase-one-0"):
        link = in_ns(ns(n), "ip", "-o", "link", "show", "eth0").stdout
        assert " mtu 9000 " in link, link
    print("every namespace's eth0 at MTU 9000: ok")

    log = background(ns("ase-one-0"), "udp-rx", "/usr/bin/python3", "-c", RX, "10.0.1.4")
    time.sleep(0.5)
    in_ns(ns("vm"), "/usr/bin/python3", "-c", TX, "10.0.1.4", "8972")  # 8,972 + 8 + 20 = 9,000 bytes
    for _ in range(50):
        if open(log).read().strip():
            break
        time.sleep(0.1)
    got = open(log).read().split()
    assert got == ["8972", "10.0.2.4"], "the 9,000-byte datagram from the VNet host: %s" % got
    print("a 9,000-byte DF datagram, VNet host to instance, arrived whole: ok")

    http_server(ns("ase-one-0"), "http0", "10.0.1.4", 80)
    http_server(ns("ase-one-1"), "http1", "10.0.1.5", 80)
    wait_up()
    assert curl(ns("internet"), "http://%s/" % VIP) == 200
    j = iperf_through_vip(1, "iperf")
    assert j["end"]["sum_received"]["bytes"] > 0, j["end"]
    mss = j["start"].get("tcp_mss_default", 0)
    assert mss > 8000, "a jumbo MSS through the VIP, not %d" % mss
    print("curl 200 and iperf3 through the VIP with MSS %d (%.2f Gbit/s): ok"
          % (mss, j["end"]["sum_received"]["bits_per_second"] / 1e9))
    w = stats()["per_worker"][0]
    assert w["busy_cycles"] > 0 and w["idle_cycles"] > 0, w
    text_stats = run(os.path.join(root, "build", "control", "asenetctl"), "stats", "--socket",
                     "/run/asenet-lab/%s/ctl.sock" % NAME).stdout
    assert re.search(r"worker 0: \d+ packets, busy [\d.]+ % of its cycles", text_stats), text_stats
    print("the worker's busy and idle cycles counted: ok")
    stop_all()
    run(lab, "down", NAME)

    r = run(lab, "up", jumbo, "--name", NAME, "--ports", "tap", check=False)
    assert r.returncode != 0 and "af_packet" in r.stderr and "1500" in r.stderr, (r.returncode, r.stderr)
    assert not os.path.exists("/run/asenet-lab/%s" % NAME), "a refused lab left its run folder"
    assert ns("internet") not in run("ip", "netns", "list").stdout, "a refused lab left its namespaces"
    print("MTU 9000 on TAPs refused (%s), nothing left: ok" % r.stderr.strip().splitlines()[-1][:90])

    print(run(lab, "up", first, "--name", NAME, "--ports", "tap").stdout)
    assert "TAP as" in run(lab, "status", "--name", NAME).stdout
    http_server(ns("ase-one-0"), "http0t", "10.0.1.4", 80)
    http_server(ns("ase-one-1"), "http1t", "10.0.1.5", 80)
    wait_up()
    assert curl(ns("internet"), "http://%s/" % VIP) == 200
    print("a lab on TAPs at MTU 1500: curl through the VIP 200: ok")
    ok = True
finally:
    stop_all()
    if not ok and os.path.exists("/run/asenet-lab/%s/asenetd.log" % NAME):
        print("--- asenetd.log\n" + open("/run/asenet-lab/%s/asenetd.log" % NAME).read()[-3000:])
    run(lab, "down", NAME, check=False)
print("lab ports: ok" if ok else "lab ports: FAILED")
sys.exit(0 if ok else 1)

#!/usr/bin/python3
"""End to end with two workers (issue 8: RSS across workers): the first-ase
lab (scripts/lab up --workers 2), where each port has two queues (two
af_packet sockets in a fanout group) and the kernel spreads flows over them
by its own hash, so a connection's two
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
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labkit import (NAME, ns, CLIENT, SERVER, VIP, background, curl, http_server, in_ns, lab, root, run,  # noqa: E402
                    stats, stop_all, wait_listening)

ok = False
try:
    run(lab, "down", NAME, check=False)
    print(run(lab, "up", os.path.join(root, "config", "labs", "first-ase.toml"), "--name", NAME, "--workers", "2").stdout)
    s = stats()
    assert s["workers"] == 2, s["workers"]
    logs = [http_server(ns("ase-one-%d" % i), "http%d" % i, "10.0.1.%d" % (4 + i), 80) for i in (0, 1)]
    srv = http_server(ns("internet"), "internet-http", SERVER, 80)

    codes = [curl(ns("internet"), "http://%s/" % VIP) for _ in range(16)]
    assert codes == [200] * 16, "curl to the VIP with two workers: %s" % codes
    seen = open(logs[0]).read() + open(logs[1]).read()
    assert len(re.findall(r"^%s - - .*\"GET / HTTP/1.1\" 200" % re.escape(CLIENT), seen, re.M)) == 16, seen
    print("16 curls to the VIP: all 200, the instances saw %s: ok" % CLIENT)

    codes = [curl(ns("ase-one-0"), "http://%s/" % SERVER) for _ in range(16)]
    assert codes == [200] * 16, "outbound curls with two workers: %s" % codes
    assert len(re.findall(r"^%s - - .*\"GET / HTTP/1.1\" 200" % re.escape(VIP), open(srv).read(), re.M)) == 16
    print("16 outbound curls: all 200, the server saw the VIP: ok")

    stop_all()
    for i in (0, 1):
        background(ns("ase-one-%d" % i), "iperf-%d" % i, "iperf3", "-s", "-p", "80", "-B", "10.0.1.%d" % (4 + i))
        wait_listening(ns("ase-one-%d" % i), 80)
    r = in_ns(ns("internet"), "iperf3", "-c", VIP, "-p", "80", "-t", "2", "-P", "4", "-J", check=False, timeout=60)
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
    stop_all()
    run(lab, "down", NAME, check=False)
print("lab_workers: " + ("ok" if ok else "FAILED"))
sys.exit(0 if ok else 1)

#!/usr/bin/python3
"""End to end (issue 7): real Linux stacks in network namespaces talk through
asenetd on af_packet veths (scripts/lab), with unmodified curl, Python's HTTP
server and iperf3.

config/labs/first-ase.toml:
- curl from NAME-internet (203.0.113.10) to the VIP reaches a real HTTP
  server in an instance namespace, and the server sees the client's address
  (the LB rewrites only the destination);
- an instance's outbound curl to the server in NAME-internet arrives from
  the VIP (SNAT);
- HTTPS to the VIP, which the NSG does not admit, never connects, and
  `asenetctl stats` counts the nsg_deny drop and the DenyAllInBound hit;
- iperf3 through the VIP (to an instance) and through SNAT (from one)
  completes.
config/labs/forced-tunnel.toml, then forced-tunnel-fixed.toml:
- the instance's Internet traffic goes on-premises; the management
  handshake from 70.37.57.58 to VIP:454 fails (its SYN-ACK goes on-premises);
- after the documented fix is pushed, the handshake completes.
Beside it, the whole run long, a second lab of the same topology under
another name (issue 18): it answers its own curl before and after, and a
third `up` under a name already up is refused.
usage: lab_e2e.py REPO_ROOT"""

import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from labkit import (NAME, ns, CLIENT, MGMT, SERVER, VIP, background, curl, http_server, in_ns, iperf_through_vip,  # noqa: E402,E501
                    lab, procs, root, run, stats, stop_all, tmp, wait_listening)

OTHER = NAME + "b"  # the lab beside this run's
FIRST = os.path.join(root, "config", "labs", "first-ase.toml")
other_servers = []


def other_lab_up():
    run(lab, "down", OTHER, check=False)
    print(run(lab, "up", FIRST, "--name", OTHER).stdout)
    for i in (0, 1):
        other_servers.append(subprocess.Popen(
            ["ip", "netns", "exec", "%s-ase-one-%d" % (OTHER, i), "/usr/bin/python3", "-m", "http.server", "80",
             "--bind", "10.0.1.%d" % (4 + i)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True))
        wait_listening("%s-ase-one-%d" % (OTHER, i), 80)
    assert curl(OTHER + "-internet", "http://%s/" % VIP) == 200, "curl in the other lab failed"
    r = run(lab, "up", FIRST, "--name", OTHER, check=False)
    assert r.returncode != 0 and "up already" in r.stderr, r.stderr
    print("a second lab (%s) up beside this one, answering; the same name twice refused: ok" % OTHER)


def other_lab_down():
    for p in other_servers:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    run(lab, "down", OTHER, check=False)


try:
    run(lab, "down", NAME, check=False)
    other_lab_up()
    # ---- first-ase ---------------------------------------------------------------
    print(run(lab, "up", os.path.join(root, "config", "labs", "first-ase.toml"), "--name", NAME).stdout)
    logs = {i: http_server(ns("ase-one-%d" % i), "http%d" % i, "10.0.1.%d" % (4 + i), 80) for i in (0, 1)}
    srv = http_server(ns("internet"), "internet-http", SERVER, 80)

    def probes_state(want, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            s = stats()
            got = {p["instance"]: (p["state"], p["last"]) for p in s.get("probes", [])}
            if all(got.get(ip, ("?", ""))[0] == st and (st == "down" or got[ip][1] == "ok") for ip, st in want.items()):
                return s
            time.sleep(0.5)
        raise AssertionError("probes never reached %s: %s" % (want, stats().get("probes")))
    s = probes_state({"10.0.1.4": "up", "10.0.1.5": "up"})
    # Each probe's round trip: from the SYN's sending to the SYN-ACK's arrival,
    # a veth and a namespace's TCP away (well under the 5 s interval).
    assert all(0 < p["rtt_s"] < 1 for p in s["probes"]), s["probes"]
    print("health probes from 168.63.129.16: both instances up, round trips %s s: ok"
          % [round(p["rtt_s"], 6) for p in s["probes"]])

    assert curl(ns("internet"), "http://%s/" % VIP) == 200, "curl to the VIP failed"
    seen = open(logs[0]).read() + open(logs[1]).read()
    assert re.search(r"^%s - - .*\"GET / HTTP/1.1\" 200" % re.escape(CLIENT), seen, re.M), \
        "the instance did not see the client's address:\n" + seen
    print("curl to the VIP: 200, the instance saw %s: ok" % CLIENT)

    assert curl(ns("ase-one-0"), "http://%s/" % SERVER) == 200, "outbound curl failed"
    seen = open(srv).read()
    assert re.search(r"^%s - - .*\"GET / HTTP/1.1\" 200" % re.escape(VIP), seen, re.M), \
        "the Internet server did not see the VIP:\n" + seen
    print("outbound curl: the server saw the VIP %s: ok" % VIP)

    before = stats()
    assert curl(ns("internet"), "https://%s/" % VIP, "-k", timeout=3) == 0, "HTTPS was admitted"
    after = stats()
    assert after["drops"].get("nsg_deny", 0) > before["drops"].get("nsg_deny", 0), after["drops"]
    assert after["rule_hits"].get("ase-one-nsg/DenyAllInBound", 0) > \
        before["rule_hits"].get("ase-one-nsg/DenyAllInBound", 0), after["rule_hits"]
    print("NSG deny: HTTPS blocked, nsg_deny %d -> %d: ok" % (before["drops"].get("nsg_deny", 0),
                                                               after["drops"]["nsg_deny"]))
    assert any(n["mac"] for n in after["l2"]["neighbors"] if n["ip"] == "10.0.1.4"), after["l2"]
    assert after["l2"]["arp_replies"] > 0, after["l2"]
    print("neighbours in stats: %d entries: ok" % len(after["l2"]["neighbors"]))

    # Health probes: instance 1's server stops answering -> marked down, no new
    # flows; it comes back -> up again.
    procs_by_log = {p.args[-1]: p for p in procs}
    for p in list(procs):
        if "10.0.1.5" in p.args:
            os.killpg(p.pid, signal.SIGTERM)
            p.wait(timeout=10)
            procs.remove(p)
    s = probes_state({"10.0.1.4": "up", "10.0.1.5": "down"})
    assert s["health"]["ase-one/10.0.1.5"] == "down", s["health"]
    n0 = len(open(logs[0]).read().splitlines())
    for k in range(6):  # new connections from many clients: all to the healthy instance
        assert curl(ns("internet"), "http://%s/" % VIP, "--interface", "198.51.100.%d" % (80 + 0)) == 200
    assert len(open(logs[0]).read().splitlines()) == n0 + 6, "a connection went to the down instance"
    print("probe: 10.0.1.5 stopped answering, marked down, new connections all to 10.0.1.4: ok")
    logs[1] = http_server(ns("ase-one-1"), "http1b", "10.0.1.5", 80)
    probes_state({"10.0.1.4": "up", "10.0.1.5": "up"})
    print("probe: 10.0.1.5 answers again, marked up: ok")
    del procs_by_log

    # HTTP probes (pushed): a path that answers 404 fails them, "/" passes.
    base = open(os.path.join(root, "config", "labs", "first-ase.toml")).read()
    for path, want in (("/missing", "down"), ("/", "up")):
        t = os.path.join(tmp, "http-probe.toml")
        open(t, "w").write(base.replace("probe_port = 80\n", 'probe_port = 80\nprobe_protocol = "Http"\n'
                                                           'probe_path = "%s"\n' % path))
        run(lab, "push", "--name", NAME, t)
        s = probes_state({"10.0.1.4": want, "10.0.1.5": want}, timeout=40)
        if want == "down":
            assert {p["last"] for p in s["probes"]} == {"http_status"}, s["probes"]
            assert curl(ns("internet"), "http://%s/" % VIP, timeout=3) == 0, "a down ASE still answered"
    assert "GET /missing HTTP/1.1\" 404" in open(logs[0]).read(), "the HTTP probe never asked the server"
    run(lab, "push", "--name", NAME, os.path.join(root, "config", "labs", "first-ase.toml"))
    print("HTTP probes: 404 on the path marks both instances down (no backend), 200 brings them up: ok")

    # iperf3: through the VIP (a server on the app port 80 of each instance) and through SNAT.
    j = iperf_through_vip(2, "iperf-vip")
    bps = j["end"]["sum_received"]["bits_per_second"]
    print("iperf3 through the VIP: %.0f Mbit/s: ok" % (bps / 1e6))
    background(ns("internet"), "iperf-snat", "iperf3", "-s", "-p", "5201", "-B", SERVER)
    wait_listening(ns("internet"), 5201)
    r = in_ns(ns("ase-one-0"), "iperf3", "-c", SERVER, "-p", "5201", "-t", "2", "-J", check=False, timeout=60)
    j = json.loads(r.stdout) if r.stdout.strip().startswith("{") else {}
    assert r.returncode == 0 and "error" not in j, "iperf3 through SNAT: " + r.stdout[-500:] + r.stderr
    print("iperf3 through SNAT: %.0f Mbit/s: ok" % (j["end"]["sum_received"]["bits_per_second"] / 1e6))
    stop_all()
    run(lab, "down", NAME)

    # ---- forced tunnelling ------------------------------------------------------------
    print(run(lab, "up", os.path.join(root, "config", "labs", "forced-tunnel.toml"), "--name", NAME).stdout)
    http_server(ns("ase-one-0"), "mgmt", "10.0.1.4", 454)
    background(ns("internet"), "internet-http-ft", "/usr/bin/python3", "-u", "-m", "http.server", "80",
               "--bind", SERVER)
    wait_listening(ns("internet"), 80)
    before = stats()
    assert curl(ns("ase-one-0"), "http://%s/" % SERVER, timeout=3) == 0, "the instance reached the Internet directly"
    mid = stats()
    assert mid["ports"]["onprem"]["tx"] > before["ports"]["onprem"]["tx"], "nothing went on-premises"
    print("forced tunnel: the instance's Internet traffic went on-premises: ok")
    assert curl(ns("internet"), "http://%s:454/" % VIP, "--interface", MGMT, timeout=3) == 0, \
        "the management handshake completed through a forced tunnel"
    after = stats()
    assert after["ports"]["onprem"]["tx"] > mid["ports"]["onprem"]["tx"], "the SYN-ACK did not go on-premises"
    print("forced tunnel: management to VIP:454 fails, its SYN-ACK went on-premises: ok")
    r = run(lab, "push", "--name", NAME, os.path.join(root, "config", "labs", "forced-tunnel-fixed.toml"))
    print(r.stdout.strip())
    assert curl(ns("internet"), "http://%s:454/" % VIP, "--interface", MGMT) == 200, \
        "the management handshake still fails after the fix"
    print("fixed (UDR 0.0.0.0/0 -> Internet): management to VIP:454 answers 200: ok")
    stop_all()
    run(lab, "down", NAME)
    assert curl(OTHER + "-internet", "http://%s/" % VIP) == 200, "the other lab stopped answering"
    print("the other lab answered throughout: ok")
    other_lab_down()
    print("lab e2e: ok")
except Exception:
    stop_all()
    for n in sorted(os.listdir(tmp)):
        print("--- %s\n%s" % (n, open(os.path.join(tmp, n)).read()[-2000:]))
    if os.path.exists("/run/asenet-lab/%s/asenetd.log" % NAME):
        print("--- asenetd.log\n" + open("/run/asenet-lab/%s/asenetd.log" % NAME).read()[-3000:])
    run(lab, "down", NAME, check=False)
    other_lab_down()
    raise

#!/usr/bin/python3
"""asenetd --metrics-listen (issue 19, section 1): GET /metrics over HTTP.
- A malformed ADDR:PORT is refused before EAL starts (exit 2, the option
  named); a port already taken is refused at start (exit 1) and leaves no
  EAL runtime folder.
- GET /metrics answers 200 with Prometheus' text content type (version
  0.0.4); every sample belongs to a family declared by # HELP and # TYPE,
  every value is a number, and the families are the ones `asenetctl stats
  --format prometheus` prints (the same snapshot); the worker's busy and
  idle cycles and the generation are there. `promtool check metrics` passes
  when promtool is installed (Debian's prometheus package).
- Every expression of the Grafana dashboard (config/grafana/
  asenet-dashboard.json) names only series asenetd serves, and the dashboard
  covers traffic, drops, connections, rules, SNAT, health and the workers.
- `asenetctl stats --watch S --count N`: N plain lines when not on a
  terminal (a push during one interval shows as "pushes 1" in that line
  only), the top-like block redrawn in place on a pseudo-terminal, and a
  --watch outside 0.1-3600 s refused (exit 2).
- Any other path is 404; a client that connects and sends nothing does not
  stop the next scrape; SIGTERM stops asenetd cleanly with the server up.
usage: metrics_http.py ASENETD ASENETCTL"""

import json
import os
import pty
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "lib"))
from asenet_golden import read_pty  # noqa: E402

asenetd, asenetctl = sys.argv[1], sys.argv[2]
DASHBOARD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "config", "grafana",
                         "asenet-dashboard.json")
tmp = tempfile.mkdtemp(prefix="asenet-metrics-")
prefix = "asenet-metrics-%d" % os.getpid()
sock = os.path.join(tmp, "ctl.sock")
topo = os.path.join(tmp, "t.toml")
# The README's example topology, on null devices (its own [ports] are pcaps).
EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "config", "examples",
                       "public-vip-ase.toml")
with open(EXAMPLE) as f, open(topo, "w") as out:
    out.write(re.sub(r'"net_pcap(\d)"', r'"net_null\1,no-rx=1"', f.read()))
cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
EAL = [asenetd, "--lcores", "(0-1)@(%s)" % cpus, "--no-huge", "--no-shconf", "-m", "256", "--no-pci",
       "--log-level=error", "--file-prefix", prefix, "--", "--topology", topo]
FAMILY_LINE = re.compile(r"# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)")
SAMPLE_LINE = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)$')


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def families(text):
    """{family: type}, after checking every line of the exposition."""
    typed, helped = {}, set()
    for line in text.splitlines():
        m = FAMILY_LINE.fullmatch(line)
        if m:
            (typed.__setitem__(m.group(2), m.group(3)) if m.group(1) == "TYPE" else helped.add(m.group(2)))
            continue
        m = SAMPLE_LINE.fullmatch(line)
        assert m, "not a Prometheus sample line: %r" % line
        name = m.group(1)
        base = re.sub(r"_(total|bucket|sum|count)$", "", name)
        assert name in typed or base in typed, "sample %s before its # TYPE" % name
        float(m.group(3))
    assert helped == set(typed), "families without # HELP or # TYPE: %s" % (helped ^ set(typed))
    return typed


def get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=5) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), ""


ok = False
daemon = None
try:
    for bad, why in (("nonsense", "ADDR:PORT"), ("127.0.0.1:99999", "not a port"),
                     ("localhost:9469", "not an IPv4 or IPv6 address"), ("[::1]9469", "[ADDR]:PORT")):
        r = subprocess.run(EAL + ["--metrics-listen", bad], capture_output=True, text=True, timeout=30)
        assert r.returncode == 2 and "--metrics-listen" in r.stderr and why in r.stderr, (bad, r.returncode, r.stderr)
        assert "EAL" not in r.stderr, "EAL started before the option was checked: %s" % r.stderr
    print("malformed --metrics-listen refused before EAL (exit 2): ok")

    port = free_port()
    daemon = subprocess.Popen(EAL + ["--control-socket", sock, "--metrics-listen", "127.0.0.1:%d" % port],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(300):
        if os.path.exists(sock) or daemon.poll() is not None:
            break
        time.sleep(0.1)
    assert daemon.poll() is None, "asenetd did not start: %s" % daemon.stderr.read()
    time.sleep(0.3)  # the first 200 ms snapshot

    status, ctype, body = get(port, "/metrics")
    assert status == 200 and ctype.startswith("text/plain") and "version=0.0.4" in ctype, (status, ctype)
    served = families(body)
    assert re.search(r"^asenet_generation 1$", body, re.M), body[:400]
    assert re.search(r'^asenet_worker_busy_cycles_total\{worker="0"\} \d+$', body, re.M), body[:400]
    assert re.search(r'^asenet_worker_idle_cycles_total\{worker="0"\} [1-9]\d*$', body, re.M), body[:400]
    cli = subprocess.run([asenetctl, "stats", "--socket", sock, "--format", "prometheus"], capture_output=True,
                         text=True, timeout=30, check=True).stdout
    assert served == families(cli), "GET /metrics and stats --format prometheus differ: %s" % (
        set(served.items()) ^ set(families(cli).items()))
    print("GET /metrics: 200, %s, %d families, the same as stats --format prometheus: ok" % (ctype, len(served)))
    promtool = shutil.which("promtool")
    if promtool:
        r = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, "promtool check metrics: %s%s" % (r.stdout, r.stderr)
        print("promtool check metrics: ok")
    else:
        print("promtool check metrics: skipped (promtool not installed)")

    dash = json.load(open(DASHBOARD))
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    samples = {m.group(1) for m in (SAMPLE_LINE.fullmatch(l) for l in body.splitlines()) if m} | set(served)
    used = set()
    for e in exprs:
        names = set(re.findall(r"\basenet_[a-z0-9_]+", e))
        assert names, "a dashboard expression naming no asenet series: %s" % e
        unknown = names - samples
        assert not unknown, "the dashboard queries series asenetd does not serve: %s in %s" % (unknown, e)
        used |= names
    for want in ("asenet_port_rx_packets_total", "asenet_port_rx_bytes_total", "asenet_drops_total",
                 "asenet_flows_created_total", "asenet_rule_hits_total", "asenet_snat_ports_in_use",
                 "asenet_instance_up", "asenet_worker_busy_cycles_total"):
        assert want in used, "the dashboard does not show %s" % want
    print("Grafana dashboard: %d panels, %d expressions, every series served: ok" % (len(dash["panels"]), len(exprs)))

    watch = subprocess.Popen([asenetctl, "stats", "--socket", sock, "--watch", "0.5", "--count", "4"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.2)
    subprocess.run([asenetctl, "push", "--socket", sock, "--topology", topo], capture_output=True, check=True,
                   timeout=60)
    out, err = watch.communicate(timeout=60)
    lines = out.splitlines()
    assert watch.returncode == 0 and len(lines) == 4, (watch.returncode, out, err)
    line_re = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d generation \d+ in \d+/s out \d+/s forwarded \d+/s "
                         r"dropped \d+/s new_flows \d+/s live_flows \d+ pushes (\d+) busy 0: [\d.]+ %")
    pushes = [int(line_re.fullmatch(l).group(1)) if line_re.fullmatch(l) else None for l in lines]
    assert None not in pushes and sorted(pushes) == [0, 0, 0, 1], "stats --watch lines: %s" % lines
    master, slave = pty.openpty()
    w = subprocess.Popen([asenetctl, "stats", "--socket", sock, "--watch", "0.2", "--count", "2"], stdout=slave,
                         stderr=subprocess.PIPE)
    os.close(slave)
    shown = read_pty(master)
    assert w.wait(timeout=30) == 0
    os.close(master)
    assert shown.count(b"\x1b[H\x1b[2J") == 2 and b"packets   in 0/s" in shown, shown[:300]
    r = subprocess.run([asenetctl, "stats", "--socket", sock, "--watch", "0"], capture_output=True, text=True)
    assert r.returncode == 2 and "--watch" in r.stderr, (r.returncode, r.stderr)
    print("stats --watch: plain lines (a push counted in its interval), redrawn on a terminal: ok")

    assert get(port, "/nothing")[0] == 404
    silent = socket.create_connection(("127.0.0.1", port))
    status, _, _ = get(port, "/metrics")
    assert status == 200, status
    silent.close()
    print("other paths 404; a silent client does not stop a scrape: ok")

    r = subprocess.run([a.replace(prefix, prefix + "b") for a in EAL] + ["--metrics-listen", "127.0.0.1:%d" % port],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "cannot listen on 127.0.0.1 port %d" % port in r.stderr, (r.returncode, r.stderr)
    assert not os.path.exists("/var/run/dpdk/%sb" % prefix), "a refused asenetd left its EAL runtime folder"
    print("a second asenetd on the same port refused (exit 1): ok")

    daemon.send_signal(signal.SIGTERM)
    rc = daemon.wait(timeout=30)
    assert rc == 0, "asenetd exited %d on SIGTERM: %s" % (rc, daemon.stderr.read()[-500:])
    daemon = None
    print("SIGTERM with the endpoint up: clean exit: ok")
    ok = True
finally:
    if daemon is not None and daemon.poll() is None:
        daemon.kill()
        daemon.wait()
    shutil.rmtree(tmp, ignore_errors=True)
print("metrics http: ok" if ok else "metrics http: FAILED")
sys.exit(0 if ok else 1)

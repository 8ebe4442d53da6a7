#!/usr/bin/python3
"""Progress on long work (issue 19, section 4): replay of a large capture on a
pseudo-terminal redraws one status line on stderr (packets, rate, elapsed,
time left) and clears it; on a pipe there is no such line, only the summary's
"Rated:" line; with --timing summary.json has the run's elapsed time and packets per
second (without, it stays byte-identical from run to run, as the contract says).
bench draws the run under way between runs (never inside a timed loop) and
ends with one line saying how long it took; import and nsg analyze end with
their count and time.
usage: test_progress.py ASENETCTL SOURCE_ROOT"""

import glob
import json
import os
import re
import pty
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "lib"))
from asenet_golden import read_pty  # noqa: E402

asenetctl, root = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="asenet-progress-")
topo = os.path.join(root, "config", "examples", "public-vip-ase.toml")
PACKETS = 1500000

try:
    # A pcap of PACKETS copies of one SYN from the Internet to the example's
    # VIP, built by scapy once (building each would take minutes).
    from scapy.all import IP, TCP, Ether
    frame = bytes(Ether(src="02:00:00:00:00:02", dst="02:00:00:00:00:01") / IP(src="203.0.113.7", dst="192.23.1.2") /
                  TCP(sport=50000, dport=443, flags="S"))
    path = os.path.join(tmp, "big.pcap")
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        recs = []
        for i in range(PACKETS):
            recs.append(struct.pack("<IIII", 1700000000 + i // 1000000, i % 1000000, len(frame), len(frame)) + frame)
        f.write(b"".join(recs))

    def on_pty(args):
        """Runs args with stderr on a pseudo-terminal: rc, stdout, stderr."""
        master, slave = pty.openpty()
        p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=slave, env=dict(os.environ, TERM="xterm"))
        os.close(slave)
        err = read_pty(master)
        out_text = p.stdout.read().decode()
        p.wait(timeout=300)
        os.close(master)
        return p.returncode, out_text, err.decode(errors="replace")

    def replay(out, tty, *extra):
        args = [asenetctl, "replay", "--topology", topo, "--in", "internet=" + path, "--out-dir", out] + list(extra)
        if tty:
            return on_pty(args)
        r = subprocess.run(args, capture_output=True, text=True, timeout=300)
        return r.returncode, r.stdout, r.stderr

    rc, out, err = replay(os.path.join(tmp, "tty"), True)
    assert rc == 0, (rc, err)
    lines = [l for l in err.split("\r\x1b[K") if l.strip()]
    assert lines, "no progress line on a terminal: %r" % err[:400]
    assert all(l.startswith("replay: ") and "packets/s" in l and "elapsed" in l for l in lines), lines[:3]
    assert any("left" in l for l in lines), lines[:3]
    assert err.endswith("\r\x1b[K"), "the line is not cleared at the end: %r" % err[-80:]
    assert "Rated: 1,500,000 packets in " in out, out
    print("replay on a pty: %d progress redraws, then cleared: ok" % len(lines))

    assert "run" not in json.load(open(os.path.join(tmp, "tty", "summary.json")))  # byte-identical runs by default
    rc, out, err = replay(os.path.join(tmp, "pipe"), False, "--timing")
    assert rc == 0 and "\r" not in err and "\x1b" not in err, (rc, err)
    assert "Rated: 1,500,000 packets in " in out, out
    run = json.load(open(os.path.join(tmp, "pipe", "summary.json")))["run"]
    assert run["elapsed_s"] > 0 and abs(run["packets_per_second"] - PACKETS / run["elapsed_s"]) <= 0.001 * run["packets_per_second"], run
    print("replay on a pipe: no progress, one Rated line, summary.json run %s: ok" % run)

    rc, out, err = on_pty([asenetctl, "bench", "--scenario", "established", "--flows", "2000", "--seconds", "0.2",
                           "--workers", "2", "--no-baseline", "--json"])
    assert rc == 0 and json.loads(out)["scenario"] == "established", (rc, out, err)
    steps = [l for l in err.split("\r\x1b[K") if l.strip()]
    assert len(steps) >= 3, steps  # one worker, two workers, the closing line
    assert steps[0].startswith("bench: one worker in process (3 rounds in 0.2 s), ") and "elapsed" in steps[0], steps
    assert steps[1].startswith("bench: 2 workers in process") and "left" in steps[1], steps
    assert re.fullmatch(r"bench: 2 runs in \d+\.\d{3} s\r?\n", steps[-1]), steps[-1]
    print("bench on a pty: %s: ok" % steps[:2])

    r = subprocess.run([asenetctl, "import", "--out", "-"] + sorted(glob.glob(os.path.join(root, "config", "examples",
                                                                                          "azure", "*.json"))),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "\x1b" not in r.stderr, r.stderr
    assert re.search(r"^import: \d+ resources from \d+ file\(s\) in \d+\.\d{3} s, ", r.stderr, re.M), r.stderr
    r = subprocess.run([asenetctl, "nsg", "analyze", "--topology", topo, "--json"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and json.loads(r.stdout) and "\x1b" not in r.stderr, r.stderr
    assert re.fullmatch(r"nsg analyze: Rated: \d+ NSG directions in \d+\.\d{3} s, [\d,]+ NSG directions/s\n",
                        r.stderr), r.stderr
    print("import and nsg analyze on a pipe: one closing line each: ok")
finally:
    shutil.rmtree(tmp, ignore_errors=True)

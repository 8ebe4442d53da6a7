#!/usr/bin/python3
"""Smoke of `asenetctl bench` (suite perf): both scenarios run briefly, print
their figures, and drop nothing. No rate is asserted: performance is read from
the printed figures, never gated.
usage: bench_smoke.py ASENETCTL"""

import json
import subprocess
import sys

asenetctl = sys.argv[1]
bad = 0
for scenario in ("established", "new-flows"):
    r = subprocess.run([asenetctl, "bench", "--scenario", scenario, "--seconds", "0.3", "--flows", "20000", "--json"],
                       capture_output=True, text=True, timeout=300)
    print(r.stdout.strip() or r.stderr.strip())
    try:
        d = json.loads(r.stdout)
        ok = r.returncode == 0 and d["packets"] > 0 and d["drops"] == 0 and d["cycles_per_packet"] > 0
    except (ValueError, KeyError):
        ok = False
    print(("ok   " if ok else "FAIL ") + scenario)
    bad += 0 if ok else 1
sys.exit(1 if bad else 0)

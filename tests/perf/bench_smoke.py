#!/usr/bin/python3
"""Smoke of `asenetctl bench` (suite perf): every scenario runs briefly,
prints its figures and drops nothing; one run includes the dpdk-testpmd
baseline (io and 5tswap) and must print the issues' JSON keys; the replay
scenario runs on a small capture. No rate is asserted:
performance is read from the printed figures, never gated.
usage: bench_smoke.py ASENETCTL"""

import json
import subprocess
import sys

asenetctl = sys.argv[1]
bad = 0
runs = [
    ("established", ["--flows", "20000", "--no-baseline"]),
    ("new-flows", ["--no-baseline"]),
    ("nsg-1k", ["--no-baseline", "--no-stages"]),
    ("established", ["--flows", "20000", "--workers", "2", "--no-baseline", "--no-stages"]),
    ("established", ["--flows", "20000", "--seconds", "1", "--rounds", "1"]),  # with the testpmd baseline
    ("replay", ["--packets", "20000"]),
    ("flow-tables", ["--flows", "20000"]),
]
for scenario, extra in runs:
    seconds = [] if "--seconds" in extra else ["--seconds", "0.3"]
    args = [asenetctl, "bench", "--scenario", scenario, "--json"] + seconds + extra
    r = subprocess.run(args, capture_output=True, text=True, timeout=300)
    print(" ".join(args[1:]))
    print(r.stdout.strip() or r.stderr.strip())
    try:
        d = json.loads(r.stdout)
        if scenario == "flow-tables":
            ok = (r.returncode == 0 and d["keys"] == 40000 and d["rte_hash_cycles_per_lookup"] > 0
                  and d["key16_ext_cycles_per_lookup"] > 0)
            print(("ok   " if ok else "FAIL ") + scenario)
            bad += 0 if ok else 1
            continue
        if scenario == "replay":
            ok = (r.returncode == 0 and d["packets"] == 20000 and d["libpcap_seconds"] > 0 and d["replay_ratio"] > 0
                  and d["replay_trace_ratio"] > 0)
            print(("ok   " if ok else "FAIL ") + scenario)
            bad += 0 if ok else 1
            continue
        ok = (r.returncode == 0 and d["scenario"] == scenario and d["in_process"]["packets"] > 0 and d["drops"] == 0
              and d["mpps"] > 0 and d["cycles_per_packet"] > 0 and d["memory"]["flow_table_mib"] > 0)
        if scenario != "established":
            ok = ok and d["flows_created"] > 0 and d["connections_per_s"] > 0 and d["connection_cycles"] > 0
        elif "--workers" not in extra:  # the pass without the bench's two biases
            ok = ok and d["established_random"]["cycles_per_packet"] > 0
        ok = ok and d["memory"]["flow_and_snat_mib"] >= d["memory"]["flow_table_mib"]
        if "--workers" in extra:
            ok = ok and d["workers"] == 2 and d["scaling"]["workers_mpps"] > 0
        if "--no-baseline" not in extra:
            ok = ok and d["baseline"]["testpmd_io_mpps"] > 0 and d["ratio"] > 0 and d["vdev"]["asenetd_mpps"] > 0
            ok = ok and d["testpmd_5tswap_mpps"] > 0 and d["ratio_5tswap"] > 0
    except (ValueError, KeyError, TypeError) as e:
        print("bad output: %r" % e)
        ok = False
    print(("ok   " if ok else "FAIL ") + scenario + " " + " ".join(extra))
    bad += 0 if ok else 1
sys.exit(1 if bad else 0)

#!/usr/bin/python3
"""Runs one golden case through the real `asenetctl replay`.

  run_golden.py CASE_DIR ASENETCTL [--workers N] [--nodes N]

A case may hold apply.json, [[SECONDS, "TOPOLOGY.toml"], ...]: replay's
--apply (a new generation at that time after the first packet).

1. Runs the case's gen.py into a scratch folder and checks that it reproduces the
   checked-in in/ and expect/ files byte for byte: the expectation is what the
   script says Azure does, never a copy of asenet's output.
2. Replays in/*.pcap through CASE_DIR/topology.toml with --trace.
3. Compares every output pcap packet for packet (bytes and timestamps) with
   expect/, summary.json with expect/summary.json (the keys given there), and
   trace.jsonl line by line with expect/trace.jsonl (the keys given there),
   and, when the case has expect/flowlogs/, every NSG flow log file (as JSON),
   read back as well by lib/azure_flow_logs.py (Azure's documented layout).
4. Replays again and checks the outputs are byte-identical (determinism)."""

import filecmp
import json
import os
import shutil
import subprocess
import sys
import tempfile

from scapy.utils import RawPcapReader

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
import azure_flow_logs  # noqa: E402

SIDES = ("internet", "vnet", "onprem")


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def packets(path):
    out = []
    r = RawPcapReader(path)
    nano = getattr(r, "nano", False)
    for data, meta in r:
        frac = meta.tsusec if hasattr(meta, "tsusec") else meta.usec
        ns = meta.sec * 1_000_000_000 + (frac if nano else frac * 1000)
        out.append((ns, bytes(data)))
    r.close()
    return out


def subset(expected, actual, where):
    for k, v in expected.items():
        if k not in actual:
            fail("%s: missing key %r (have %s)" % (where, k, json.dumps(actual, sort_keys=True)))
        if isinstance(v, dict) and isinstance(actual[k], dict) and k not in ("drops", "rule_hits"):
            subset(v, actual[k], where + "." + k)
        elif actual[k] != v:
            fail("%s.%s: expected %s, got %s" % (where, k, json.dumps(v, sort_keys=True),
                                                 json.dumps(actual[k], sort_keys=True)))


def replay(case, asenetctl, out, workers, nodes=1):
    cmd = [asenetctl, "replay", "--topology", os.path.join(case, "topology.toml"), "--out-dir", out,
           "--trace", "--workers", str(workers), "--nodes", str(nodes)]
    for side in SIDES:
        p = os.path.join(case, "in", side + ".pcap")
        if os.path.exists(p):
            cmd += ["--in", "%s=%s" % (side, p)]
    # Rule changes during the capture: apply.json lists [SECONDS, TOPOLOGY] pairs.
    apply_json = os.path.join(case, "apply.json")
    if os.path.exists(apply_json):
        for secs, topo in json.load(open(apply_json)):
            cmd += ["--apply", "%s=%s" % (secs, os.path.join(case, topo))]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        fail("replay exited %d\n%s%s" % (r.returncode, r.stdout, r.stderr))
    return r


def main():
    case, asenetctl = sys.argv[1], sys.argv[2]
    workers = int(sys.argv[sys.argv.index("--workers") + 1]) if "--workers" in sys.argv else 1
    # --nodes N: a pool of N nodes of `workers` each (issue 20): the same outputs as one node.
    nodes = int(sys.argv[sys.argv.index("--nodes") + 1]) if "--nodes" in sys.argv else 1
    tmp = tempfile.mkdtemp(prefix="asenet-golden-")
    try:
        regen = os.path.join(tmp, "regen")
        r = subprocess.run(["/usr/bin/python3", os.path.join(case, "gen.py"), regen], capture_output=True, text=True)
        if r.returncode != 0:
            fail("gen.py failed\n" + r.stderr)
        def files(root):
            return {os.path.relpath(os.path.join(d, n), root) for d, _, ns in os.walk(root) for n in ns}
        for sub in ("in", "expect"):
            a, b = os.path.join(case, sub), os.path.join(regen, sub)
            names = sorted(files(a) | files(b))
            for n in names:
                if not (os.path.exists(os.path.join(a, n)) and os.path.exists(os.path.join(b, n))
                        and filecmp.cmp(os.path.join(a, n), os.path.join(b, n), shallow=False)):
                    fail("%s/%s is not what gen.py writes: run `/usr/bin/python3 %s/gen.py %s`"
                         % (sub, n, case, case))

        out = os.path.join(tmp, "out")
        replay(case, asenetctl, out, workers, nodes)
        outputs_json = os.path.join(case, "expect", "outputs.json")
        unchecked = json.load(open(outputs_json)) if os.path.exists(outputs_json) else {}
        for side in SIDES:
            want = packets(os.path.join(case, "expect", side + ".pcap"))
            got = packets(os.path.join(out, side + ".pcap"))
            if side in unchecked:
                # Outputs whose bytes are not asserted yet: count them, compare the rest.
                flags = unchecked[side]
                if len(got) != len(flags):
                    fail("%s.pcap: expected %d packets, got %d" % (side, len(flags), len(got)))
                got = [g for g, why in zip(got, flags) if why is None]
            if len(want) != len(got):
                fail("%s.pcap: expected %d packets, got %d" % (side, len(want), len(got)))
            for i, (w, g) in enumerate(zip(want, got)):
                if w[0] != g[0]:
                    fail("%s.pcap packet %d: timestamp %d, expected %d" % (side, i, g[0], w[0]))
                if w[1] != g[1]:
                    fail("%s.pcap packet %d differs:\n expected %s\n got      %s" % (side, i, w[1].hex(), g[1].hex()))
        summary = json.load(open(os.path.join(out, "summary.json")))
        if nodes > 1 and (summary.get("nodes") != nodes or summary["peer_received"] != summary["peer_crossings"]
                          or summary["peer_refused"] != 0 or summary["peer_crossings"] == 0):
            fail("a pool of %d: %s" % (nodes, {k: summary.get(k) for k in ("nodes", "peer_crossings", "peer_received",
                                                                           "peer_refused")}))
        expected = json.load(open(os.path.join(case, "expect", "summary.json")))
        subset(expected, summary, "summary")
        if sum(summary["packets_out"].values()) < summary["packets_forwarded"] or \
                summary["packets_forwarded"] + summary["packets_dropped"] != summary["packets_in"]:
            fail("summary counts do not add up: %s" % json.dumps(summary))
        # NSG flow logs: every expected file, parsed, equal; no file more.
        want_fl = os.path.join(case, "expect", "flowlogs")
        if os.path.isdir(want_fl):
            def tree(root):
                found = {}
                for d, _, names in os.walk(root):
                    for n in names:
                        found[os.path.relpath(os.path.join(d, n), root)] = json.load(open(os.path.join(d, n)))
                return found
            want_files, got_files = tree(want_fl), tree(os.path.join(out, "flowlogs"))
            if sorted(want_files) != sorted(got_files):
                fail("flowlogs: expected files %s, got %s" % (sorted(want_files), sorted(got_files)))
            try:  # and where and how Azure's documentation says they are
                azure_flow_logs.read(os.path.join(out, "flowlogs"))
            except azure_flow_logs.LayoutError as e:
                fail("flowlogs: %s" % e)
            for name, want in want_files.items():
                if got_files[name] != want:
                    fail("flowlogs/%s:\n expected %s\n got      %s" % (name, json.dumps(want, sort_keys=True),
                                                                      json.dumps(got_files[name], sort_keys=True)))
        got_trace = [json.loads(l) for l in open(os.path.join(out, "trace.jsonl"))]
        want_trace = [json.loads(l) for l in open(os.path.join(case, "expect", "trace.jsonl"))]
        if len(got_trace) != len(want_trace):
            fail("trace.jsonl: expected %d lines, got %d" % (len(want_trace), len(got_trace)))
        for i, (w, g) in enumerate(zip(want_trace, got_trace)):
            subset(w, g, "trace[%d]" % i)
            if "nsg" not in w and "nsg" in g and expected.get("rule_hits") is not None:
                fail("trace[%d]: unexpected NSG evaluation %s" % (i, json.dumps(g["nsg"])))

        again = os.path.join(tmp, "again")
        replay(case, asenetctl, again, workers, nodes)
        if files(out) != files(again):
            fail("replay is not deterministic: %s against %s" % (sorted(files(out)), sorted(files(again))))
        for n in sorted(files(out)):
            if not filecmp.cmp(os.path.join(out, n), os.path.join(again, n), shallow=False):
                fail("replay is not deterministic: %s differs between two runs" % n)
        print("ok: %s (%d packets in, workers=%d%s)" % (
            os.path.basename(case), summary["packets_in"], workers,
            ", nodes=%d, %d crossed a peer link" % (nodes, summary["peer_crossings"]) if nodes > 1 else ""))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


main()

#!/usr/bin/python3
"""`asenetctl classify` must agree, line for line, with every expected file in
../shared/testdata/classbench/expected/ (first matching rule as dpdk-test-acl
computes it). Skips (exit 77) when the test data is absent.
usage: classbench_expected.py ASENETCTL CLASSBENCH_DIR"""

import gzip
import os
import re
import shutil
import subprocess
import sys
import tempfile

asenetctl, cb = sys.argv[1], sys.argv[2]
exp_dir = os.path.join(cb, "expected")
if not os.path.isdir(exp_dir):
    print("skip: %s is absent" % exp_dir)
    sys.exit(77)


def plain(path, tmp):
    """A path to the uncompressed file (gunzipped into tmp when needed)."""
    if os.path.exists(path):
        return path
    if os.path.exists(path + ".gz"):
        out = os.path.join(tmp, os.path.basename(path))
        with gzip.open(path + ".gz", "rb") as src, open(out, "wb") as dst:
            shutil.copyfileobj(src, dst)
        return out
    return None


tmp = tempfile.mkdtemp(prefix="asenet-cb-")
failures = checked = 0
try:
    for name in sorted(os.listdir(exp_dir)):
        m = re.match(r"(hypersplit_)?(.+)_trace\.expected(\.gz)?$", name)
        if not m:
            continue
        base = m.group(2)
        if m.group(1):
            rules = plain(os.path.join(cb, "hypersplit", base), tmp)
            trace = plain(os.path.join(cb, "hypersplit", base + "_trace"), tmp)
        else:
            size = base.rsplit("_", 1)[1].lower()
            rules = plain(os.path.join(cb, "rules_" + size, base), tmp)
            trace = plain(os.path.join(cb, "traces_" + size, base + "_trace"), tmp)
        if rules is None or trace is None:
            print("FAIL %s: rules or trace missing" % name)
            failures += 1
            continue
        expected = plain(os.path.join(exp_dir, name[:-3] if name.endswith(".gz") else name), tmp)
        r = subprocess.run([asenetctl, "classify", "--classbench-rules", rules, "--trace", trace],
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            print("FAIL %s: classify exited %d: %s" % (name, r.returncode, r.stderr.strip()))
            failures += 1
            continue
        got = r.stdout.split()
        want = open(expected).read().split()
        bad = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
        if len(got) != len(want) or bad:
            first = bad[0] if bad else min(len(got), len(want))
            print("FAIL %s: %d lines, %d expected, %d differ (first at line %d)" % (name, len(got), len(want),
                                                                                  len(bad), first + 1))
            failures += 1
        else:
            print("ok   %s (%d headers)" % (name, len(got)))
        checked += 1
finally:
    shutil.rmtree(tmp, ignore_errors=True)
print("%d expected files checked, %d failed" % (checked, failures))
sys.exit(1 if failures or checked == 0 else 0)

#!/usr/bin/python3
"""Prints `N passed, N failed[, N skipped]` over test runs: each meson run
(its junit XML and JSON log; GoogleTest binaries count each test case, script
tests count once, a failed meson test with no failing case of its own, such as
a crashed or timed-out binary, counts as one more failure), plus single
results from other runners (the fuzzers' smoke runs).

usage: count_tests.py [--meson JUNIT LOG]... [--result NAME pass|fail]...
       count_tests.py JUNIT LOG            (one meson run)"""

import json
import sys
import xml.etree.ElementTree as ET


def meson_run(junit, log):
    passed = failed = skipped = 0
    failing_tests = set()  # meson test names with at least one failing case
    for suite in ET.parse(junit).getroot().iter("testsuite"):
        sname = suite.get("name", "")
        for case in suite.iter("testcase"):
            # gtest cases live in "project.project:suite / test.Case"; script tests are
            # cases named after the meson test.
            owner = sname.split(" / ", 1)[1].split(".", 1)[0] if " / " in sname else case.get("name", "").split(" / ", 1)[-1]
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                failing_tests.add(owner)
            elif case.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1
    for line in open(log):
        t = json.loads(line)
        short = t["name"].split(" / ", 1)[-1]
        if t["result"] not in ("OK", "SKIP", "EXPECTEDFAIL") and short not in failing_tests:
            failed += 1
    return passed, failed, skipped


args = sys.argv[1:]
if len(args) == 2 and not args[0].startswith("--"):
    args = ["--meson"] + args
passed = failed = skipped = 0
i = 0
while i < len(args):
    if args[i] == "--meson":
        p, f, s = meson_run(args[i + 1], args[i + 2])
        passed, failed, skipped = passed + p, failed + f, skipped + s
        i += 3
    elif args[i] == "--result":
        if args[i + 2] == "pass":
            passed += 1
        else:
            failed += 1
        i += 3
    else:
        sys.exit("count_tests.py: unknown argument " + args[i])
line = "%d passed, %d failed" % (passed, failed)
if skipped:
    line += ", %d skipped" % skipped
print(line)
sys.exit(1 if failed else 0)

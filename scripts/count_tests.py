#!/usr/bin/python3
"""Prints `N passed, N failed[, N skipped]` for a meson test run: GoogleTest
binaries count each test case, script tests count once. A failed meson test
with no failing case of its own (a crashed or timed-out binary) counts as one
more failure."""

import json
import sys
import xml.etree.ElementTree as ET

junit, log = sys.argv[1], sys.argv[2]
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
line = "%d passed, %d failed" % (passed, failed)
if skipped:
    line += ", %d skipped" % skipped
print(line)
sys.exit(1 if failed else 0)

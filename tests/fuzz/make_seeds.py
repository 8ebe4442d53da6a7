#!/usr/bin/python3
"""Writes the fuzzers' seed corpora under tests/fuzz/corpus/ from material the
repository already has: golden captures (packet), golden and example
topologies (topology), NSG exports used by the unit tests (azure_nsg). The
wire seeds come from build-fuzz's seed_wire (scripts/fuzz --seeds).
usage: make_seeds.py REPO_ROOT"""

import glob
import os
import shutil
import struct
import sys

from scapy.utils import RawPcapReader

root = sys.argv[1]
out = os.path.join(root, "tests", "fuzz", "corpus")
SIDES = {"internet": 0, "vnet": 1, "onprem": 2}

# packet: [side][dt][len LE16][frame], up to 8 frames per seed, per capture.
d = os.path.join(out, "packet")
os.makedirs(d, exist_ok=True)
for cap in sorted(glob.glob(os.path.join(root, "tests", "golden", "*", "in", "*.pcap"))):
    case = cap.split(os.sep)[-3]
    side = os.path.basename(cap)[:-5]
    frames = [bytes(data) for data, _ in RawPcapReader(cap)]
    for k in range(0, len(frames), 8):
        seed = b"".join(struct.pack("<BBH", SIDES[side], 1, len(f)) + f for f in frames[k:k + 8] if len(f) < 65536)
        with open(os.path.join(d, "%s-%s-%03d" % (case, side, k // 8)), "wb") as f:
            f.write(seed)

d = os.path.join(out, "topology")
os.makedirs(d, exist_ok=True)
for t in sorted(glob.glob(os.path.join(root, "tests", "golden", "*", "*.toml")) +
                glob.glob(os.path.join(root, "config", "examples", "*.toml"))):
    shutil.copy(t, os.path.join(d, t.split(os.sep)[-2] + "-" + os.path.basename(t)))

d = os.path.join(out, "azure_nsg")
os.makedirs(d, exist_ok=True)
for j in sorted(glob.glob(os.path.join(root, "tests", "unit", "data", "*.json"))):
    shutil.copy(j, d)
print("seeds written under", out)

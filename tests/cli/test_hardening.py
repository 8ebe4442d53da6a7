#!/usr/bin/python3
"""Bad input at the command line (issue 14, parts 1, 2, 3 and 6): each case
gets exit 2 and one short line that names the file, and changes nothing.

- a resource name that is a path is refused by validate and replay, which
  writes nothing outside its --out-dir;
- /dev/zero, a FIFO or a folder as the topology or as an nsg_file: one line at
  once (no hang, no memory eaten);
- errors quote a short escaped excerpt: a secret in an nsg_file and a 1 MB
  key do not come back whole;
- a capture of an unknown link type is named; a record longer than the
  snaplen makes a failed replay whose summary.json says it failed;
- addresses Azure would never assign as a VIP;
- asenetd checks its options and topology before EAL, says --version, warns
  about net_null without no-rx=1, refuses a TAP without CAP_NET_ADMIN in one
  line, and leaves no /var/run/dpdk/PREFIX after a clean stop.
usage: test_hardening.py ASENETCTL ASENETD SOURCE_ROOT"""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile

asenetctl, asenetd, root = sys.argv[1], sys.argv[2], sys.argv[3]
tmp = tempfile.mkdtemp(prefix="asenet-hardening-")
os.chmod(tmp, 0o755)
failures = []
example = os.path.join(root, "config", "examples", "public-vip-ase.toml")
demo_vnet = os.path.join(root, "pcaps", "demo", "vnet.pcap")


def run(args, timeout=60, **kw):
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired:  # a hang is a failure of its check, not of the script
        return subprocess.CompletedProcess(args, None, "", "(hung for %d s)" % timeout)


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + str(detail)[:2000]))
    if not cond:
        failures.append(name)


def write(name, text, mode="w"):
    p = os.path.join(tmp, name)
    with open(p, mode) as f:
        f.write(text)
    return p


def one_line(r):
    return r.stderr.strip().count("\n") == 0


BASE = open(example).read()
BASE_NO_PORTS = BASE[:BASE.index("[ports]")] if "[ports]" in BASE else BASE

try:
    # --- 1: names that are paths ------------------------------------------------
    evil = write("evil.toml", BASE + '\n[[nsgs]]\nname = "../../../x"\nflow_logs = true\n')
    r = run([asenetctl, "validate", "--topology", evil])
    check("validate: an NSG named ../../../x exits 2 with file:line:col",
          r.returncode == 2 and one_line(r) and r.stderr.startswith(evil + ":") and "is not an Azure NSG name" in r.stderr,
          r.stderr)
    out = os.path.join(tmp, "a", "b", "out")
    r = run([asenetctl, "replay", "--topology", evil, "--in", "vnet=" + demo_vnet, "--out-dir", out])
    check("replay refuses it and writes nothing", r.returncode == 2 and not os.path.exists(os.path.join(tmp, "a")) and
          not os.path.exists(os.path.join(tmp, "x")), r.stderr)
    absolute = write("abs.toml", BASE + '\n[[nsgs]]\nname = "/tmp/x"\nflow_logs = true\n')
    r = run([asenetctl, "validate", "--topology", absolute])
    check("validate: an NSG named /tmp/x exits 2", r.returncode == 2 and "Azure NSG name" in r.stderr, r.stderr)

    badrule = write("badrule.json", json.dumps({"name": "n", "properties": {"securityRules": [{
        "name": "../x", "properties": {"priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
                                       "sourceAddressPrefix": "*", "sourcePortRange": "*",
                                       "destinationAddressPrefix": "*", "destinationPortRange": "443"}}]}}))
    t = write("badrule.toml", BASE + '\n[[nsgs]]\nname = "imported"\nnsg_file = "badrule.json"\n')
    r = run([asenetctl, "validate", "--topology", t])
    check("an nsg_file rule named ../x exits 2", r.returncode == 2 and "is not an Azure security rule name" in r.stderr,
          r.stderr)

    # --- 2: input files ----------------------------------------------------------
    fifo = os.path.join(tmp, "fifo")
    os.mkfifo(fifo)
    for path, why in (("/dev/zero", "is a device, not a regular file"), (tmp, "is a directory"),
                      (fifo, "is a FIFO, not a regular file")):
        r = run([asenetctl, "validate", "--topology", path], timeout=10)
        check("--topology %s: exit 2, '%s'" % (os.path.basename(path), why),
              r.returncode == 2 and one_line(r) and r.stderr.startswith(path + ": " + why), r.stderr)
        t = write("nsgfile-%s.toml" % os.path.basename(path),
                  BASE.replace('name = "ase-one-nsg"\n', 'name = "ase-one-nsg"\nnsg_file = "%s"\n' % path, 1)
                  if False else BASE + '\n[[nsgs]]\nname = "imported"\nnsg_file = "%s"\n' % path)
        r = run([asenetctl, "validate", "--topology", t], timeout=10)
        check("nsg_file = %s: exit 2 at once" % os.path.basename(path),
              r.returncode == 2 and one_line(r) and why in r.stderr, r.stderr)
    r = run([asenetd, "--no-huge", "--", "--topology", fifo], timeout=10)
    check("asenetd --topology FIFO: exit 2 at once", r.returncode == 2 and "is a FIFO" in r.stderr, r.stderr)
    r = run([asenetctl, "replay", "--topology", example, "--in", "vnet=" + fifo, "--out-dir", tmp + "/o-fifo"],
            timeout=10)
    check("replay --in FIFO: exit 2 at once", r.returncode == 2 and "is a FIFO" in r.stderr, r.stderr)

    secret = "TOPSECRET-" + "s3cr3t" * 20
    leaky = write("leaky.json", '{"name": "n", "properties": {"securityRules": [\n{"name": "a", "password": "%s" oops\n]}}'
                  % secret)
    t = write("leaky.toml", BASE + '\n[[nsgs]]\nname = "imported"\nnsg_file = "leaky.json"\n')
    r = run([asenetctl, "validate", "--topology", t])
    check("an nsg_file error quotes no more than a short excerpt",
          r.returncode == 2 and one_line(r) and secret not in r.stderr and "s3cr3ts3cr3ts3cr3t" not in r.stderr and
          len(r.stderr) < 400 and "leaky.json:2:" in r.stderr, r.stderr)
    huge_key = write("hugekey.toml", BASE + "\n[emulator]\n" + "k" * 1000000 + " = 1\n")
    r = run([asenetctl, "validate", "--topology", huge_key])
    check("a 1 MB key gives a short error line", r.returncode == 2 and one_line(r) and len(r.stderr) < 2000,
          len(r.stderr))

    # Link type 12345: libpcap has no name for it.
    odd = write("odd.pcap", struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 12345), "wb")
    r = run([asenetctl, "replay", "--topology", example, "--in", "vnet=" + odd, "--out-dir", tmp + "/o-odd"])
    check("an unknown link type is named in a whole line",
          r.returncode == 2 and "link type unknown (12345) is not Ethernet" in r.stderr, r.stderr)
    r2 = run([asenetctl, "validate", "--topology", example])
    check("... and the next command's output is intact", r2.returncode == 0 and ": valid:" in r2.stdout, r2.stdout)

    # A record whose caplen (300,000) exceeds the file's snaplen and libpcap's
    # largest, after one good packet.
    demo = open(demo_vnet, "rb").read()
    magic = demo[:4]
    end = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    first_len = struct.unpack(end + "I", demo[24 + 8:24 + 12])[0]
    good = demo[24:24 + 16 + first_len]
    hdr = demo[:16] + struct.pack(end + "I", 100) + demo[20:24]
    bad_rec = struct.pack(end + "IIII", 1, 0, 300000, 300000) + b"\x00" * 300000
    caplen = write("caplen.pcap", hdr + good + bad_rec, "wb")
    out = os.path.join(tmp, "o-caplen")
    r = run([asenetctl, "replay", "--topology", example, "--in", "vnet=" + caplen, "--out-dir", out])
    summary_path = os.path.join(out, "summary.json")
    summary = json.load(open(summary_path)) if os.path.exists(summary_path) else None
    check("a record past the snaplen: exit 2 and a summary that says it failed",
          r.returncode == 2 and (summary is None or (summary.get("status") == "failed" and "error" in summary)),
          (r.returncode, r.stderr, summary))
    r = run([asenetctl, "replay", "--topology", example, "--in", "vnet=" + demo_vnet, "--out-dir", tmp + "/o-ok"])
    summary = json.load(open(os.path.join(tmp, "o-ok", "summary.json")))
    check("a good replay's summary says completed", r.returncode == 0 and summary.get("status") == "completed", summary)

    # --- 3: validate refuses what Azure would ------------------------------------
    for vip, why in (("168.63.129.16", "Azure's platform address"), ("255.255.255.255", "broadcast"),
                     ("224.0.0.1", "multicast"), ("127.0.0.1", "loopback")):
        t = write("vip.toml", BASE.replace('public_vip = "192.23.1.2"', 'public_vip = "%s"' % vip))
        r = run([asenetctl, "validate", "--topology", t])
        check("validate: VIP %s exits 2 saying why" % vip, r.returncode == 2 and why in r.stderr, r.stderr)

    # --- 6: asenetd at the door ----------------------------------------------------
    r = run([asenetd, "--version"])
    check("asenetd --version", r.returncode == 0 and r.stdout.startswith("asenetd ") and "DPDK" in r.stdout, r.stdout)
    r = run([asenetd, "--no-huge", "--topology", example])
    check("asenetd options without -- : one line saying where they go",
          r.returncode == 2 and one_line(r) and "after `--`" in r.stderr, r.stderr)
    r = run([asenetd, "--no-huge", "--no-pci", "--"])
    check("asenetd without --topology: one line before EAL",
          r.returncode == 2 and one_line(r) and "topology" in r.stderr and "EAL" not in r.stderr, r.stderr)
    r = run([asenetd, "--no-huge", "--no-pci", "--", "--topology", "/nonexistent.toml"])
    check("asenetd with an unreadable topology: one line before EAL",
          r.returncode == 2 and one_line(r) and r.stderr.startswith("/nonexistent.toml: cannot open"), r.stderr)

    prefix = "asenet-door-%d" % os.getpid()
    nulls = write("nulls.toml", BASE_NO_PORTS + '\n[ports]\ninternet = "net_null0"\nvnet = "net_null1,no-rx=1"\n'
                  'onprem = "net_null2,no-rx=1"\n')
    r = run([asenetd, "-l", "0-1", "--no-huge", "-m", "256", "--no-pci", "--log-level=error", "--file-prefix", prefix,
             "--", "--topology", nulls, "--duration", "1"], timeout=60)
    check("asenetd warns about net_null without no-rx=1",
          r.returncode == 0 and "net_null0: a net_null device without no-rx=1" in r.stderr, r.stderr)
    check("a clean stop leaves no /var/run/dpdk/PREFIX", not os.path.exists("/var/run/dpdk/" + prefix),
          os.listdir("/var/run/dpdk") if os.path.exists("/var/run/dpdk") else "")

    taps = write("taps.toml", BASE_NO_PORTS + '\n[ports]\ninternet = "tap:asnx%d"\nvnet = "net_null1,no-rx=1"\n'
                 'onprem = "net_null2,no-rx=1"\n' % (os.getpid() % 10000))
    os.chmod(taps, 0o644)
    run_dir = os.path.join(tmp, "run")  # EAL's runtime folder for a user who is not root
    os.mkdir(run_dir)
    os.chmod(run_dir, 0o777)
    child = os.fork()
    if child == 0:
        os.setgid(65534)
        os.setuid(65534)
        env = dict(os.environ, XDG_RUNTIME_DIR=run_dir)
        rr = subprocess.run([asenetd, "-l", "0-1", "--no-huge", "-m", "256", "--no-pci", "--log-level=error",
                             "--no-shconf", "--", "--topology", taps, "--duration", "1"],
                            capture_output=True, text=True, timeout=60, env=env)
        ok = rr.returncode == 2 and "needs root or CAP_NET_ADMIN" in rr.stderr
        if not ok:
            sys.stderr.write(rr.stderr)
        os._exit(0 if ok else 1)
    code = os.waitpid(child, 0)[1] >> 8
    check("a TAP without CAP_NET_ADMIN says so in one line (not 'No such file')", code == 0, code)
finally:
    shutil.rmtree(tmp, ignore_errors=True)

print("%d failed" % len(failures))
sys.exit(1 if failures else 0)

#!/usr/bin/python3
"""The control socket and push as a hostile or careless user meets them
(issue 14, parts 1, 4 and 5), against a running asenetd on net_null devices
and against fake servers that misbehave:

- 16 clients that connect and send nothing: the next client is told
  "asenetd is busy: 16 clients connected" (exit 1, not a broken pipe); the
  silent ones are cut after 5 s, and stats works again while they stay open;
- a server that accepts and never answers: every socket command gives up at
  its --timeout with exit 1; one that answers {"generation":"x"}: exit 1,
  "malformed reply", never a crash;
- permission denied on the socket: exit 1;
- push prints what changes (a plan); --dry-run changes nothing;
- a push that changes [ports] or flow_table_size is refused (exit 2) naming
  the key and its running value; one that turns [l2] ARP answering off is
  refused unless --allow-l2-change;
- a pushed spec whose NSG name is a path ("../../../x") is refused by asenetd
  itself (whatever client sent it), and nothing is written outside
  --flow-logs.
usage: hardening_live.py ASENETD ASENETCTL"""

import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

asenetd, asenetctl = sys.argv[1], sys.argv[2]
pid = os.getpid()
tmp = tempfile.mkdtemp(prefix="asenet-hard-")
os.chmod(tmp, 0o755)
prefix = "asenet-hard-%d" % pid
sock = os.path.join(tmp, "ctl.sock")
flowlogs = os.path.join(tmp, "flowlogs")
failures = []

# Its NSG name has the length of "../../../x": the push test swaps one for the other.
TOPO = """
[vnet]
name = "corp-vnet"
address_space = "10.0.0.0/16"
[[subnets]]
name = "ase"
prefix = "10.0.1.0/26"
nsg = "abcdefghij"
[[ases]]
name = "ase"
subnet = "ase"
public_vip = "192.23.1.2"
instances = ["10.0.1.4", "10.0.1.5"]
[[nsgs]]
name = "abcdefghij"
flow_logs = true
%s
%s
[ports]
internet = "net_null0,no-rx=1"
vnet = "%s"
onprem = "net_null2,no-rx=1"
"""
ALLOW_HTTPS = """
[[nsgs.rules]]
name = "AllowHttps"
priority = 300
direction = "Inbound"
access = "Allow"
protocol = "Tcp"
source_address_prefixes = "Internet"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "443"
"""
L2 = "[l2]\narp = true\n"
VNET = "net_null1,no-rx=1"


def check(name, cond, detail=""):
    print(("ok   " if cond else "FAIL ") + name + ("" if cond else ": " + str(detail)))
    if not cond:
        failures.append(name)


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def ctl(*args, timeout=60, **kw):
    return subprocess.run([asenetctl] + list(args), capture_output=True, text=True, timeout=timeout, **kw)


def generation():
    return json.loads(ctl("stats", "--socket", sock, "--json").stdout)["generation"]


def frame(msg_type, payload):
    return struct.pack("<IHHI", 0x544E5341, 1, msg_type, len(payload)) + payload


def read_frame(s):
    hdr = b""
    while len(hdr) < 12:
        chunk = s.recv(12 - len(hdr))
        if not chunk:
            return None, b""
        hdr += chunk
    _, _, typ, n = struct.unpack("<IHHI", hdr)
    body = b""
    while len(body) < n:
        body += s.recv(n - len(body))
    return typ, body


class FakeServer:
    """A unix socket server that accepts and then misbehaves: never answers
    (reply=None), or answers every request with kOk `reply`. It records the
    first request's payload."""

    def __init__(self, path, reply=None):
        self.path, self.reply, self.request = path, reply, None
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(16)
        self.conns = []
        threading.Thread(target=self.loop, daemon=True).start()

    def loop(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            self.conns.append(c)
            typ, body = read_frame(c)
            if self.request is None:
                self.request = body
            if self.reply is not None and typ is not None:
                c.sendall(frame(0x80, self.reply))

    def close(self):
        self.srv.close()
        for c in self.conns:
            c.close()


daemon = None
try:
    topo_l2 = write("l2.toml", TOPO % ("", L2, VNET))
    cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    daemon = subprocess.Popen([asenetd, "--lcores", "(0-1)@(%s)" % cpus, "--no-huge", "--no-shconf", "-m", "256",
                               "--no-pci", "--log-level=error", "--file-prefix", prefix, "--",
                               "--topology", topo_l2, "--control-socket", sock, "--flow-logs", flowlogs],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(300):
        if os.path.exists(sock) or daemon.poll() is not None:
            break
        time.sleep(0.1)
    assert daemon.poll() is None, "asenetd died: %s" % daemon.communicate()[1]
    check("asenetd up, generation 1", generation() == 1)

    # --- 4: silent clients cannot lock the socket -------------------------------
    silent = []
    for _ in range(16):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock)
        silent.append(s)
    time.sleep(0.3)  # asenetd accepts them
    r = ctl("stats", "--socket", sock)
    check("past the client limit: exit 1, told asenetd is busy",
          r.returncode == 1 and "asenetd is busy: 16 clients connected" in r.stderr and "Broken pipe" not in r.stderr,
          (r.returncode, r.stderr))
    time.sleep(6)  # past the 5 s idle cut
    r = ctl("stats", "--socket", sock, "--json")
    check("silent clients are cut after 5 s: stats answers again", r.returncode == 0, r.stderr)
    cut = 0
    for s in silent:
        s.settimeout(1)
        try:
            typ, body = read_frame(s)
            cut += typ == 0x81 and b"no request within" in body
        except OSError:
            pass
        s.close()
    check("each silent client was told why it was cut", cut == 16, cut)

    # --- 4: a server that never answers, one that answers nonsense --------------
    mute = FakeServer(os.path.join(tmp, "mute.sock"))
    for args in (["stats"], ["health", "--ase", "ase", "--instance", "10.0.1.4", "down"],
                 ["push", "--topology", topo_l2], ["trace", "--count", "1"]):
        t0 = time.time()
        r = ctl(*(args + ["--socket", mute.path, "--timeout", "1"]), timeout=30)
        took = time.time() - t0
        check("a mute server: %s gives up at --timeout with exit 1" % args[0],
              r.returncode == 1 and took < 6 and "timeout" in r.stderr, (r.returncode, took, r.stderr))
    mute.close()
    liar = FakeServer(os.path.join(tmp, "liar.sock"), reply=b'{"generation":"x"}')
    for args in (["push", "--topology", topo_l2], ["health", "--ase", "ase", "--instance", "10.0.1.4", "down"],
                 ["stats", "--json"]):
        r = ctl(*(args + ["--socket", liar.path, "--timeout", "5"]))
        check("a malformed reply to %s: exit 1, no crash" % args[0],
              r.returncode == 1 and "malformed reply" in r.stderr, (r.returncode, r.stderr))
    liar.close()

    # --- 4: permission denied is a runtime failure ------------------------------
    child = os.fork()
    if child == 0:
        os.setgid(65534)
        os.setuid(65534)
        r = subprocess.run([asenetctl, "stats", "--socket", sock], capture_output=True, text=True, timeout=30)
        os._exit(10 + r.returncode if "Permission denied" in r.stderr else 99)
    code = os.waitpid(child, 0)[1] >> 8
    check("permission denied on the socket: exit 1", code == 11, code)

    # --- 5: a push says what it does --------------------------------------------
    with_rule = write("rule.toml", TOPO % (ALLOW_HTTPS, L2, VNET))
    r = ctl("push", "--socket", sock, "--topology", with_rule, "--dry-run")
    check("push --dry-run prints the plan and changes nothing",
          r.returncode == 0 and "NSG rules: 1 added (abcdefghij/AllowHttps)" in r.stdout and
          "dry run: nothing changed" in r.stdout and generation() == 1, (r.returncode, r.stdout, r.stderr))
    r = ctl("push", "--socket", sock, "--topology", with_rule)
    check("push prints the plan, then the new generation",
          r.returncode == 0 and "changes against generation 1:" in r.stdout and
          "NSG rules: 1 added (abcdefghij/AllowHttps)" in r.stdout and "generation 2 live" in r.stdout and
          generation() == 2, (r.returncode, r.stdout, r.stderr))
    r = ctl("push", "--socket", sock, "--topology", topo_l2)
    check("the reverse push: 1 removed", r.returncode == 0 and "1 removed (abcdefghij/AllowHttps)" in r.stdout, r.stdout)

    moved = write("moved.toml", TOPO % ("", L2, "net_null7,no-rx=1"))
    r = ctl("push", "--socket", sock, "--topology", moved)
    check("a push that changes [ports] is refused with exit 2, naming the running value",
          r.returncode == 2 and "ports.vnet" in r.stderr and "net_null1,no-rx=1" in r.stderr and
          "only when asenetd starts" in r.stderr and generation() == 3, (r.returncode, r.stderr))
    bigger = write("bigger.toml", (TOPO % ("", L2, VNET)).replace("[vnet]", "[emulator]\nflow_table_size = 4096\n[vnet]"))
    r = ctl("push", "--socket", sock, "--topology", bigger)
    check("a push that changes flow_table_size is refused with exit 2",
          r.returncode == 2 and "emulator.flow_table_size = 4096" in r.stderr and "262144" in r.stderr and
          generation() == 3, (r.returncode, r.stderr))
    plain = write("plain.toml", TOPO % ("", "", VNET))
    r = ctl("push", "--socket", sock, "--topology", plain)
    check("a push that turns ARP answering off is refused without --allow-l2-change",
          r.returncode == 2 and "--allow-l2-change" in r.stderr and generation() == 3, (r.returncode, r.stderr))
    r = ctl("push", "--socket", sock, "--topology", plain, "--allow-l2-change")
    check("... and done with it, saying so",
          r.returncode == 0 and "L2 mode: ARP answering on -> off" in r.stdout and generation() == 4, r.stdout)

    # --- 1: a name that is a path, pushed by a client that skips validation -----
    recorder = FakeServer(os.path.join(tmp, "rec.sock"), reply=b'{}')
    ctl("push", "--socket", recorder.path, "--topology", plain, "--timeout", "5")
    recorder.close()
    payload = recorder.request
    assert payload and payload.count(b"abcdefghij") >= 1
    hostile = payload.replace(b"abcdefghij", b"../../../x")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall(frame(5, hostile))
    typ, body = read_frame(s)
    s.close()
    check("asenetd refuses a pushed NSG name that is a path",
          typ == 0x81 and b"is not an Azure NSG name" in body and generation() == 4, (typ, body))
    for bad in (b"/tmp/aaaaa", b"abc/../..x"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(sock)
        s.sendall(frame(1, payload[4 + struct.unpack("<I", payload[:4])[0]:].replace(b"abcdefghij", bad)))
        typ, body = read_frame(s)
        s.close()
        check("... over the old push message too (%s)" % bad.decode(), typ == 0x81 and b"Azure NSG name" in body, body)

    daemon.terminate()
    out, err = daemon.communicate(timeout=30)
    check("asenetd stops cleanly", daemon.returncode == 0, err)
    daemon = None
    # Where an escaped NSG name would have put its y=YYYY folders (flow-log
    # paths carry the name in capitals, as Azure's resource ids do).
    escapes = [p for name in ("x", "aaaaa") for p in (os.path.join(tmp, name), os.path.join(tmp, name.upper()),
                                                     "/tmp/" + name, "/tmp/" + name.upper())]
    outside = [p for p in escapes if os.path.isdir(p) and any(n.startswith("y=") for n in os.listdir(p))]
    check("nothing written outside --flow-logs", not outside, outside)
    check("a clean stop leaves no /var/run/dpdk/%s" % prefix, not os.path.exists("/var/run/dpdk/" + prefix))
finally:
    if daemon is not None:
        daemon.kill()
        print(daemon.communicate()[1])
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)

print("%d failed" % len(failures))
sys.exit(1 if failures else 0)

#!/usr/bin/python3
"""The live control plane (issue 6) against a running asenetd on TAP devices:
what enters is injected from Linux with scapy, so the traffic is known and the
figures can be checked exactly.

- the control socket is a unix socket of mode 0600 owned by asenetd's user;
- trace: the next N matching packets as trace.jsonl lines (same fields as
  replay's --trace), armed before the packets enter; --filter in tcpdump's
  language on the frame as it arrived, --both-directions for the replies;
- stats --json, --format prometheus and the DPDK telemetry commands give the
  same figures for known traffic (drops by reason, rule hits, live flows,
  SNAT ports per instance and per ASE);
- health: an instance marked down gets no new flows (Maglev over the rest);
  the mark survives a later push;
- push: a rule removed mid-connection leaves the established connection
  working and denies the next new one (Azure: rule changes apply to new
  connections only);
- a topology that fails validation exits 2 and the generation stays;
- hostile clients (bad magic, a huge length, a garbage table spec, an unknown
  request, half a message) get an error frame and change nothing;
- SIGTERM stops asenetd cleanly and removes its socket.
usage: live_control.py ASENETD ASENETCTL"""

import json
import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "lib"))
import azure_flow_logs  # noqa: E402
from asenet_golden import FABRIC_MAC  # noqa: E402
from scapy.all import IP, TCP, Ether, Raw, sendp  # noqa: E402

asenetd, asenetctl = sys.argv[1], sys.argv[2]
pid = os.getpid()
tmp = tempfile.mkdtemp(prefix="asenet-live-")
prefix = "asenet-live-%d" % pid
sock = os.path.join(tmp, "ctl.sock")
TAPS = {"internet": "asni%d" % (pid % 100000), "vnet": "asnv%d" % (pid % 100000), "onprem": "asno%d" % (pid % 100000)}
VIP = "192.23.1.2"
INSTANCES = ["10.0.1.4", "10.0.1.5"]

TOPO = """
[vnet]
name = "vvnet"
address_space = "10.0.0.0/16"
[[subnets]]
name = "ase"
prefix = "10.0.1.0/26"
nsg = "ase-nsg"
[[ases]]
name = "ase"
subnet = "ase"
public_vip = "192.23.1.2"
instances = ["10.0.1.4", "10.0.1.5"]
[[nsgs]]
name = "ase-nsg"
flow_logs = true
[[nsgs.rules]]
name = "AllowMgmt"
priority = 100
direction = "Inbound"
access = "Allow"
protocol = "Tcp"
source_address_prefixes = "*"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "454-455"
%s
[ports]
internet = "tap:%s"
vnet = "tap:%s"
onprem = "tap:%s"
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


def write(name, text):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def ctl(*args, check=True, timeout=60):
    r = subprocess.run([asenetctl] + list(args), capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise AssertionError("asenetctl %s exited %d: %s" % (" ".join(args), r.returncode, r.stderr))
    return r


def stats():
    return json.loads(ctl("stats", "--socket", sock, "--json").stdout)


E = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)


def inject(side, pkts):
    sendp(pkts, iface=TAPS[side], verbose=False)


def syn(client, sport, dport=443):
    return E / IP(src=client, dst=VIP) / TCP(sport=sport, dport=dport, flags="S", seq=1000)


def trace(count, inject_fn, *filters):
    """Arms a trace, waits until asenetd says it runs, injects, returns the lines."""
    p = subprocess.Popen([asenetctl, "trace", "--socket", sock, "--count", str(count), "--timeout", "30"] + list(filters),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(200):
        if stats()["control"]["tracing"]:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("the trace never started")
    inject_fn()
    out, err = p.communicate(timeout=40)
    assert p.returncode == 0, "trace exited %d: %s" % (p.returncode, err)
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == count, lines
    return lines


def capturing():
    return stats()["control"].get("capturing", False)


def libpcap_read(path):
    """The file's records as libpcap itself reads them: (ns, caplen, len, bytes)."""
    import ctypes
    import ctypes.util
    pcap = ctypes.CDLL(ctypes.util.find_library("pcap"))

    class Hdr(ctypes.Structure):
        _fields_ = [("sec", ctypes.c_long), ("frac", ctypes.c_long), ("caplen", ctypes.c_uint32), ("len", ctypes.c_uint32)]
    pcap.pcap_open_offline_with_tstamp_precision.restype = ctypes.c_void_p
    pcap.pcap_open_offline_with_tstamp_precision.argtypes = [ctypes.c_char_p, ctypes.c_uint, ctypes.c_char_p]
    pcap.pcap_next_ex.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.POINTER(Hdr)),
                                  ctypes.POINTER(ctypes.POINTER(ctypes.c_ubyte))]
    pcap.pcap_close.argtypes = [ctypes.c_void_p]
    err = ctypes.create_string_buffer(256)
    h = pcap.pcap_open_offline_with_tstamp_precision(path.encode(), 1, err)  # 1: nanoseconds
    assert h, err.value
    out = []
    hdr, data = ctypes.POINTER(Hdr)(), ctypes.POINTER(ctypes.c_ubyte)()
    while pcap.pcap_next_ex(h, ctypes.byref(hdr), ctypes.byref(data)) == 1:
        out.append((hdr.contents.sec * 10**9 + hdr.contents.frac, hdr.contents.caplen, hdr.contents.len,
                    bytes(data[:hdr.contents.caplen])))
    pcap.pcap_close(h)
    return out


def raw_frame(msg_type, payload, length=None):
    return struct.pack("<IHHI", 0x544E5341, 1, msg_type, len(payload) if length is None else length) + payload


def raw_exchange(data, wait=2.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.sendall(data)
    s.settimeout(wait)
    reply = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
            if len(reply) >= 12 and len(reply) >= 12 + struct.unpack("<I", reply[8:12])[0]:
                break
    except socket.timeout:
        pass
    s.close()
    assert len(reply) >= 12, "no reply frame"
    magic, ver, typ, n = struct.unpack("<IHHI", reply[:12])
    return typ, reply[12:12 + n].decode()


def telemetry(cmd):
    path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(path)
    json.loads(s.recv(16384).decode())  # the greeting
    s.send(cmd.encode())
    reply = json.loads(s.recv(65536).decode())
    s.close()
    return reply[cmd.split(",")[0]]  # the reply is keyed by the command without its parameters


daemon = None
try:
    topo_allow = write("allow.toml", TOPO % ((ALLOW_HTTPS,) + tuple(TAPS.values())))
    topo_deny = write("deny.toml", TOPO % (("",) + tuple(TAPS.values())))
    flowlogs = os.path.join(tmp, "flowlogs")
    started = int(time.time())
    cpus = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    daemon = subprocess.Popen([asenetd, "--lcores", "(0-1)@(%s)" % cpus, "--no-huge", "--no-shconf", "-m", "512",
                               "--no-pci", "--log-level=error", "--file-prefix", prefix, "--",
                               "--topology", topo_allow, "--control-socket", sock, "--flow-logs", flowlogs],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    for _ in range(300):
        if os.path.exists(sock) or daemon.poll() is not None:
            break
        time.sleep(0.1)
    assert daemon.poll() is None, "asenetd died: %s" % daemon.communicate()[1]
    # Quiet taps: no IPv6 chatter from Linux into the data plane.
    for t in TAPS.values():
        subprocess.run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % t], check=False)
        subprocess.run(["ip", "link", "set", t, "up"], check=True)
    time.sleep(0.5)

    st = os.stat(sock)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert st.st_uid == os.geteuid()
    s0 = stats()
    assert s0["generation"] == 1, s0
    print("socket 0600, generation 1: ok")

    # A second asenetd on the same TAPs is refused (DPDK opens TAPs
    # multi-queue: without the check it would attach and split the traffic).
    second = subprocess.run([asenetd, "--lcores", "(0-1)@(%s)" % cpus, "--no-huge", "--no-shconf", "-m", "256",
                             "--no-pci", "--log-level=error", "--file-prefix", prefix + "-second", "--",
                             "--topology", topo_allow, "--control-socket", sock + ".second"],
                            capture_output=True, text=True, timeout=60)
    held = "TAP %s is held by process %d" % (TAPS["internet"], daemon.pid)
    assert second.returncode == 2 and held in second.stderr, (second.returncode, second.stderr)
    assert stats()["generation"] == 1  # the first one carries on
    print("a second asenetd on held TAPs: refused: ok")

    # --- trace + known traffic -------------------------------------------------
    clients = ["198.51.100.%d" % i for i in (1, 2, 3)]

    def first_traffic():
        inject("internet", [syn(c, 40000 + i) for i, c in enumerate(clients)] + [syn("198.51.100.9", 41000, dport=80)])
        inject("vnet", [E / IP(src="10.0.1.4", dst="203.0.113.9") / TCP(sport=50000 + i, dport=443, flags="S")
                        for i in range(2)])
    lines = trace(4, first_traffic, "--dst", VIP)
    for i, line in enumerate(lines[:3]):
        assert line["verdict"] == "forward" and line["out_port"] == "vnet" and line["flow"] == "new", line
        assert line["nsg"] == [{"nsg": "ase-nsg", "rule": "AllowHttps", "access": "Allow"}], line
        assert line["nat"]["dst"].split(":")[0] in INSTANCES and line["packet"]["src"] == clients[i], line
        assert line["route"] == {"next_hop_type": "VnetLocal", "route_table": "System Route"}, line
    assert lines[3]["verdict"] == "drop" and lines[3]["drop_reason"] == "nsg_deny", lines[3]
    assert lines[3]["nsg"] == [{"nsg": "ase-nsg", "rule": "DenyAllInBound", "access": "Deny"}], lines[3]
    assert [line["index"] for line in lines] == [0, 1, 2, 3]
    print("trace: ok")

    time.sleep(0.5)  # the outbound SYNs and telemetry's refresh
    s1 = stats()
    assert s1["drops"].get("nsg_deny") == 1, s1["drops"]
    assert s1["rule_hits"]["ase-nsg/AllowHttps"] == 3, s1["rule_hits"]
    assert s1["rule_hits"]["ase-nsg/DenyAllInBound"] == 1, s1["rule_hits"]
    assert s1["rule_hits"]["ase-nsg/AllowInternetOutBound"] == 2, s1["rule_hits"]
    assert s1["flows"]["live"] == 5 and s1["flows"]["created"] == 5, s1["flows"]
    # Bytes per rule as the packets pass (issue 19): three 40-byte SYNs on
    # AllowHttps, two out on AllowInternetOutBound; the denied one on none.
    assert s1["rule_bytes"]["ase-nsg/AllowHttps"] == {"forward": 120, "reply": 0}, s1["rule_bytes"]
    assert s1["rule_packets"]["ase-nsg/AllowHttps"] == {"forward": 3, "reply": 0}, s1["rule_packets"]
    assert s1["rule_bytes"]["ase-nsg/AllowInternetOutBound"] == {"forward": 80, "reply": 0}, s1["rule_bytes"]
    assert "ase-nsg/DenyAllInBound" not in s1["rule_bytes"] and s1["rule_uncounted_flows"] == 0, s1
    # Five SYNs nobody answered: five flows in syn_sent, none in another state.
    assert s1["flows"]["by_state"] == {"not_tcp": 0, "syn_sent": 5, "syn_recv": 0, "established": 0, "fin_wait": 0,
                                       "closing": 0, "closed": 0}, s1["flows"]
    assert s1["snat"]["by_instance"]["10.0.1.4"]["in_use"] == 2, s1["snat"]
    # Both to 203.0.113.9:443: two ports of one destination's preallocation.
    assert s1["snat"]["by_instance"]["10.0.1.4"]["destinations"] == 1, s1["snat"]
    assert s1["snat"]["by_instance"]["10.0.1.5"]["in_use"] == 0, s1["snat"]
    assert s1["snat"]["by_ase"]["ase"]["in_use"] == 2, s1["snat"]
    assert s1["ports"]["internet"]["rx"] >= 4 and s1["ports"]["vnet"]["tx"] >= 3, s1["ports"]
    assert s1["ports"]["internet"]["tx"] >= 2, s1["ports"]  # the two SNATed SYNs
    print("stats --json: ok")

    prom = ctl("stats", "--socket", sock, "--format", "prometheus").stdout
    for line in prom.splitlines():
        assert line.startswith("# HELP ") or line.startswith("# TYPE ") or \
            re.fullmatch(r'[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9]+', line), "bad exposition: " + line
    assert 'asenet_drops_total{reason="nsg_deny"} 1\n' in prom
    assert 'asenet_rule_hits_total{nsg="ase-nsg",rule="AllowHttps"} 3\n' in prom
    assert 'asenet_snat_ports_in_use{ase="ase",backend="10.0.1.4"} 2\n' in prom
    assert 'asenet_snat_destinations{ase="ase",backend="10.0.1.4"} 1\n' in prom
    assert 'asenet_flows_by_state{state="syn_sent"} 5\n' in prom
    assert 'asenet_rule_bytes_total{nsg="ase-nsg",rule="AllowHttps",direction="forward"} 120\n' in prom
    assert 'asenet_rule_packets_total{nsg="ase-nsg",rule="AllowHttps",direction="reply"} 0\n' in prom
    assert 'asenet_flows 5\n' in prom and 'asenet_generation 1\n' in prom
    print("prometheus: ok")

    assert telemetry("/asenet/drops")["nsg_deny"] == 1
    # Telemetry names allow letters, digits, '_' and '/': the rest become '_'.
    assert telemetry("/asenet/snat")["10_0_1_4"] == 2
    assert telemetry("/asenet/rule_hits")["ase_nsg/AllowHttps"] == 3
    # ... and /asenet/names gives back the names the keys stand for.
    assert telemetry("/asenet/names")["ase_nsg/AllowHttps"] == "ase-nsg/AllowHttps"
    assert telemetry("/asenet/names,snat")["10_0_1_4"] == "10.0.1.4"
    tstats = telemetry("/asenet/stats")
    assert tstats["generation"] == 1 and tstats["flows_live"] == 5, tstats
    assert telemetry("/asenet/ports")["vnet_tx"] >= 3
    print("telemetry: ok")

    # --- health ----------------------------------------------------------------
    r = ctl("health", "--socket", sock, "--ase", "ase", "--instance", "10.0.1.4", "down")
    # A health change publishes new tables but is no new generation: the
    # generation counts pushes, the health epoch health changes (issue 19).
    assert "health epoch 1 live (generation 1)" in r.stdout, r.stdout
    assert stats()["generation"] == 1 and stats()["health_epoch"] == 1
    assert stats()["health"]["ase/10.0.1.4"] == "down"
    lines = trace(8, lambda: inject("internet", [syn("198.51.100.%d" % (20 + i), 42000 + i) for i in range(8)]),
                  "--dst", VIP)
    assert all(line["nat"]["dst"] == "10.0.1.5:443" for line in lines), lines
    bad = ctl("health", "--socket", sock, "--ase", "ase", "--instance", "10.0.9.9", "down", check=False)
    assert bad.returncode == 2 and "no instance" in bad.stderr, bad.stderr
    print("health: ok")

    # --- a rule removed: established survives, new is denied --------------------
    r = ctl("push", "--socket", sock, "--topology", topo_deny, "--json")
    assert json.loads(r.stdout)["generation"] == 2 and json.loads(r.stdout)["health_epoch"] == 1, r.stdout
    assert stats()["health"]["ase/10.0.1.4"] == "down", "health override lost on push"

    def after_push():
        inject("internet", [E / IP(src=clients[0], dst=VIP) / TCP(sport=40000, dport=443, flags="A", seq=1001) / Raw(b"x"),
                            syn("198.51.100.77", 43000)])
    est, new = trace(2, after_push, "--dst", VIP)
    assert est["verdict"] == "forward" and est["flow"] == "established", est
    assert new["verdict"] == "drop" and new["drop_reason"] == "nsg_deny", new
    assert new["nsg"] == [{"nsg": "ase-nsg", "rule": "DenyAllInBound", "access": "Deny"}], new
    print("push: established survives, new denied: ok")

    # --- a bad push changes nothing ---------------------------------------------
    broken = write("broken.toml", open(topo_deny).read().replace('priority = 100', 'priority = 99'))
    r = ctl("push", "--socket", sock, "--topology", broken, check=False)
    assert r.returncode == 2 and re.search(r"broken\.toml:\d+:\d+", r.stderr), r.stderr
    assert stats()["generation"] == 2
    est, = trace(1, lambda: inject("internet", [E / IP(src=clients[0], dst=VIP) /
                                                 TCP(sport=40000, dport=443, flags="A", seq=1002) / Raw(b"y")]),
                 "--dst", VIP)
    assert est["verdict"] == "forward", est
    # AllowHttps is gone since generation 2, but the flow it allowed goes on
    # counting against it: 3 + 8 SYNs of 40 bytes, then two of 41.
    rb = stats()["rule_bytes"]
    assert rb["ase-nsg/AllowHttps"] == {"forward": 11 * 40 + 2 * 41, "reply": 0}, rb
    print("bad push: exit 2, generation 2 still forwarding: ok")

    # --- tcpdump filters on the frame as it arrived; both directions ------------
    # The filter names the VIP: it matches before DNAT (the record's nat shows
    # the instance); the reply comes from the instance, so only
    # --both-directions keeps it (10.0.1.4 is down: 10.0.1.5 takes new flows;
    # management's 454 is still allowed).
    bpf = "dst host %s and tcp dst port 454 and src host 198.51.100.91" % VIP

    def bpf_traffic(sport):
        def go():
            inject("internet", [syn("198.51.100.90", sport, dport=454), syn("198.51.100.91", sport, dport=454)])
            time.sleep(0.3)
            inject("vnet", [E / IP(src="10.0.1.5", dst="198.51.100.91") / TCP(sport=454, dport=sport, flags="SA")])
        return go
    got, = trace(1, bpf_traffic(44001), "--filter", bpf)
    assert got["packet"]["src"] == "198.51.100.91" and got["nat"]["dst"] == "10.0.1.5:454", got
    req, rep = trace(2, bpf_traffic(44002), "--filter", bpf, "--both-directions")
    assert req["packet"]["src"] == "198.51.100.91" and req["in_port"] == "internet", req
    assert rep["in_port"] == "vnet" and rep["flow"] == "reply" and rep["packet"]["src"] == "10.0.1.5", rep
    assert rep["nat"]["src"] == VIP + ":454", rep
    bad = ctl("trace", "--socket", sock, "--count", "1", "--filter", "tcp port", check=False)
    assert bad.returncode == 2 and "not a valid filter" in bad.stderr, bad.stderr
    print("trace --filter (as arrived) and --both-directions: ok")

    # --- capture: one side's frames, in as they arrived and out as they left ---
    # A SYN to the VIP's 454 leaves on vnet DNATed to 10.0.1.5; the SYN-ACK
    # enters on vnet from 10.0.1.5. The filter drops the 198.51.100.90 one.
    for fmt in ("pcap", "pcapng"):
        path = os.path.join(tmp, "vnet." + fmt)
        p = subprocess.Popen([asenetctl, "capture", "--socket", sock, "--port", "vnet", "--count", "2", "-w", path,
                              "--filter", "tcp port 454 and not host 198.51.100.90"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(200):
            if p.poll() is not None or capturing():
                break
            time.sleep(0.05)
        bpf_traffic(44010 if fmt == "pcap" else 44011)()
        out, err = p.communicate(timeout=40)
        assert p.returncode == 0 and "2 frames written" in err, (p.returncode, err)
        frames = libpcap_read(path)
        assert len(frames) == 2, frames
        sent, got = (Ether(f[3]) for f in frames)
        assert sent[IP].src == "198.51.100.91" and sent[IP].dst == "10.0.1.5" and sent[TCP].dport == 454, sent
        assert got[IP].src == "10.0.1.5" and got[TCP].flags == "SA", got
        assert abs(frames[0][0] / 1e9 - time.time()) < 60, frames[0][0]  # wall-clock time, in nanoseconds
        assert frames[0][1] == frames[0][2] == len(frames[0][3]), frames[0][:3]
    if shutil.which("tshark"):
        r = subprocess.run(["tshark", "-r", path, "-T", "fields", "-e", "frame.interface_name",
                            "-e", "frame.packet_flags_direction"], capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout.split() == ["vnet", "0x00000002", "vnet", "0x00000001"]  # outbound, inbound, (r.stdout, r.stderr)
    quiet = os.path.join(tmp, "quiet.pcap")  # bounded by time: nothing comes, the file is still a capture
    r = ctl("capture", "--socket", sock, "--port", "onprem", "--duration", "1", "-w", quiet)
    assert "0 frames written" in r.stderr and libpcap_read(quiet) == [], r.stderr
    for _ in range(100):  # asenetd disarms once the client has gone
        if not capturing():
            break
        time.sleep(0.05)
    assert not capturing()
    bad = ctl("capture", "--socket", sock, "--port", "sideways", "-w", os.path.join(tmp, "x.pcap"), check=False)
    assert bad.returncode == 2, bad.stderr
    print("capture (pcap and pcapng, read back by libpcap; direction and side in pcapng): ok")

    # --- hostile clients ---------------------------------------------------------
    typ, msg = raw_exchange(b"GET / HTTP/1.1\r\n\r\n")
    assert typ == 0x81 and "magic" in msg, msg
    typ, msg = raw_exchange(raw_frame(1, b"", length=0x7FFFFFFF))
    assert typ == 0x81 and "exceeds" in msg, msg
    typ, msg = raw_exchange(raw_frame(1, os.urandom(4096)))
    assert typ == 0x81 and "table spec" in msg, msg
    typ, msg = raw_exchange(raw_frame(1, b"SPEC" + b"\xff" * 64))
    assert typ == 0x81, msg
    typ, msg = raw_exchange(raw_frame(77, b"{}"))
    assert typ == 0x81 and "unknown request" in msg, msg
    typ, msg = raw_exchange(raw_frame(4, b"{not json"))
    assert typ == 0x81 and "bad request" in msg, msg
    typ, msg = raw_exchange(raw_frame(1, b"x" * 10, length=100), wait=8.0)
    assert typ == 0x81 and "incomplete" in msg, msg
    s2 = stats()
    assert s2["generation"] == 2 and s2["control"]["pushes_failed"] >= 2, s2["control"]
    assert s2["control"]["messages_malformed"] >= 3, s2["control"]
    print("hostile clients: ok")

    # --- only the owner may connect --------------------------------------------
    os.chmod(tmp, 0o755)  # the directory is no obstacle: the socket's mode is

    def connect_as_nobody():
        pid = os.fork()
        if pid == 0:
            code = 3
            try:
                os.setgid(65534)
                os.setuid(65534)
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(sock)
                except PermissionError:
                    os._exit(0)  # refused by the file mode
                # The server answers at accept time, before any request.
                s.settimeout(5)
                reply = s.recv(4096)
                code = 1 if len(reply) >= 12 and struct.unpack("<H", reply[6:8])[0] == 0x81 and \
                    b"permission denied" in reply else 2
            finally:
                os._exit(code)
        return os.waitpid(pid, 0)[1] >> 8
    assert connect_as_nobody() == 0, "another user could connect to the 0600 socket"
    os.chmod(sock, 0o666)  # loosened by someone: the peer credential check still refuses
    rc = connect_as_nobody()
    assert rc == 1, "another user was served (child exit %d)" % rc
    os.chmod(sock, 0o600)
    assert stats()["control"]["connections_rejected"] >= 1
    print("only the owner: ok")

    # --- concurrent pushes -------------------------------------------------------
    before = stats()["generation"]
    procs = [subprocess.Popen([asenetctl, "push", "--socket", sock, "--topology", topo_deny, "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(5)]
    gens = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        gens.append(json.loads(out)["generation"])
    assert sorted(gens) == list(range(before + 1, before + 6)), gens
    assert stats()["generation"] == before + 5
    print("concurrent pushes: ok")

    daemon.send_signal(signal.SIGTERM)
    out, err = daemon.communicate(timeout=30)
    print(err)
    assert daemon.returncode == 0, "asenetd exited %d" % daemon.returncode
    assert not os.path.exists(sock), "socket left behind"
    daemon = None

    # NSG flow logs (version 2): Azure's blobs (one PT1H.json per NSG, hour and
    # NIC), read by a reader written against Azure's documented layout; the
    # minutes not yet written are written on exit, and flows still open then
    # end with their counts.
    tuples = {}
    for t in azure_flow_logs.read(flowlogs):
        assert t["nsg"] == "ASE-NSG", t
        tuples[",".join(t["tuple"].split(",")[1:])] = (t["rule"], int(t["tuple"].split(",")[0]))
    want = {"198.51.100.9,%s,41000,80,T,I,D,B,,,,": "DefaultRule_DenyAllInBound",
            "10.0.1.4,203.0.113.9,50000,443,T,O,A,B,,,,": "DefaultRule_AllowInternetOutBound",
            r"10.0.1.4,203.0.113.9,50000,443,T,O,A,E,[1-9]\d*,[1-9]\d*,\d+,\d+": "DefaultRule_AllowInternetOutBound"}
    for k, rule in want.items():
        hits = [v for t, v in tuples.items() if re.fullmatch(k.replace(".", r"\.").replace("%s", r"10\.0\.1\.[45]"), t)]
        assert hits and hits[0][0] == rule, (k, tuples)
        assert started - 5 <= hits[0][1] <= time.time() + 5, hits
    allowed = [t for t, v in tuples.items() if v[0] == "UserRule_AllowHttps" and t.endswith(",I,A,B,,,,")]
    assert len(allowed) == 11, allowed  # 3 + 8 HTTPS connections before AllowHttps went away
    print("flow logs: %d tuples: ok" % len(tuples))
    print("live control: ok")
finally:
    if daemon is not None:
        daemon.kill()
        print(daemon.communicate()[1])
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree("/var/run/dpdk/" + prefix, ignore_errors=True)

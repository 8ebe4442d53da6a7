#!/usr/bin/python3
"""038: NSG flow logs, version 2 (azure-semantics 6.8), from replay.
ase-nsg has flow logs on. What Azure writes [W-FL]: one blob per NSG, hour and
NIC, resourceId=/SUBSCRIPTIONS/.../NETWORKSECURITYGROUPS/<NSG>/y=/m=/d=/h=/m=00/
macAddress=<MAC>/PT1H.json = {"records":[...]}, a record per minute appended
to it (its time the minute's start), tuples grouped by rule:
  epoch,src,dst,sport,dport,T|U,I|O,A|D,B|C|E,pktsS2D,bytesS2D,pktsD2S,bytesD2S
- A (203.0.113.7) opens HTTPS to the VIP: "A,B" under UserRule_AllowHttps; the
  inbound NSG sees the instance's address (after DNAT). Closed with FINs, the
  flow ends 240 s after its last packet: "A,E" with its packets and bytes
  (IPv4 total length) each way.
- 198.51.100.9 -> VIP:80: denied, "D,B" with empty counts, DefaultRule_DenyAllInBound.
- The instance's own outbound SYN: "O,A,B" under DefaultRule_AllowInternetOutBound
  with the instance's address (before SNAT); it idles out: "E" after 240 s.
- C (203.0.113.8) keeps a connection alive: at its first packet 300 s or more
  after the begin, a "C" tuple counts what passed since; still open when the
  capture ends, it gets an "E" at the last packet with what passed after the C.
- MACs: 00-0D-3A + the NIC address's low 24 bits (emulated NICs have none).
The files are also read back by tests/golden/lib/azure_flow_logs.py, a reader
written against Azure's documented layout.
usage: gen.py [OUT_DIR]"""

import json
import os
import sys
import time as _time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from asenet_golden import FABRIC_MAC, Case, nat  # noqa: E402
from scapy.all import IP, TCP, Ether, Raw  # noqa: E402

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
c = Case(OUT)
NET = Ether(src="02:00:00:00:00:10", dst=FABRIC_MAC)
VM = Ether(src="02:00:00:00:01:04", dst=FABRIC_MAC)
VIP, INST, N = "192.23.1.2", "10.0.1.4", "ase-nsg"
A, C, X = "203.0.113.7", "203.0.113.8", "198.51.100.9"
V = {"next_hop_type": "VnetLocal", "route_table": "System Route"}
MAC = "000D3A000104"  # 10.0.1.4's low 24 bits: 00 01 04
tuples = []  # (time, nsg, mac, rule, text)


def tup(rule, t, src, dst, sport, dport, d, a, s, counts=None):
    """One flow tuple as Azure writes it (empty counts on a begin)."""
    tail = ",,,," if counts is None else ",%d,%d,%d,%d" % counts
    tuples.append((int(t), N, MAC, rule, "%d,%s,%s,%d,%d,T,%s,%s,%s%s" % (int(t), src, dst, sport, dport, d, a, s, tail)))


def ip_len(p):
    return len(p[IP])


counts_a = [0, 0, 0, 0]


def a_in(p):  # A -> VIP
    counts_a[0] += 1
    counts_a[1] += ip_len(p)
    c.expect_forward("internet", nat(p, dst=INST), "vnet", flow="established")


def a_out(p):  # instance -> A
    counts_a[2] += 1
    counts_a[3] += ip_len(p)
    c.expect_forward("vnet", nat(p, src=VIP), "internet", flow="reply")


p = c.send("internet", NET / IP(src=A, dst=VIP) / TCP(sport=50000, dport=443, flags="S", seq=1), dt=0)
c.expect_forward("internet", nat(p, dst=INST), "vnet", V, nsg=[(N, "AllowHttps", "Allow")], flow="new")
counts_a[0] += 1
counts_a[1] += ip_len(p)
tup("UserRule_AllowHttps", p.time, A, INST, 50000, 443, "I", "A", "B")

p = c.send("internet", NET / IP(src=C, dst=VIP) / TCP(sport=50001, dport=443, flags="S", seq=1))
c.expect_forward("internet", nat(p, dst=INST), "vnet", V, nsg=[(N, "AllowHttps", "Allow")], flow="new")
t_c = p.time
counts_c = [1, ip_len(p), 0, 0]
tup("UserRule_AllowHttps", p.time, C, INST, 50001, 443, "I", "A", "B")

a_out(c.send("vnet", VM / IP(src=INST, dst=A) / TCP(sport=443, dport=50000, flags="SA", seq=9, ack=2)))
a_in(c.send("internet", NET / IP(src=A, dst=VIP) / TCP(sport=50000, dport=443, flags="A", seq=2, ack=10)))
a_in(c.send("internet", NET / IP(src=A, dst=VIP) / TCP(sport=50000, dport=443, flags="PA", seq=2, ack=10) / Raw(b"GET /")))
a_out(c.send("vnet", VM / IP(src=INST, dst=A) / TCP(sport=443, dport=50000, flags="PA", seq=10, ack=7) / Raw(b"200 OK hello")))
a_in(c.send("internet", NET / IP(src=A, dst=VIP) / TCP(sport=50000, dport=443, flags="FA", seq=7, ack=22)))
a_out(c.send("vnet", VM / IP(src=INST, dst=A) / TCP(sport=443, dport=50000, flags="FA", seq=22, ack=8)))
p = c.send("internet", NET / IP(src=A, dst=VIP) / TCP(sport=50000, dport=443, flags="A", seq=8, ack=23))
a_in(p)
a_end = p.time + 240  # 240 s after both FINs

p = c.send("internet", NET / IP(src=X, dst=VIP) / TCP(sport=52000, dport=80, flags="S", seq=1))
c.expect_drop("internet", p, "nsg_deny", nsg=[(N, "DenyAllInBound", "Deny")])
tup("DefaultRule_DenyAllInBound", p.time, X, INST, 52000, 80, "I", "D", "B")

p = c.send("vnet", VM / IP(src=INST, dst="203.0.113.50") / TCP(sport=40000, dport=443, flags="S", seq=1))
c.expect_forward("vnet", p, "internet", nsg=[(N, "AllowInternetOutBound", "Allow")], flow="new",
                 unchecked="its source becomes the VIP and a SNAT port (032 checks those bytes)")
tup("DefaultRule_AllowInternetOutBound", p.time, INST, "203.0.113.50", 40000, 443, "O", "A", "B")
out_end = p.time + 240
out_counts = (1, ip_len(p), 0, 0)


def c_in(dt, last=False):
    p = c.send("internet", NET / IP(src=C, dst=VIP) / TCP(sport=50001, dport=443, flags="A", seq=2, ack=1) / Raw(b"k"), dt=dt)
    c.expect_forward("internet", nat(p, dst=INST), "vnet", flow="established")
    counts_c[0] += 1
    counts_c[1] += ip_len(p)
    return p


c_in(100.0)
c_in(100.0)
p = c_in(101.0)  # 300 s or more after C's begin: a continuing tuple with everything so far
assert p.time - t_c >= 300
tup("UserRule_AllowHttps", p.time, C, INST, 50001, 443, "I", "A", "C", tuple(counts_c))
counts_c = [0, 0, 0, 0]  # a continuing tuple's counts start again from zero
# Well after both other flows expired: the timers run at this packet and end them.
p = c_in(200.0)
assert p.time > a_end + 1 and p.time > out_end + 1
tup("UserRule_AllowHttps", a_end, A, INST, 50000, 443, "I", "A", "E", tuple(counts_a))
tup("DefaultRule_AllowInternetOutBound", out_end, INST, "203.0.113.50", 40000, 443, "O", "A", "E", out_counts)
# The capture ends with C open: its end at the last packet, with what passed since the C.
tup("UserRule_AllowHttps", p.time, C, INST, 50001, 443, "I", "A", "E", tuple(counts_c))
c.summary_extra["flow_log_tuples"] = len(tuples)
c.write()

# expect/flowlogs/resourceId=/.../<NSG>/y=/m=/d=/h=/m=00/macAddress=<MAC>/PT1H.json:
# per NSG, hour and MAC, the records of its minutes in order.
RESOURCE = "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/ASENET/PROVIDERS/" \
           "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/"
files = {}
for t, nsg, mac, rule, text in tuples:
    tm = _time.gmtime(t - t % 3600)
    path = os.path.join("resourceId=" + RESOURCE + nsg.upper(), "y=%04d" % tm.tm_year, "m=%02d" % tm.tm_mon,
                        "d=%02d" % tm.tm_mday, "h=%02d" % tm.tm_hour, "m=00", "macAddress=" + mac, "PT1H.json")
    minute = t - t % 60
    files.setdefault(path, {}).setdefault(minute, {}).setdefault(rule, []).append((t, text))
for path, minutes in sorted(files.items()):
    mac = path.split("macAddress=")[1].split("/")[0]
    records = []
    for minute in sorted(minutes):
        rules = minutes[minute]
        flows = [{"rule": rule, "flows": [{"mac": mac, "flowTuples": [x for _, x in sorted(rules[rule])]}]}
                 for rule in sorted(rules)]
        records.append({"time": _time.strftime("%Y-%m-%dT%H:%M:%S.0000000Z", _time.gmtime(minute)),
                        "systemId": "00000000-0000-0000-0000-000000000000", "macAddress": mac,
                        "category": "NetworkSecurityGroupFlowEvent", "resourceId": RESOURCE + N.upper(),
                        "operationName": "NetworkSecurityGroupFlowEvents",
                        "properties": {"Version": 2, "flows": flows}})
    full = os.path.join(OUT, "expect", "flowlogs", path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, "w") as f:
        json.dump({"records": records}, f, indent=1, sort_keys=True)
        f.write("\n")

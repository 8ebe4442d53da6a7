"""Shared helpers for golden cases: what the Azure fabric does to a packet it
forwards, written from azure-semantics.md, not from asenet's code.

Used by every tests/golden/NNN_name/gen.py and by pcaps/gen_demo.py.
Run with /usr/bin/python3 (Debian's python3-scapy)."""

import json
import logging
import os

from scapy.all import Ether, IP, PcapWriter  # noqa: F401  (re-exported for gen.py)

# Raw frames (malformed on purpose) carry no link type; the files say Ethernet.
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

# Azure answers ARP for every subnet gateway with this MAC; asenet uses it as the
# source MAC of everything it emits (docs/design/pipeline.md).
FABRIC_MAC = "12:34:56:78:9a:bc"
# Destination MAC per side until neighbour resolution exists.
PEER_MAC = {"internet": "02:a5:e0:00:00:01", "vnet": "02:a5:e0:00:00:02", "onprem": "02:a5:e0:00:00:03"}
SIDES = ("internet", "vnet", "onprem")


def forwarded(pkt, side, decrement_ttl=True):
    """The packet as it leaves the fabric on `side`: MACs rewritten, TTL one less,
    IPv4 header checksum recomputed, everything else byte for byte unchanged
    (a wrong L4 checksum stays wrong: routers do not touch it)."""
    out = Ether(bytes(pkt))
    out.src = FABRIC_MAC
    out.dst = PEER_MAC[side]
    if decrement_ttl:
        out[IP].ttl -= 1
        del out[IP].chksum
    out = Ether(bytes(out))
    out.time = pkt.time
    return out


def write_pcap(path, packets):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    w = PcapWriter(path, linktype=1, nano=True, sync=True)
    # scapy writes a header only with the first packet; an empty capture still
    # needs one so that every side's file is a valid pcap.
    w._write_header(None)
    for p in packets:
        w.write(p)
    w.close()


class Case:
    """Collects inputs (per side, with timestamps) and the expected outputs, then
    writes in/<side>.pcap, expect/<side>.pcap, expect/summary.json and
    expect/trace.jsonl."""

    def __init__(self, out_dir, t0=1700000000.0):
        self.out_dir = out_dir
        self.t = t0
        self.inputs = {s: [] for s in SIDES}
        self.expect = {s: [] for s in SIDES}
        self.trace = []
        self.drops = {}
        self.rule_hits = {}
        self.nsg_declared = False
        self.summary_extra = {}  # more expected summary.json keys (e.g. the final generation)
        self._n = 0

    def _stamp(self, pkt, dt):
        self.t = round(self.t + dt, 6)
        pkt.time = self.t
        return pkt

    def _key(self, side, pkt):
        # Replay merges inputs by time; equal times go in --in order (the
        # runner passes internet, vnet, onprem), then file order.
        self._n += 1
        return (pkt.time, SIDES.index(side), self._n)

    def send(self, side, pkt, dt=0.001):
        """Adds an input packet dt seconds after the previous one (dt=0: same
        time); returns it with its timestamp. Call expect_* for each packet in
        the order it was sent."""
        pkt = self._stamp(Ether(bytes(pkt)) if not isinstance(pkt, bytes) else Ether(pkt), dt)
        self.inputs[side].append(pkt)
        return pkt

    def send_raw(self, side, raw, dt=0.001):
        """Adds raw bytes as a packet (for malformed frames scapy would fix up)."""
        from scapy.packet import Raw
        pkt = Raw(raw)
        pkt = self._stamp(pkt, dt)
        self.inputs[side].append(pkt)
        return pkt

    def _nsg(self, line, nsg, flow):
        """nsg: [(NSG, RULE, "Allow"|"Deny"), ...] in Azure's evaluation order;
        each one also counts in the expected rule_hits."""
        if nsg is not None:
            self.nsg_declared = True
            line["nsg"] = [{"nsg": n, "rule": r, "access": a} for n, r, a in nsg]
            for n, r, _ in nsg:
                self.rule_hits[n + "/" + r] = self.rule_hits.get(n + "/" + r, 0) + 1
        if flow is not None:
            line["flow"] = flow

    def expect_forward(self, in_side, pkt, out_side, route=None, decrement_ttl=True, nsg=None, flow=None,
                       unchecked=None):
        """unchecked="why": the packet must leave on out_side (and the trace
        must match), but its bytes are not asserted, for the reason given
        (e.g. its source becomes the VIP once SNAT exists)."""
        key = self._key(in_side, pkt)
        self.expect[out_side].append((key, unchecked if unchecked else forwarded(pkt, out_side, decrement_ttl)))
        line = {"in_port": in_side, "verdict": "forward", "out_port": out_side}
        if route:
            line["route"] = route
        self._nsg(line, nsg, flow)
        self.trace.append((key, line))

    def expect_drop(self, in_side, pkt, reason, route=None, nsg=None, flow=None):
        self.drops[reason] = self.drops.get(reason, 0) + 1
        line = {"in_port": in_side, "verdict": "drop", "drop_reason": reason}
        if route:
            line["route"] = route
        self._nsg(line, nsg, flow)
        self.trace.append((self._key(in_side, pkt), line))

    def write(self):
        unchecked = {}
        for s in SIDES:
            if self.inputs[s]:
                write_pcap(os.path.join(self.out_dir, "in", s + ".pcap"), self.inputs[s])
            ordered = [p for _, p in sorted(self.expect[s], key=lambda x: x[0])]
            write_pcap(os.path.join(self.out_dir, "expect", s + ".pcap"), [p for p in ordered if not isinstance(p, str)])
            if any(isinstance(p, str) for p in ordered):
                unchecked[s] = [p if isinstance(p, str) else None for p in ordered]
        if unchecked:
            # Per side, in output order: null = bytes compared, a string = why not.
            with open(os.path.join(self.out_dir, "expect", "outputs.json"), "w") as f:
                json.dump(unchecked, f, indent=1, sort_keys=True)
                f.write("\n")
        n_in = sum(len(v) for v in self.inputs.values())
        summary = {
            "packets_in": n_in,
            "packets_out": {s: len(self.expect[s]) for s in SIDES},
            "drops": dict(sorted(self.drops.items())),
        }
        if self.nsg_declared:
            # Every NSG evaluation of the case is declared: the hits must match exactly.
            summary["rule_hits"] = dict(sorted(self.rule_hits.items()))
        summary.update(self.summary_extra)
        with open(os.path.join(self.out_dir, "expect", "summary.json"), "w") as f:
            json.dump(summary, f, indent=1, sort_keys=True)
            f.write("\n")
        # The trace is in merged input order (see _key).
        with open(os.path.join(self.out_dir, "expect", "trace.jsonl"), "w") as f:
            for i, (_, line) in enumerate(sorted(self.trace, key=lambda x: x[0])):
                f.write(json.dumps(dict(index=i, **line), sort_keys=True) + "\n")


def nat(pkt, src=None, dst=None, sport=None, dport=None, icmp_id=None):
    """The packet with addresses / ports / ICMP identifier rewritten and every
    checksum made right again: what a NAT hop hands on (before forwarded())."""
    from scapy.all import ICMP, TCP, UDP
    q = Ether(bytes(pkt))
    if src is not None:
        q[IP].src = src
    if dst is not None:
        q[IP].dst = dst
    del q[IP].chksum
    for layer in (TCP, UDP):
        if q.haslayer(layer):
            if sport is not None:
                q[layer].sport = sport
            if dport is not None:
                q[layer].dport = dport
            del q[layer].chksum
    if q.haslayer(ICMP):
        if icmp_id is not None:
            q[ICMP].id = icmp_id
        del q[ICMP].chksum
    q = Ether(bytes(q))
    q.time = pkt.time
    return q


# asenet's SNAT port policy (docs/design/lb-nat.md): each instance owns whole
# blocks of 8 ports from 1024 up, in instance order, skipping every block that
# holds a port a VIP rule uses; a new flow takes the lowest port of its
# instance that no live flow uses towards the same destination.
DEFAULT_VIP_RULE_PORTS = [454, 455, 80, 443, 4016, 4018, 4020, 4022, 21, 990] + list(range(10001, 10021))


def snat_ports(instance_index, per_instance=1024, rule_ports=DEFAULT_VIP_RULE_PORTS):
    """The ports instance `instance_index` of an ASE owns, in allocation order."""
    return _snat_ports_exact(instance_index, per_instance, {p // 8 for p in rule_ports})


def _snat_ports_exact(instance_index, per_instance, blocked):
    block = 1024 // 8
    for i in range(instance_index + 1):
        ports = []
        while len(ports) < per_instance and block <= 65535 // 8:
            if block not in blocked:
                ports.extend(range(block * 8, block * 8 + 8))
            block += 1
        if i == instance_index:
            return ports
    return []


def read_pty(master):
    """Everything written to a pseudo-terminal until its last writer closes it."""
    import os
    got = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the other side is closed
            break
        if not chunk:
            break
        got += chunk
    return got

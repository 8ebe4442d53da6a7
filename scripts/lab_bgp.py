"""scripts/lab up --nodes N --bgp: each node's VIPs announced over BGP by a
BIRD speaker (Debian's bird2), as Ananta's Muxes announce theirs, and the
router's BIRD installs the multipath route in the kernel (merge paths), which
Linux spreads on the 5-tuple (fib_multipath_hash_policy=1, set by the lab).

- Node k's speaker runs in N-nodek and reaches the router over a control veth
  (as<tag>-c<k>, 10.255.k.2/30, router end 10.255.k.1/30). It peers over iBGP
  (AS 65000) and announces each VIP with next hop 198.18.(100+k).2, an address
  on the router's eth<k> (198.18.(100+k).1/30) that node k's asenetd answers
  ARP for (the fabric answers every ARP on its sides), so the router sends the
  VIP's traffic straight to node k's port.
- The announcement (a static protocol `vip`, started disabled) is enabled only
  once node k's asenetd answers on its socket with a committed generation,
  and disabled when it stops answering or the node is drained: the watcher
  (`scripts/lab _bgp-watch N`, started with the lab) checks every half second.
- Timers are short for a lab (keepalive 1 s, hold 3 s): a dead speaker's
  routes go within 3 s; a withdrawn one's at once.
Files: the run folder's bird-router.conf / bird-K.conf, their control
sockets (birdc -s /run/asenet-lab/N/bird-K.ctl show route) and logs."""

import json
import os
import signal
import subprocess
import sys
import time

ASN = 65000
BIRD = "/usr/sbin/bird"
BIRDC = "/usr/sbin/birdc"


def next_hop(k):
    """Node k's next hop on the router's eth<k>: asenetd answers ARP for it."""
    return "198.18.%d.2" % (100 + k)


def router_conf(lab, nodes, client):
    peers = "\n".join("protocol bgp node%d from mux { neighbor 10.255.%d.2 as %d; source address 10.255.%d.1; }"
                      % (k, k, ASN, k) for k in range(nodes))
    return """# The router's BIRD (scripts/lab --bgp): learns each node's VIP routes, installs one multipath route.
log "%s" all;
router id 198.18.0.1;
protocol device { scan time 2; }
protocol direct { ipv4; interface "eth*"; }
protocol kernel {
  ipv4 { import none; export filter { if source = RTS_BGP then { krt_prefsrc = %s; accept; } reject; }; };
  merge paths on;
}
template bgp mux {
  local as %d;
  hold time 3; keepalive time 1; connect retry time 1;
  ipv4 { import all; export none; gateway recursive; };
}
%s
""" % (os.path.join(lab.run, "bird-router.log"), client, ASN, peers)


def node_conf(lab, k, vips):
    routes = "\n".join("  route %s/32 blackhole;" % v for v in vips)
    return """# Node %d's speaker (scripts/lab --bgp): its VIPs, announced while its asenetd serves a generation.
log "%s" all;
router id 10.255.%d.2;
protocol device { scan time 2; }
protocol static vip {
  disabled;
  ipv4;
%s
}
protocol bgp uplink {
  local 10.255.%d.2 as %d; neighbor 10.255.%d.1 as %d;
  hold time 3; keepalive time 1; connect retry time 1;
  ipv4 { import none; export filter { if proto = "vip" then { bgp_next_hop = %s; accept; } reject; }; };
}
""" % (k, os.path.join(lab.run, "bird-%d.log" % k), k, routes, k, ASN, k, ASN, next_hop(k))


def setup(lab, nodes, client, vips, sh, ns_exec):
    """Addresses, control links, the BIRDs (announcing nothing yet) and the watcher."""
    router = lab.ns("internet")
    for k in range(nodes):
        node = lab.ns("node%d" % k)
        ns_exec(router, "ip", "addr", "add", "198.18.%d.1/30" % (100 + k), "dev", "eth%d" % k)
        a, b = lab.veth("-c%d" % k), lab.veth("-c%dr" % k)
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        sh("ip", "link", "set", a, "netns", node)
        sh("ip", "link", "set", b, "netns", router)
        ns_exec(node, "ip", "addr", "add", "10.255.%d.2/30" % k, "dev", a)
        ns_exec(node, "ip", "link", "set", a, "up")
        ns_exec(router, "ip", "addr", "add", "10.255.%d.1/30" % k, "dev", b)
        ns_exec(router, "ip", "link", "set", b, "up")
    start_bird(lab, "router", router, router_conf(lab, nodes, client))
    for k in range(nodes):
        start_bird(lab, str(k), lab.ns("node%d" % k), node_conf(lab, k, vips))
    log = open(os.path.join(lab.run, "bgp-watch.log"), "w")
    w = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lab"),
                          "_bgp-watch", lab.name], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    with open(os.path.join(lab.run, "bgp-watch.pid"), "w") as f:
        f.write(str(w.pid))


def start_bird(lab, who, ns, conf):
    path = os.path.join(lab.run, "bird-%s.conf" % who)
    with open(path, "w") as f:
        f.write(conf)
    ctl = os.path.join(lab.run, "bird-%s.ctl" % who)
    out = open(os.path.join(lab.run, "bird-%s.out" % who), "w")
    d = subprocess.Popen(["ip", "netns", "exec", ns, BIRD, "-f", "-c", path, "-s", ctl], stdout=out,
                         stderr=subprocess.STDOUT, start_new_session=True)
    with open(os.path.join(lab.run, "bird-%s.pid" % who), "w") as f:
        f.write(str(d.pid))
    for _ in range(50):
        if os.path.exists(ctl) or d.poll() is not None:
            break
        time.sleep(0.1)
    if d.poll() is not None:
        sys.exit("lab: bird (%s) did not start: %s" % (who, open(out.name).read().strip()))


def birdc(lab, who, *cmd):
    return subprocess.run([BIRDC, "-s", os.path.join(lab.run, "bird-%s.ctl" % who)] + list(cmd),
                          capture_output=True, text=True)


def serving(ctl, sock, pidf):
    """The node's asenetd is alive and answers with a committed generation."""
    try:
        pid = int(open(pidf).read())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    r = subprocess.run([ctl, "stats", "--socket", sock, "--json", "--timeout", "2"], capture_output=True, text=True)
    try:
        return r.returncode == 0 and json.loads(r.stdout)["generation"] >= 1
    except (ValueError, KeyError):
        return False


def watch(lab, nodes, ctl, drained_nodes):
    """Announces node k's VIPs while it serves and is not drained; withdraws them otherwise."""
    announced = {}
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while os.path.isdir(lab.run):
        drained = set(drained_nodes(lab))
        for k in range(nodes):
            want = k not in drained and serving(ctl, lab.node_sock(k), lab.node_file(k, "asenetd.pid"))
            if announced.get(k) == want:
                continue
            r = birdc(lab, str(k), "enable" if want else "disable", "vip")
            if r.returncode == 0:
                announced[k] = want
                print("%s node %d: %s" % (time.strftime("%H:%M:%S"), k, "announced" if want else "withdrawn"),
                      flush=True)
        time.sleep(0.5)


def stop(lab, stop_pid):
    stop_pid(os.path.join(lab.run, "bgp-watch.pid"))
    if os.path.isdir(lab.run):
        for n in sorted(os.listdir(lab.run)):
            if n.startswith("bird-") and n.endswith(".pid"):
                stop_pid(os.path.join(lab.run, n))


def vip_route(lab, vips):
    """The router's kernel route for the first VIP, as `ip route` prints it."""
    if not vips:
        return ""
    r = subprocess.run(["ip", "-n", lab.ns("internet"), "route", "show", vips[0] + "/32"], capture_output=True,
                       text=True)
    return r.stdout.strip()

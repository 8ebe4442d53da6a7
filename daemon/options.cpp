#include "daemon/options.hpp"

#include <rte_version.h>

#include <cstring>
#include <iostream>

namespace po = boost::program_options;

namespace asenet::daemon {

po::options_description options() {
  po::options_description d(R"(usage: asenetd [EAL args] -- --topology T [options]

The asenet data plane. EAL arguments come first (e.g. -l 0-1 --no-huge
--file-prefix NAME --vdev ...). The topology's [ports] table names the device of
each side (internet, vnet, onprem): a vdev string that asenetd probes itself
(net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap / net_null0 / net_tap0,iface=tap0),
the name of a device EAL already probed (a PCI address, a --vdev name), or
tap:NAME. One worker per worker lcore polls one queue of every port (RSS
spreads flows over the workers); with several workers each packet is handed to
the worker that owns its connection, so both directions of a NATed flow meet
one flow table and SNAT pool. The main lcore runs the control loop: the
control socket (asenetctl push / stats / trace / health) and the DPDK telemetry
commands /asenet/stats, /asenet/ports, /asenet/drops, /asenet/rule_hits and
/asenet/snat (read them with dpdk-telemetry.py), and the active health probes
of ASEs with probe_port. With [l2] arp = true it answers ARP and resolves its
next hops' MACs, for real hosts (scripts/lab). SIGINT/SIGTERM stop cleanly,
and a clean stop leaves no /var/run/dpdk/PREFIX behind.

asenetd's own options come after `--` and are checked, with the topology,
before EAL starts. On a machine with PCI NICs that other programs use, give
EAL --no-pci (or -a ADDRESS for the NICs asenetd may take). A TAP device
(tap:NAME) needs root or CAP_NET_ADMIN. A net_null device without no-rx=1
floods the worker with empty frames (each dropped as malformed): asenetd
warns.

options)");
  d.add_options()("help,h", "show this help")("version", "print asenetd's and DPDK's versions")(
      "topology", po::value<std::string>()->required(), "topology file (TOML, contract section 2)")(
      "workers", po::value<unsigned>(), "worker count (default: every worker lcore)")(
      "control-socket", po::value<std::string>(), "listen for asenetctl on this unix socket (created mode 0600)")(
      "control-group", po::value<std::string>(), "also let this group use the control socket (mode 0660)")(
      "flow-logs", po::value<std::string>(),
      "write NSG flow logs (version 2) of NSGs with flow_logs = true under this "
      "directory as Azure lays out its blobs: resourceId=/SUBSCRIPTIONS/.../"
      "NETWORKSECURITYGROUPS/<NSG>/y=/m=/d=/h=/m=00/macAddress=<MAC>/PT1H.json, "
      "one file per NSG, hour and NIC; each minute's record is appended 5 s "
      "after the minute ends, the rest and an end for every open flow on exit")(
      "mbufs", po::value<unsigned>(),
      "mbufs in the pool (default: enough for every queue's descriptors; a pcap "
      "vdev with infinite_rx needs one per packet of its capture as well)")(
      "metrics-listen", po::value<std::string>(),
      "serve GET /metrics (Prometheus text format, the snapshot `stats` reads, "
      "at most 200 ms old) over HTTP on ADDR:PORT, e.g. 127.0.0.1:9469 or "
      "[::1]:9469; off unless given")("idle-sleep", po::value<unsigned>()->default_value(0),
                                      "a worker that finds no packets for 64 polls in a row sleeps this many "
                                      "microseconds before the next (0: busy-poll, DPDK's way, a core each); "
                                      "on a small machine (a lab) this gives the core back to the kernel and "
                                      "the programs around asenetd")(
      "duration", po::value<double>()->default_value(0), "stop after this many seconds (0: run until a signal)")(
      "no-probes", po::bool_switch(),
      "send no health probes (ASEs with probe_port): health comes only from asenetctl health, "
      "as on a pool's followers, to which asenetctl health-relay brings one prober's verdicts")(
      "node", po::value<unsigned>(),
      "this node's number (0 to N-1) in a pool of N asenetd nodes that act as one data plane "
      "(docs/design/scale-out.md): each connection has one owner node (hash of its external end, "
      "as workers share them), and a packet another node owns is sent to it over the peer link")(
      "peer", po::value<std::vector<std::string>>()->composing(),
      "NODE=DEVICE: the link to pool node NODE, one for every other node, with as many workers on "
      "each: net_memif between processes on one machine (one side role=server, the other "
      "role=client, the same socket=PATH; EAL without --no-shconf), a veth or real port "
      "(net_af_packet) between machines. Every node needs the same topology (asenetctl push "
      "--socket A --socket B), and the health prober should be node 0")(
      "summary", po::value<std::string>(), "write the final counters as JSON to this file on exit");
  return d;
}

/// Finds or probes the device for one side; returns its port id or -1.
std::optional<po::variables_map> parse_command_line(int argc, char** argv, int& eal_argc, int& exit_code) {
  int dashdash = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      dashdash = i;
      break;
    }
  }
  exit_code = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::cout << options() << "\n";
      return std::nullopt;
    }
    if (std::strcmp(argv[i], "--version") == 0) {
      std::cout << "asenetd " << ASENET_VERSION << " (" << rte_version() << ")\n";
      return std::nullopt;
    }
  }
  exit_code = 2;
  auto desc = options();
  if (dashdash < 0) {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a.rfind("--", 0) == 0 && desc.find_nothrow(a.substr(2, a.find('=') - 2), false) != nullptr) {
        std::cerr << "asenetd: " << a << " is asenetd's option: put asenetd's options after `--` "
                  << "(asenetd [EAL args] -- --topology T ...)\n";
        return std::nullopt;
      }
    }
    std::cerr << "asenetd: no `--` and no --topology: asenetd [EAL args] -- --topology T [options] "
              << "(try asenetd --help)\n";
    return std::nullopt;
  }
  std::vector<std::string> rest(argv + dashdash + 1, argv + argc);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(rest).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "asenetd: " << e.what() << " (try asenetd --help)\n";
    return std::nullopt;
  }
  eal_argc = dashdash;
  exit_code = 0;
  return vm;
}

}  // namespace asenet::daemon

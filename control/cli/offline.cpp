// asenetctl's offline commands that run or draw a topology: replay (the real
// data plane over pcap files), bench (pipeline rates), validate and graph.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "control/cli/common.hpp"
#include "control/compiler/compile.hpp"
#include "control/offline/bench.hpp"
#include "control/offline/graph.hpp"
#include "control/offline/replay.hpp"
#include "dataplane/ports/peer_link.hpp"
#include "protocol/json.hpp"

namespace po = boost::program_options;

namespace asenet::control::cli {

namespace {

/// replay --apply SECONDS=TOPOLOGY into opt.applies; false when malformed.
bool parse_apply(const std::string& a, ReplayOptions& opt) {
  const auto eq = a.find('=');
  double secs = -1;
  try {
    size_t used = 0;
    if (eq != std::string::npos) secs = std::stod(a.substr(0, eq), &used);
    if (used != eq) secs = -1;
  } catch (const std::exception&) {
    secs = -1;
  }
  if (eq == std::string::npos || secs < 0 || eq + 1 == a.size()) return false;
  opt.applies.push_back({secs, a.substr(eq + 1)});
  return true;
}

}  // namespace

int cmd_replay(const std::vector<std::string>& args) {
  po::options_description d(
      R"(usage: asenetctl replay --topology T --in SIDE=FILE.pcap [--in ...] --out-dir DIR [options]

Replays captures through asenetd's pipeline: DPDK EAL (--no-huge, in memory),
mbufs, ring-PMD ports and worker lcores running the same loop as asenetd. Inputs
are merged in timestamp order; the data plane's clock is the packets' time.
Writes DIR/internet.pcap, DIR/vnet.pcap, DIR/onprem.pcap (each packet stamped with
the time of the packet that caused it), DIR/summary.json and, with --trace,
DIR/trace.jsonl. The same inputs and --workers give byte-identical outputs
(--timing adds summary.json's "run": elapsed seconds and packets per second,
which differ from run to run). On a terminal a status line on stderr shows
packets, rate, elapsed and time left while it runs (ASENET_PROGRESS=0: off);
the text summary ends with a "Rated:" line.
--nodes N replays as a pool of N asenetd nodes of --workers each: a packet
reaches a node by a hash of its 5-tuple (as a router's ECMP spreads them) and,
when another node owns its connection, crosses a peer link to it inside the
peer header (docs/design/scale-out.md); the outputs are those of one node.
--trace-filter EXPR (tcpdump's language, pcap-filter(7), compiled by libpcap)
keeps in trace.jsonl and the --report lines only the packets whose frame, as it
arrived, matches; each keeps its sequence number. It implies --trace.

options)");
  std::vector<std::string> ins, applies;
  std::string eal, trace_filter;
  ReplayOptions opt;
  d.add_options()("help,h", "show this help")("topology", po::value(&opt.topology)->required(),
                                              "topology file (TOML, contract section 2)")(
      "in", po::value(&ins)->required(), "SIDE=FILE: a capture entering on side internet, vnet or onprem (repeatable)")(
      "out-dir", po::value(&opt.out_dir)->required(), "directory for the output pcaps, summary.json, trace.jsonl")(
      "workers", po::value(&opt.workers)->default_value(1),
      "worker lcores (flows are spread by a symmetric hash); per node with --nodes")(
      "nodes", po::value(&opt.nodes)->default_value(1), "replay as a pool of N asenetd nodes (1-8)")(
      "trace", po::bool_switch(&opt.trace), "also write trace.jsonl: one line per input packet")(
      "trace-filter", po::value(&trace_filter), "trace (and report) only frames matching this tcpdump filter")(
      "report", po::bool_switch(&opt.report), "print one line per packet: what entered and where it went")(
      "json", po::bool_switch(&opt.json), "print summary.json on stdout instead of the text summary")(
      "timing", po::bool_switch(&opt.timing), "summary.json also says how long the replay took (\"run\")")(
      "apply", po::value(&applies),
      "SECONDS=TOPOLOGY: at SECONDS after the first packet, that topology becomes "
      "the next generation, as a push would (repeatable, times ascending)")("eal-args", po::value(&eal),
                                                                            "extra EAL arguments, space separated");
  if (auto rc = parse_options(d, args, "replay")) return *rc;
  const bool filtered =
      std::any_of(args.begin(), args.end(), [](const std::string& a) { return a.rfind("--trace-filter", 0) == 0; });
  if (filtered) {
    std::string why;
    auto f = PacketFilter::compile(trace_filter, why);
    if (!f) return bad_usage("replay", "--trace-filter '" + trace_filter + "': " + why);
    opt.trace_filter = std::make_shared<const PacketFilter>(std::move(*f));
    opt.trace = true;
  }
  if (opt.nodes < 1 || opt.nodes > dataplane::kMaxNodes)
    return bad_usage("replay", "--nodes must be 1-" + std::to_string(dataplane::kMaxNodes));
  if (opt.workers < 1 || opt.workers * opt.nodes > 64) return bad_usage("replay", "--workers x --nodes must be 1-64");
  opt.workers *= opt.nodes;  // the replay runs them all; node k's are k*W .. k*W+W-1
  for (const auto& a : applies)
    if (!parse_apply(a, opt)) return bad_usage("replay", "--apply '" + a + "' must be SECONDS=TOPOLOGY (seconds >= 0)");
  for (const auto& in : ins) {
    auto eq = in.find('=');
    if (eq == std::string::npos) return bad_usage("replay", "--in '" + in + "' must be SIDE=FILE");
    const std::string side = in.substr(0, eq);
    ReplayInput ri{dataplane::Port::kInternet, in.substr(eq + 1)};
    if (side == "internet")
      ri.side = dataplane::Port::kInternet;
    else if (side == "vnet")
      ri.side = dataplane::Port::kVnet;
    else if (side == "onprem")
      ri.side = dataplane::Port::kOnprem;
    else
      return bad_usage("replay", "--in side '" + side + "' is not internet, vnet or onprem");
    opt.inputs.push_back(ri);
  }
  std::istringstream es(eal);
  for (std::string a; es >> a;) opt.eal_args.push_back(a);
  return run_replay(opt);
}

namespace {

constexpr const char* kBenchUsage =
    R"(usage: asenetctl bench --scenario S [--seconds N] [--workers N] [--json] [options]
       asenetctl bench --topology T [--pcap FILE] [--flows N] [--seconds N] [--json]

Measures the real pipeline on in-memory packets (never a disk in the measured
loop), and in the same run asenetd against dpdk-testpmd's io forwarding on the
same two pcap vdevs (infinite_rx) and lcores. Scenarios:
  established  ACKs of --flows live flows (100,000), half in through the VIP
               (LB, DNAT), half out through SNAT; 64-byte frames
  new-flows    every packet a SYN of a new connection through LB, NSG, route
               and SNAT (the table is measured up to half full)
  nsg-1k       new-flows through 1,000 NSG rules: ClassBench acl1_1k as Allow
               rules when ../shared/testdata/classbench is present, else synthetic
  nsg-10k      the same with 10,000 rules (acl1_10k)
  flows-1m     established with 1,000,000 live flows: rate and memory
  replay       asenetctl replay of a --packets capture (3,000,000) against
               libpcap alone reading and writing it, with and without --trace
  flow-tables  the flow table (its own index) against DPDK's rte_hash and
               rte_table_hash_key16_ext: cycles a lookup of 2 x --flows keys,
               each DPDK table also with the flow's two lines read after it
Prints Mpps, cycles per packet (the packet generator's own cost taken out),
cycles per stage (parse, flow lookup, route, LB, NSG, NAT, install, forward,
emit), new connections per second, the flow table's memory, and the
asenetd / testpmd ratio. On the vdevs, new-flow scenarios replay SYN then RST
per connection, so each lap's SYN opens a new connection. With --workers N > 1
one worker is measured first, then N (the scaling ratio). In-process figures
are the median of --rounds rounds (new flows: each round from an empty table).
Established scenarios are measured twice: flows in the order they were
installed with each frame written just before it is processed (hot in L1, the
historical figure), and flows in random order with frames written 16,384
packets ahead (from the last-level cache, as a NIC's DMA would leave them:
"established_random"). The vdev baseline runs dpdk-testpmd twice: io (no
header touched) and 5tswap (it swaps MACs, IPs and ports, as a NAT rewrites).
Synthetic NSGs:
N-1 denies for unrelated prefixes before the rule that admits the traffic, so
the classifier cannot stop early.

With --topology, the bench runs in process on your own topology and its NSGs
(`asenetctl import` makes one from Azure's JSON). Traffic is generated from it:
for each path it has (the Internet to each VIP's served ports, on-premises to
each ILB, ASE instances to the Internet and to the VNet's hosts) and each NSG
rule that allows something there, connections that rule admits (computed
exactly, as `nsg analyze` does), kept when the whole path admits them; with
--pcap FILE the established packets are the capture's frames instead, replayed
from memory. It reports established packets/s (install order and random order),
new connections/s, cycles by stage, the rte_acl rules after expansion and their
build time, the memory, and each rule's share of the connections as the data
plane's NSG stage counted them. No vdev baseline runs with --topology.
On a terminal, standard error shows the run under way (drawn between runs,
never inside a timed loop); it ends with one line: the runs and their time.

options)";

}  // namespace

int cmd_bench(const std::vector<std::string>& args) {
  po::options_description d(kBenchUsage);
  BenchOptions opt;
  opt.scenario.clear();  // one of --scenario and --topology
  bool no_stages = false, no_baseline = false, baseline = false;
  d.add_options()("help,h", "show this help")(
      "scenario", po::value(&opt.scenario), "established, new-flows, nsg-1k, nsg-10k, flows-1m, replay or flow-tables")(
      "topology", po::value(&opt.topology), "the bench on this topology's own NSGs and paths (instead of --scenario)")(
      "pcap", po::value(&opt.pcap), "with --topology: established traffic from this capture (Ethernet)")(
      "seconds", po::value(&opt.seconds)->default_value(2.0), "how long to measure (each part)")(
      "rounds", po::value(&opt.rounds)->default_value(3), "measured rounds, 1-9; the median counts")(
      "workers", po::value(&opt.workers)->default_value(1), "lcores running the pipeline in process")(
      "json", po::bool_switch(&opt.json), "print one JSON document")(
      "flows", po::value(&opt.flows)->default_value(100000), "established: live flows per worker")(
      "packets", po::value(&opt.packets)->default_value(3000000), "replay: packets in the capture")(
      "nsg-rules", po::value(&opt.nsg_rules)->default_value(1000), "established, new-flows: rules in the NSGs")(
      "no-baseline", po::bool_switch(&no_baseline), "skip asenetd and dpdk-testpmd on the vdevs")(
      "baseline", po::bool_switch(&baseline), "run them (the default; kept for old scripts)")(
      "no-stages", po::bool_switch(&no_stages), "skip the per-stage timing pass")(
      "classbench", po::value(&opt.classbench), "nsg-1k/nsg-10k: the ClassBench directory")(
      "asenetd", po::value(&opt.asenetd), "the asenetd binary for the baseline (default: next to asenetctl)");
  if (auto rc = parse_options(d, args, "bench")) return *rc;
  if (opt.topology.empty() == opt.scenario.empty())
    return bad_usage("bench", "give --scenario S or --topology T (one of them)");
  if (!opt.pcap.empty() && opt.topology.empty()) return bad_usage("bench", "--pcap needs --topology");
  opt.stages = !no_stages;
  opt.baseline = !no_baseline;
  if (opt.asenetd.empty()) {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    opt.asenetd = (self.parent_path() / "asenetd").string();
  }
  if (!opt.topology.empty()) {
    if (opt.flows < 1024 || opt.flows > 4000000) return bad_usage("bench", "--flows must be 1024-4000000");
    if (opt.workers < 1 || opt.workers > 8) return bad_usage("bench", "--workers must be 1-8");
    if (opt.rounds < 1 || opt.rounds > 9) return bad_usage("bench", "--rounds must be 1-9");
    return run_topology_bench(opt);
  }
  return run_bench(opt);
}

int cmd_validate(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl validate --topology T [--json]

Loads and validates a topology. Exit 0 when valid (warnings go to stderr), 2 with
`file:line:col: path: message` when not. Prints the effective route set the data
path compiles.

options)");
  std::string topo_path;
  bool json = false;
  d.add_options()("help,h", "show this help")("topology", po::value(&topo_path)->required(), "topology file")(
      "json", po::bool_switch(&json), "print one JSON document");
  if (auto rc = parse_options(d, args, "validate")) return *rc;
  auto loaded = load_or_report(topo_path);
  if (!loaded) return 2;
  const Topology& t = *loaded;
  const auto spec = compile(t, 1);
  if (json) {
    std::cout << "{\"valid\":true,\"warnings\":[";
    for (size_t i = 0; i < t.warnings.size(); ++i) std::cout << (i ? "," : "") << json_str(t.warnings[i]);
    std::cout << "],\"route_sets\":" << spec.route_sets.size() << ",\"nsg_rules\":" << spec.nsg_rules.size() << "}\n";
  } else {
    std::cout << t.file << ": valid: " << t.subnets.size() << " subnets, " << t.ases.size() << " ASEs, "
              << t.hosts.size() << " hosts, " << t.nsgs.size() << " NSGs (" << spec.nsg_rules.size()
              << " rules with the defaults), " << t.route_tables.size() << " route tables (" << spec.route_sets.size()
              << " distinct effective route sets)\n";
    std::cout << "  see `asenetctl effective-routes --subnet NAME` for the routes of a subnet\n";
  }
  return 0;
}

int cmd_graph(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl graph --topology T [--format dot|svg|png] [--out FILE]

Draws the topology: the VNet and its subnets, ASEs with their VIP / ILB and
instances (in address order), hosts, NSGs and route tables with edges to the
subnets they are attached to, the gateway with its BGP prefixes, and the data
plane's three ports. What `asenetctl doctor` finds broken is drawn in red: the
ASE, and an edge to where its management replies or dependencies go instead
(forced tunnelling without the fix: to the gateway), with the check's name;
in SVG the finding's words are the edge's tooltip. DOT is written by asenet;
SVG and PNG by Graphviz's `dot` from it.

options)");
  std::string topology, format = "dot", out;
  d.add_options()("help,h", "show this help")("topology", po::value(&topology)->required(),
                                              "topology file (TOML, contract section 2)")(
      "format", po::value(&format), "dot (default), svg or png")("out", po::value(&out),
                                                                 "write here instead of stdout");
  if (auto rc = parse_options(d, args, "graph")) return *rc;
  if (format != "dot" && format != "svg" && format != "png")
    return bad_usage("graph", "--format must be dot, svg or png");
  const auto topo = load_or_report(topology);
  if (!topo) return 2;
  const std::string dot = topology_dot(*topo);
  if (format == "dot") {
    if (out.empty()) {
      std::cout << dot;
      return 0;
    }
    std::ofstream f(out, std::ios::trunc);
    f << dot;
    if (!f) {
      std::cerr << "asenetctl graph: cannot write " << out << "\n";
      return 1;
    }
    return 0;
  }
  char tmpl[] = "/tmp/asenet-graph-XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd < 0 || write(fd, dot.data(), dot.size()) != static_cast<ssize_t>(dot.size())) {
    std::cerr << "asenetctl graph: cannot write a temporary file\n";
    return 1;
  }
  close(fd);
  std::vector<std::string> argv_s = {"dot", "-T" + format, tmpl};
  if (!out.empty()) argv_s.insert(argv_s.end(), {"-o", out});
  std::vector<char*> argv_c;
  for (auto& a : argv_s) argv_c.push_back(a.data());
  argv_c.push_back(nullptr);
  std::cout.flush();
  pid_t pid = 0;
  int rc = posix_spawnp(&pid, "dot", nullptr, nullptr, argv_c.data(), environ);
  int status = 0;
  if (rc == 0) waitpid(pid, &status, 0);
  unlink(tmpl);
  if (rc != 0) {
    std::cerr << "asenetctl graph: cannot run Graphviz's dot (apt-get install graphviz): " << std::strerror(rc) << "\n";
    return 1;
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

}  // namespace asenet::control::cli

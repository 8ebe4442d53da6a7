// asenetctl: the control process and CLI (contract section 3).
#include <boost/program_options.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "control/compile.hpp"
#include "control/json.hpp"
#include "control/replay.hpp"
#include "control/topology.hpp"

namespace po = boost::program_options;
using namespace asenet;
using namespace asenet::control;

namespace {

constexpr const char* kUsage = R"(usage: asenetctl COMMAND [options]

Emulates the network of Azure App Service Environments on a DPDK data plane.

commands:
  replay     run the real data plane over pcap files (contract section 3)
  validate   load and validate a topology; print what it compiles to
  version    print the version

Run `asenetctl COMMAND --help` for the options of a command.
Exit codes: 0 success, 1 runtime failure, 2 bad input (message names file:line:col).
)";

int bad_usage(const std::string& cmd, const std::string& msg) {
  std::cerr << "asenetctl " << cmd << ": " << msg << "\n(try `asenetctl " << cmd << " --help`)\n";
  return 2;
}

int cmd_replay(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl replay --topology T --in SIDE=FILE.pcap [--in ...] --out-dir DIR [options]

Replays captures through asenetd's pipeline: DPDK EAL (--no-huge, in memory),
mbufs, ring-PMD ports and worker lcores running the same loop as asenetd. Inputs
are merged in timestamp order; the data plane's clock is the packets' time.
Writes DIR/internet.pcap, DIR/vnet.pcap, DIR/onprem.pcap (each packet stamped with
the time of the packet that caused it), DIR/summary.json and, with --trace,
DIR/trace.jsonl. The same inputs and --workers give byte-identical outputs.

options)");
  std::vector<std::string> ins;
  std::string eal;
  ReplayOptions opt;
  d.add_options()
      ("help,h", "show this help")
      ("topology", po::value(&opt.topology)->required(), "topology file (TOML, contract section 2)")
      ("in", po::value(&ins)->required(), "SIDE=FILE: a capture entering on side internet, vnet or onprem (repeatable)")
      ("out-dir", po::value(&opt.out_dir)->required(), "directory for the output pcaps, summary.json, trace.jsonl")
      ("workers", po::value(&opt.workers)->default_value(1), "worker lcores (flows are spread by a symmetric hash)")
      ("trace", po::bool_switch(&opt.trace), "also write trace.jsonl: one line per input packet")
      ("report", po::bool_switch(&opt.report), "print one line per packet: what entered and where it went")
      ("json", po::bool_switch(&opt.json), "print summary.json on stdout instead of the text summary")
      ("eal-args", po::value(&eal), "extra EAL arguments, space separated");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(d).run(), vm);
    if (vm.count("help")) {
      std::cout << d << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    return bad_usage("replay", e.what());
  }
  for (const auto& in : ins) {
    auto eq = in.find('=');
    if (eq == std::string::npos) return bad_usage("replay", "--in '" + in + "' must be SIDE=FILE");
    const std::string side = in.substr(0, eq);
    ReplayInput ri{dataplane::Port::kInternet, in.substr(eq + 1)};
    if (side == "internet") ri.side = dataplane::Port::kInternet;
    else if (side == "vnet") ri.side = dataplane::Port::kVnet;
    else if (side == "onprem") ri.side = dataplane::Port::kOnprem;
    else return bad_usage("replay", "--in side '" + side + "' is not internet, vnet or onprem");
    opt.inputs.push_back(ri);
  }
  std::istringstream es(eal);
  for (std::string a; es >> a;) opt.eal_args.push_back(a);
  return run_replay(opt);
}

int cmd_validate(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl validate --topology T [--json]

Loads and validates a topology. Exit 0 when valid (warnings go to stderr), 2 with
`file:line:col: path: message` when not. Prints the effective route set the data
path compiles.

options)");
  std::string topo_path;
  bool json = false;
  d.add_options()("help,h", "show this help")
      ("topology", po::value(&topo_path)->required(), "topology file")
      ("json", po::bool_switch(&json), "print one JSON document");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(d).run(), vm);
    if (vm.count("help")) {
      std::cout << d << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    return bad_usage("validate", e.what());
  }
  Topology t;
  try {
    t = load_topology(topo_path);
  } catch (const TopologyError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  for (const auto& w : t.warnings) std::cerr << "warning: " << w << "\n";
  const auto spec = compile(t, 1);
  if (json) {
    std::cout << "{\"valid\":true,\"warnings\":[";
    for (size_t i = 0; i < t.warnings.size(); ++i) std::cout << (i ? "," : "") << json_str(t.warnings[i]);
    std::cout << "],\"routes\":[";
    for (size_t i = 0; i < spec.routes.size(); ++i) {
      const auto& nh = spec.next_hops[spec.routes[i].next_hop];
      std::cout << (i ? "," : "") << "{\"prefix\":" << json_str(format_cidr(spec.routes[i].prefix))
                << ",\"next_hop_type\":" << json_str(dataplane::next_hop_type_name(nh.type))
                << ",\"port\":" << json_str(dataplane::port_name(nh.port)) << "}";
    }
    std::cout << "]}\n";
  } else {
    std::cout << t.file << ": valid: " << t.subnets.size() << " subnets, " << t.ases.size() << " ASEs, "
              << t.hosts.size() << " hosts, " << t.nsgs.size() << " NSGs, " << t.route_tables.size()
              << " route tables\n";
    for (const auto& r : spec.routes) {
      const auto& nh = spec.next_hops[r.next_hop];
      std::cout << "  " << format_cidr(r.prefix) << " -> " << dataplane::next_hop_type_name(nh.type);
      if (nh.type != dataplane::NextHopType::kNone && nh.type != dataplane::NextHopType::kLocal)
        std::cout << " (port " << dataplane::port_name(nh.port) << ")";
      std::cout << "\n";
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string cmd = argv[1];
  std::vector<std::string> rest(argv + 2, argv + argc);
  try {
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (cmd == "version" || cmd == "--version") {
      std::cout << "asenetctl " << ASENET_VERSION << "\n";
      return 0;
    }
    if (cmd == "replay") return cmd_replay(rest);
    if (cmd == "validate") return cmd_validate(rest);
  } catch (const std::exception& e) {
    std::cerr << "asenetctl " << cmd << ": " << e.what() << "\n";
    return 1;
  }
  std::cerr << "asenetctl: unknown command '" << cmd << "'\n\n" << kUsage;
  return 2;
}

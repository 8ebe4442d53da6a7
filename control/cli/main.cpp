// asenetctl: the control process and CLI (contract section 3).
#include <boost/program_options.hpp>

#include <algorithm>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include <rte_acl.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <regex>

#include "control/model/azure_nsg.hpp"
#include "control/offline/bench.hpp"
#include "control/offline/classbench.hpp"
#include <nlohmann/json.hpp>

#include "control/compiler/compile.hpp"
#include "protocol/control_socket.hpp"
#include "protocol/names.hpp"
#include "control/reference/doctor.hpp"
#include "control/offline/graph.hpp"
#include "protocol/wire.hpp"
#include "control/reference/verify.hpp"
#include "dataplane/ports/ports.hpp"
#include "protocol/json.hpp"
#include "control/offline/replay.hpp"
#include "control/model/topology.hpp"

namespace po = boost::program_options;
using namespace asenet;
using namespace asenet::control;

namespace {

constexpr const char* kUsage = R"(usage: asenetctl COMMAND [options]

Emulates the network of Azure App Service Environments on a DPDK data plane.

commands:
  replay     run the real data plane over pcap files (contract section 3)
  verify     IP flow verify: which NSG rule allows or denies a flow (offline)
  next-hop   Network Watcher's next hop: the route from a source to a destination
  effective-routes  a subnet's effective routes (Active / Invalid), as Azure shows them
  doctor     would each ASE stay healthy? (management, dependencies, subnet)
  bench      pipeline rates: established flows and new flows per second
  validate   load and validate a topology; print what it compiles to
  classify   classify a ClassBench trace with the NSG engine's rte_acl path
  graph      draw a topology (Graphviz DOT or SVG)
  push       compile a topology, print what it changes, make it the next generation
  stats      the live data plane's counters (--json, --format prometheus)
  trace      the next N packets the live data plane handles, as trace.jsonl lines
  health     mark an ASE instance up or down in the live data plane
  version    print the version

Run `asenetctl COMMAND --help` for the options of a command.
Exit codes: 0 success, 1 runtime failure, 2 bad input (message names file:line:col).
)";

/// Loads a topology for a command; prints warnings. nullopt (message printed) on bad input.
std::optional<Topology> load_or_report(const std::string& path) {
  try {
    Topology t = load_topology(path);
    for (const auto& w : t.warnings) std::cerr << "warning: " << w << "\n";
    return t;
  } catch (const TopologyError& e) {
    std::cerr << e.what() << "\n";
    return std::nullopt;
  }
}

int bad_usage(const std::string& cmd, const std::string& msg) {
  std::cerr << "asenetctl " << cmd << ": " << msg << "\n(try `asenetctl " << cmd << " --help`)\n";
  return 2;
}

/// Parses a command's options. Returns an exit code when the command should
/// stop here (--help printed: 0; bad options: 2), nullopt to go on.
std::optional<int> parse_options(const po::options_description& d, const std::vector<std::string>& args,
                                  const std::string& cmd) {
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(d).run(), vm);
    if (vm.count("help")) {
      std::cout << d << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    return bad_usage(cmd, e.what());
  }
  return std::nullopt;
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
  std::vector<std::string> ins, applies;
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
      ("apply", po::value(&applies), "SECONDS=TOPOLOGY: at SECONDS after the first packet, that topology becomes "
                                     "the next generation, as a push would (repeatable, times ascending)")
      ("eal-args", po::value(&eal), "extra EAL arguments, space separated");
  if (auto rc = parse_options(d, args, "replay")) return *rc;
  for (const auto& a : applies) {
    const auto eq = a.find('=');
    double secs = -1;
    try {
      size_t used = 0;
      if (eq != std::string::npos) secs = std::stod(a.substr(0, eq), &used);
      if (used != eq) secs = -1;
    } catch (const std::exception&) {
      secs = -1;
    }
    if (eq == std::string::npos || secs < 0 || eq + 1 == a.size())
      return bad_usage("replay", "--apply '" + a + "' must be SECONDS=TOPOLOGY (seconds >= 0)");
    opt.applies.push_back({secs, a.substr(eq + 1)});
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

bool parse_endpoint(const std::string& s, uint32_t& ip, uint16_t& port) {
  const auto colon = s.find(':');
  auto a = parse_ipv4(s.substr(0, colon));
  if (!a) return false;
  ip = *a;
  port = 0;
  if (colon == std::string::npos) return true;
  const std::string p = s.substr(colon + 1);
  if (p == "*") return true;
  try {
    size_t used = 0;
    const unsigned long v = std::stoul(p, &used);
    if (used != p.size() || v > 65535) return false;
    port = static_cast<uint16_t>(v);
  } catch (const std::exception&) {
    return false;
  }
  return true;
}

int cmd_verify(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl verify --topology T --direction Inbound|Outbound --protocol TCP|UDP|ICMP
                        --local IP:PORT --remote IP:PORT [--json]
       asenetctl verify --nsg-json FILE --vnet-prefix CIDR [--vnet-prefix ...] (same flow options)

Network Watcher's IP flow verify, offline. --local is the VM or ASE instance
side (an address in a subnet of the topology), --remote the far side. Walks every
NSG on the path in Azure's order (inbound: subnet then NIC; outbound: NIC then
subnet; a deny ends it) and names the rule that decided. With --nsg-json, one
exported NSG (`az network nsg show -o json` or an ARM resource) is evaluated
alone; --vnet-prefix gives the VirtualNetwork tag's addresses. ICMP ignores ports.

options)");
  std::string topo_path, nsg_json, direction, protocol, local, remote;
  std::vector<std::string> vnet_prefixes;
  bool json = false;
  d.add_options()("help,h", "show this help")
      ("topology", po::value(&topo_path), "topology file")
      ("nsg-json", po::value(&nsg_json), "evaluate this exported NSG alone")
      ("vnet-prefix", po::value(&vnet_prefixes), "with --nsg-json: the VNet's address space (repeatable)")
      ("direction", po::value(&direction)->required(), "Inbound or Outbound (as seen from --local)")
      ("protocol", po::value(&protocol)->required(), "TCP, UDP or ICMP")
      ("local", po::value(&local)->required(), "IP:PORT of the VM / instance")
      ("remote", po::value(&remote)->required(), "IP:PORT of the other side")
      ("json", po::bool_switch(&json), "print one JSON document");
  if (auto rc = parse_options(d, args, "verify")) return *rc;
  if (topo_path.empty() == nsg_json.empty()) return bad_usage("verify", "give --topology or --nsg-json (one of them)");
  VerifyQuery q;
  std::string dl = direction;
  std::transform(dl.begin(), dl.end(), dl.begin(), ::tolower);
  if (dl == "inbound") q.direction = dataplane::NsgDirection::kInbound;
  else if (dl == "outbound") q.direction = dataplane::NsgDirection::kOutbound;
  else return bad_usage("verify", "--direction must be Inbound or Outbound");
  std::string pl = protocol;
  std::transform(pl.begin(), pl.end(), pl.begin(), ::tolower);
  if (pl == "tcp") q.proto = 6;
  else if (pl == "udp") q.proto = 17;
  else if (pl == "icmp") q.proto = 1;
  else return bad_usage("verify", "--protocol must be TCP, UDP or ICMP");
  if (!parse_endpoint(local, q.local_ip, q.local_port)) return bad_usage("verify", "--local '" + local + "' is not IP:PORT");
  if (!parse_endpoint(remote, q.remote_ip, q.remote_port))
    return bad_usage("verify", "--remote '" + remote + "' is not IP:PORT");

  VerifyResult result;
  try {
    if (!topo_path.empty()) {
      const Topology t = load_topology(topo_path);
      for (const auto& w : t.warnings) std::cerr << "warning: " << w << "\n";
      const auto spec = compile(t, 1);
      auto r = verify_flow(spec, q);
      if (!r) {
        std::cerr << "asenetctl verify: --local " << format_ipv4(q.local_ip)
                  << " is in no subnet of the topology (IP flow verify needs a VM or instance address)\n";
        return 2;
      }
      result = *r;
    } else {
      if (vnet_prefixes.empty()) return bad_usage("verify", "--nsg-json needs --vnet-prefix (the VirtualNetwork tag)");
      Topology t;
      t.file = nsg_json;
      for (const auto& p : vnet_prefixes) {
        auto c = parse_cidr(p);
        if (!c.cidr) return bad_usage("verify", "--vnet-prefix '" + p + "' is not a CIDR prefix");
        t.address_space.push_back(*c.cidr);
      }
      ImportedNsg imported = load_nsg_json(nsg_json, t);
      Nsg nsg;
      nsg.name = imported.name.empty() ? std::filesystem::path(nsg_json).stem().string() : imported.name;
      nsg.rules = std::move(imported.rules);
      t.nsgs.push_back(std::move(nsg));
      const auto spec = compile(t, 1);
      result = verify_one(spec, 0, q);
    }
  } catch (const TopologyError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  if (json) {
    std::cout << verify_json(result) << "\n";
  } else {
    std::cout << (result.allow ? "Allow" : "Deny");
    if (result.steps.empty()) std::cout << " (no NSG applies)";
    else std::cout << " by " << result.steps.back().nsg << " " << result.steps.back().rule_name;
    std::cout << "\n";
    for (const auto& s : result.steps)
      std::cout << "  " << s.level << " NSG " << s.nsg << ": " << (s.allow ? "Allow" : "Deny") << " (" << s.rule_name
                << ")\n";
  }
  return 0;
}

/// Runs dpdk-test-acl on the same files; fills its figures or returns false.
bool run_dpdk_test_acl(const std::string& rules, const std::string& trace, size_t n, double& mpps, double& cycles) {
  const std::string prefix = "asenet-testacl-" + std::to_string(getpid());
  // About as many lookups as one of our rounds; --tracenum: its default reads 64K headers.
  const size_t iter = std::max<size_t>(1, 15000000 / std::max<size_t>(n, 1));
  const std::string cmd = "dpdk-test-acl -l 0 --no-huge -m 2048 --no-pci --no-telemetry --log-level=error --file-prefix=" +
                          prefix + " -- --rulesf='" + rules + "' --tracef='" + trace + "' --verbose=0 --iter=" +
                          std::to_string(iter) + " --tracenum=" + std::to_string(n) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return false;
  std::string out;
  char buf[4096];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int rc = pclose(p);
  std::error_code ec;
  std::filesystem::remove_all("/var/run/dpdk/" + prefix, ec);
  std::smatch m;
  static const std::regex re(R"(([0-9.]+) cycles/pkt, ([0-9.]+) pkt/sec)");
  if (rc != 0 || !std::regex_search(out, m, re)) return false;
  cycles = std::stod(m[1]);
  mpps = std::stod(m[2]) / 1e6;
  return true;
}

int cmd_classify(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl classify --classbench-rules R --trace T [--bench [--json]]

Loads a ClassBench rule file (line order = priority) into the NSG engine's
rte_acl layout and builder, classifies every trace line and prints the 0-based
index of the first matching rule, one per line (4294967295 when none). --bench
instead prints lookups per second and cycles per lookup, and the same figures
from dpdk-test-acl on the same files (when installed), as a ratio.

options)");
  std::string rules_path, trace_path;
  bool bench = false, json = false;
  d.add_options()("help,h", "show this help")
      ("classbench-rules", po::value(&rules_path)->required(), "ClassBench filter file")
      ("trace", po::value(&trace_path)->required(), "ClassBench trace file")
      ("bench", po::bool_switch(&bench), "measure instead of printing the matches")
      ("json", po::bool_switch(&json), "with --bench: one JSON document");
  if (auto rc = parse_options(d, args, "classify")) return *rc;
  std::vector<dataplane::AclRule> rules;
  std::vector<dataplane::FiveTuple> trace;
  try {
    rules = load_classbench_rules(rules_path);
    trace = load_classbench_trace(trace_path);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  std::string err;
  const std::string prefix = "asenet-classify-" + std::to_string(getpid());
  if (dataplane::eal_init({"asenetctl-classify", "--no-huge", "--no-shconf", "-m", "4096", "--no-pci", "--no-telemetry",
                           "--log-level=error", "-l", "0", "--file-prefix", prefix},
                          err) < 0) {
    std::cerr << "asenetctl classify: " << err << "\n";
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto ctx = dataplane::build_acl(rules, 1, err);
  const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!ctx) {
    std::cerr << "asenetctl classify: " << err << "\n";
    return 1;
  }
  std::vector<dataplane::AclKey> keys(trace.size());
  std::vector<const uint8_t*> ptrs(trace.size());
  for (size_t i = 0; i < trace.size(); ++i) {
    dataplane::make_acl_key(keys[i], trace[i], std::array<uint8_t, 4>{});
    ptrs[i] = reinterpret_cast<const uint8_t*>(&keys[i]);
  }
  std::vector<uint32_t> results(trace.size());
  constexpr size_t kStep = 256;  // headers per classify call: dpdk-test-acl's default --tracestep
  auto classify_all = [&] {
    for (size_t i = 0; i < trace.size(); i += kStep)
      rte_acl_classify(ctx.get(), ptrs.data() + i, results.data() + i,
                       static_cast<uint32_t>(std::min(kStep, trace.size() - i)), 1);
  };
  classify_all();
  if (!bench) {
    std::string out;
    out.reserve(trace.size() * 6);
    for (uint32_t r : results) out += std::to_string(r == 0 ? UINT32_MAX : r - 1) + "\n";
    std::cout << out;
  } else {
    // Three rounds of each side, interleaved, best of each: a shared 2-core
    // machine drifts by 10 % between runs, and the best round is the one least
    // disturbed. Each of our rounds repeats the trace for about half a second.
    double mpps = 0, cycles = 0, base_mpps = 0, base_cycles = 0;
    bool have_base = false;
    for (int round = 0; round < 3; ++round) {
      size_t lookups = 0;
      const uint64_t c0 = rte_rdtsc();
      const auto w0 = std::chrono::steady_clock::now();
      double secs = 0;
      while (secs < 0.5) {
        classify_all();
        lookups += trace.size();
        secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
      }
      const double c = static_cast<double>(rte_rdtsc() - c0) / static_cast<double>(lookups);
      const double m = static_cast<double>(lookups) / secs / 1e6;
      if (m > mpps) {
        mpps = m;
        cycles = c;
      }
      double bm = 0, bc = 0;
      if (run_dpdk_test_acl(rules_path, trace_path, trace.size(), bm, bc)) {
        have_base = true;
        if (bm > base_mpps) {
          base_mpps = bm;
          base_cycles = bc;
        }
      }
    }
    if (json) {
      std::cout << "{\"rules\":" << rules.size() << ",\"trace\":" << trace.size() << ",\"build_seconds\":" << build_s
                << ",\"mpps\":" << mpps << ",\"cycles_per_lookup\":" << cycles;
      if (have_base)
        std::cout << ",\"baseline\":{\"dpdk_test_acl_mpps\":" << base_mpps << ",\"cycles_per_lookup\":" << base_cycles
                  << "},\"ratio\":" << mpps / base_mpps;
      std::cout << "}\n";
    } else {
      std::printf("rules %zu, trace %zu headers, rte_acl build %.2f s\n", rules.size(), trace.size(), build_s);
      std::printf("asenet classify : %8.2f Mlookups/s  %8.1f cycles/lookup\n", mpps, cycles);
      if (have_base) {
        std::printf("dpdk-test-acl   : %8.2f Mlookups/s  %8.1f cycles/lookup\n", base_mpps, base_cycles);
        std::printf("ratio           : %8.2f (asenet / dpdk-test-acl)\n", mpps / base_mpps);
      } else {
        std::printf("dpdk-test-acl   : not available (install Debian's dpdk-dev)\n");
      }
    }
  }
  ctx.reset();
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all("/var/run/dpdk/" + prefix, ec);
  return 0;
}

std::string route_table_id(const dataplane::TableSpec& spec, const RouteCandidate& r) {
  return spec.route_origins[r.hop.origin];
}

int cmd_next_hop(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl next-hop --topology T --source IP --destination IP [--json]

Network Watcher's next hop, offline: the route that traffic from --source (a VM
or ASE instance address, which names its subnet and so its route table) to
--destination takes, with its type, next-hop address and route table
("System Route", "Gateway Route" or the route table's name).

options)");
  std::string topo_path, source, destination;
  bool json = false;
  d.add_options()("help,h", "show this help")
      ("topology", po::value(&topo_path)->required(), "topology file")
      ("source", po::value(&source)->required(), "source IP (in a subnet)")
      ("destination", po::value(&destination)->required(), "destination IP")
      ("json", po::bool_switch(&json), "print one JSON document");
  if (auto rc = parse_options(d, args, "next-hop")) return *rc;
  const auto src = parse_ipv4(source), dst = parse_ipv4(destination);
  if (!src) return bad_usage("next-hop", "--source '" + source + "' is not an IPv4 address");
  if (!dst) return bad_usage("next-hop", "--destination '" + destination + "' is not an IPv4 address");
  auto loaded = load_or_report(topo_path);
  if (!loaded) return 2;
  const Topology& t = *loaded;
  const Subnet* subnet = nullptr;
  for (const auto& s : t.subnets)
    if (s.prefix.contains(*src)) subnet = &s;
  if (subnet == nullptr) {
    std::cerr << "asenetctl next-hop: --source " << source << " is in no subnet of the topology\n";
    return 2;
  }
  const auto spec = compile(t, 1);
  const auto routes = route_candidates(t, subnet);
  const RouteCandidate* r = effective_route(routes, *dst);
  if (r == nullptr) {  // cannot happen: 0.0.0.0/0 is always there
    std::cerr << "asenetctl next-hop: no route\n";
    return 1;
  }
  const std::string type(dataplane::next_hop_type_name(r->hop.type));
  const std::string ip = r->hop.type == dataplane::NextHopType::kVirtualAppliance ? format_ipv4(r->hop.ip) : "";
  if (json) {
    std::cout << "{\"nextHopType\":" << json_str(type) << ",\"nextHopIpAddress\":" << json_str(ip)
              << ",\"routeTableId\":" << json_str(route_table_id(spec, *r)) << ",\"addressPrefix\":"
              << json_str(format_cidr(r->prefix)) << ",\"routeName\":" << json_str(r->name) << "}\n";
  } else {
    std::cout << type << (ip.empty() ? "" : " " + ip) << " via " << format_cidr(r->prefix) << " ("
              << route_table_id(spec, *r) << (r->name.empty() ? "" : ", route " + r->name) << ")\n";
  }
  return 0;
}

int cmd_effective_routes(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl effective-routes --topology T --subnet NAME [--json]

Azure's effective routes of a subnet: every system route, gateway (BGP) route
and user route, with its source (Default, VirtualNetworkGateway, User), state
(Active, or Invalid when another route of the same prefix wins or it cannot be
used), prefix, next-hop type and address.

options)");
  std::string topo_path, subnet_name;
  bool json = false;
  d.add_options()("help,h", "show this help")
      ("topology", po::value(&topo_path)->required(), "topology file")
      ("subnet", po::value(&subnet_name)->required(), "subnet name")
      ("json", po::bool_switch(&json), "print one JSON document");
  if (auto rc = parse_options(d, args, "effective-routes")) return *rc;
  auto loaded = load_or_report(topo_path);
  if (!loaded) return 2;
  const Topology& t = *loaded;
  const Subnet* subnet = t.find_subnet(subnet_name);
  if (subnet == nullptr) {
    std::cerr << "asenetctl effective-routes: no subnet '" << subnet_name << "' in " << topo_path << "\n";
    return 2;
  }
  const auto routes = route_candidates(t, subnet);
  if (json) {
    std::cout << "{\"subnet\":" << json_str(subnet->name) << ",\"routeTable\":"
              << (subnet->route_table ? json_str(*subnet->route_table) : std::string("null")) << ",\"routes\":[";
    bool first = true;
    for (const auto& r : routes) {
      if (!r.is_azure_route()) continue;
      std::cout << (first ? "" : ",") << "{\"source\":" << json_str(r.source) << ",\"state\":"
                << (r.active ? "\"Active\"" : "\"Invalid\"") << ",\"addressPrefix\":" << json_str(format_cidr(r.prefix))
                << ",\"nextHopType\":" << json_str(dataplane::next_hop_type_name(r.hop.type)) << ",\"nextHopIpAddress\":"
                << json_str(r.hop.type == dataplane::NextHopType::kVirtualAppliance ? format_ipv4(r.hop.ip) : "")
                << ",\"name\":" << json_str(r.name) << ",\"note\":" << json_str(r.note) << "}";
      first = false;
    }
    std::cout << "]}\n";
  } else {
    std::printf("%-22s %-8s %-18s %-22s %-15s %s\n", "Source", "State", "Address prefix", "Next hop type",
                "Next hop IP", "Route");
    for (const auto& r : routes) {
      if (!r.is_azure_route()) continue;
      std::printf("%-22s %-8s %-18s %-22s %-15s %s%s\n", r.source.c_str(), r.active ? "Active" : "Invalid",
                  format_cidr(r.prefix).c_str(), std::string(dataplane::next_hop_type_name(r.hop.type)).c_str(),
                  r.hop.type == dataplane::NextHopType::kVirtualAppliance ? format_ipv4(r.hop.ip).c_str() : "",
                  r.name.c_str(), r.note.empty() ? "" : (" (" + r.note + ")").c_str());
    }
  }
  return 0;
}

int cmd_bench(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl bench --scenario S [--seconds N] [--workers N] [--json] [options]

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
Prints Mpps, cycles per packet (the packet generator's own cost taken out),
cycles per stage (parse, flow lookup, route, LB, NSG, NAT, install, forward,
emit), new connections per second, the flow table's memory, and the
asenetd / testpmd ratio. On the vdevs, new-flow scenarios replay SYN then RST
per connection, so each lap's SYN opens a new connection. With --workers N > 1
one worker is measured first, then N (the scaling ratio). In-process figures
are the median of --rounds rounds (new flows: each round from an empty table).
Synthetic NSGs:
N-1 denies for unrelated prefixes before the rule that admits the traffic, so
the classifier cannot stop early.

options)");
  BenchOptions opt;
  bool no_stages = false, no_baseline = false, baseline = false;
  d.add_options()("help,h", "show this help")
      ("scenario", po::value(&opt.scenario)->required(), "established, new-flows, nsg-1k, nsg-10k or flows-1m")
      ("seconds", po::value(&opt.seconds)->default_value(2.0), "how long to measure (each part)")
      ("rounds", po::value(&opt.rounds)->default_value(3), "measured rounds, 1-9; the median counts")
      ("workers", po::value(&opt.workers)->default_value(1), "lcores running the pipeline in process")
      ("json", po::bool_switch(&opt.json), "print one JSON document")
      ("flows", po::value(&opt.flows)->default_value(100000), "established: live flows per worker")
      ("nsg-rules", po::value(&opt.nsg_rules)->default_value(1000), "established, new-flows: rules in the NSGs")
      ("no-baseline", po::bool_switch(&no_baseline), "skip asenetd and dpdk-testpmd on the vdevs")
      ("baseline", po::bool_switch(&baseline), "run them (the default; kept for old scripts)")
      ("no-stages", po::bool_switch(&no_stages), "skip the per-stage timing pass")
      ("classbench", po::value(&opt.classbench), "nsg-1k/nsg-10k: the ClassBench directory")
      ("asenetd", po::value(&opt.asenetd), "the asenetd binary for the baseline (default: next to asenetctl)");
  if (auto rc = parse_options(d, args, "bench")) return *rc;
  opt.stages = !no_stages;
  opt.baseline = !no_baseline;
  if (opt.asenetd.empty()) {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    opt.asenetd = (self.parent_path() / "asenetd").string();
  }
  return run_bench(opt);
}

int cmd_doctor(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl doctor --topology T [--json]

Would each ASE stay healthy? A static check of what suspends an ASE, in plain
words with the route or rule responsible:
  - management: TCP 454/455 from the AppServiceManagement addresses must be
    allowed in, and the answers must leave straight to the Internet (a forced
    tunnel makes them asymmetric);
  - dependencies: SQL (1433), Storage (80, 443) from [service_tags] and the
    management/CRL endpoints must be allowed out and leave through the VIP
    (not on-premises, not through an appliance);
  - the ASE subnet must hold nothing else.
Exit 0 when every ASE is healthy, 1 when one is not, 2 on bad input.

options)");
  std::string topo_path;
  bool json = false;
  d.add_options()("help,h", "show this help")
      ("topology", po::value(&topo_path)->required(), "topology file")
      ("json", po::bool_switch(&json), "print one JSON document");
  if (auto rc = parse_options(d, args, "doctor")) return *rc;
  auto loaded = load_or_report(topo_path);
  if (!loaded) return 2;
  const Topology& t = *loaded;
  const auto reports = run_doctor(t);
  bool healthy = true;
  for (const auto& r : reports) healthy = healthy && r.healthy;
  if (json) {
    std::cout << doctor_json(reports) << "\n";
  } else {
    for (const auto& r : reports) {
      std::cout << "ASE " << r.ase << ": " << (r.healthy ? "healthy" : "UNHEALTHY") << "\n";
      for (const auto& f : r.findings)
        if (!f.ok) std::cout << "  problem  " << f.detail << "\n";
      for (const auto& f : r.findings)
        if (f.ok) std::cout << "  ok       " << f.detail << "\n";
    }
    if (reports.empty()) std::cout << "no ASE in " << topo_path << "\n";
  }
  return healthy ? 0 : 1;
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
              << " rules with the defaults), " << t.route_tables.size() << " route tables ("
              << spec.route_sets.size() << " distinct effective route sets)\n";
    std::cout << "  see `asenetctl effective-routes --subnet NAME` for the routes of a subnet\n";
  }
  return 0;
}


int cmd_graph(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl graph --topology T [--format dot|svg] [--out FILE]

Draws the topology: the VNet and its subnets, ASEs with their VIP / ILB and
instances, hosts, NSGs and route tables where they are attached, the gateway
with its BGP prefixes, and the data plane's three ports. DOT is written by
asenet; SVG by Graphviz's `dot` from it.

options)");
  std::string topology, format = "dot", out;
  d.add_options()
      ("help,h", "show this help")
      ("topology", po::value(&topology)->required(), "topology file (TOML, contract section 2)")
      ("format", po::value(&format), "dot (default) or svg")
      ("out", po::value(&out), "write here instead of stdout");
  if (auto rc = parse_options(d, args, "graph")) return *rc;
  if (format != "dot" && format != "svg") return bad_usage("graph", "--format must be dot or svg");
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
  std::vector<std::string> argv_s = {"dot", "-Tsvg", tmpl};
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

// ---------------------------------------------------------------------------
// The live data plane: push, stats, trace, health (contract section 3).

/// How long asenetd may take to answer, per command (--timeout overrides).
constexpr double kPushTimeoutS = 120;   // a 16,000-rule NSG builds in seconds
constexpr double kStatsTimeoutS = 10;
constexpr double kHealthTimeoutS = 30;  // a health change publishes a generation
constexpr double kTraceAckTimeoutS = 10;

ControlClient::Deadline deadline_in(double seconds) {
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

/// Exit code and message for a failed exchange: 1 for anything at run time
/// (asenetd unreachable, busy, permission denied, silent past the timeout),
/// 2 only when asenetd refused the request itself as bad input.
int exchange_failed(const std::string& cmd, const ControlClient& c, const std::string& err, double timeout) {
  if (c.timed_out()) {
    std::cerr << "asenetctl " << cmd << ": " << err << " (" << timeout << " s; see --timeout)\n";
  } else {
    std::cerr << "asenetctl " << cmd << ": " << err << "\n";
  }
  return 1;
}

/// Sends one request and waits for its reply within `timeout` seconds.
/// Returns the exit code when it failed.
std::optional<int> request(const std::string& cmd, const std::string& socket, wire::Type type,
                           const std::string& payload, std::string& reply, double timeout) {
  ControlClient c;
  std::string err;
  wire::Type rt{};
  const auto deadline = deadline_in(timeout);
  if (!c.connect(socket, deadline, err) || !c.send(type, payload, deadline, err) ||
      !c.receive(rt, reply, deadline, err))
    return exchange_failed(cmd, c, err, timeout);
  if (rt == wire::Type::kError) {
    if (c.rejected()) {  // busy or permission denied: the request was never read
      std::cerr << "asenetctl " << cmd << ": " << reply << "\n";
      return 1;
    }
    std::cerr << "asenetctl " << cmd << ": asenetd refused: " << reply << "\n";
    return 2;
  }
  if (rt != wire::Type::kOk) {
    std::cerr << "asenetctl " << cmd << ": unexpected reply type " << static_cast<unsigned>(rt) << " from asenetd\n";
    return 1;
  }
  return std::nullopt;
}

/// asenetd's JSON reply, checked: an object whose `uints` keys are unsigned
/// integers and `numbers` keys are numbers. nullopt (after a message) when it
/// is not: a malformed reply is a runtime failure, never a crash.
std::optional<nlohmann::json> checked_reply(const std::string& cmd, const std::string& reply,
                                            std::initializer_list<const char*> uints,
                                            std::initializer_list<const char*> numbers = {}) {
  nlohmann::json j = nlohmann::json::parse(reply, nullptr, false);
  std::string why;
  if (j.is_discarded() || !j.is_object()) {
    why = "not a JSON object";
  } else {
    for (const char* k : uints)
      if (why.empty() && (!j.contains(k) || !j[k].is_number_unsigned())) why = std::string("'") + k + "' is not a count";
    for (const char* k : numbers)
      if (why.empty() && (!j.contains(k) || !j[k].is_number())) why = std::string("'") + k + "' is not a number";
  }
  if (!why.empty()) {
    std::cerr << "asenetctl " << cmd << ": malformed reply from asenetd: " << why << ": " << quote(reply, 120) << "\n";
    return std::nullopt;
  }
  return j;
}

int cmd_push(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl push --socket PATH --topology T [--dry-run] [--allow-l2-change] [--json]

Compiles the topology here, sends the tables to asenetd and waits until every
worker runs the new generation. A topology that fails validation exits 2 and
sends nothing; a push asenetd cannot build leaves the old generation live.
Established flows survive (Azure: a rule change applies to new connections).

It prints what the new generation changes against the running one, one line
per area (NSGs and rules, attachments, routes, frontends, instances, probes,
L2 mode, timers), like a plan; --dry-run prints that and changes nothing.
Keys that take effect only when asenetd starts ([ports], [emulator]
flow_table_size) must match asenetd's: a push that changes one is refused
(exit 2) naming the key and its running value. A push that turns [l2] ARP
answering on or off is refused unless --allow-l2-change is given (a lab's
hosts lose their neighbours when it goes off).

options)");
  std::string socket, topology;
  bool json = false, dry_run = false, allow_l2 = false;
  double timeout = kPushTimeoutS;
  d.add_options()
      ("help,h", "show this help")
      ("socket", po::value(&socket)->required(), "asenetd's --control-socket")
      ("topology", po::value(&topology)->required(), "topology file (TOML, contract section 2)")
      ("dry-run", po::bool_switch(&dry_run), "print what would change; change nothing")
      ("allow-l2-change", po::bool_switch(&allow_l2), "let the push turn [l2] ARP answering on or off")
      ("json", po::bool_switch(&json), "print the reply as JSON")
      ("timeout", po::value(&timeout)->default_value(kPushTimeoutS), "seconds to wait for asenetd (build and swap)");
  if (auto rc = parse_options(d, args, "push")) return *rc;
  if (timeout <= 0) return bad_usage("push", "--timeout must be above 0");
  const auto topo = load_or_report(topology);
  if (!topo) return 2;
  nlohmann::json ports = nlohmann::json::object();
  if (topo->ports.internet) ports["internet"] = *topo->ports.internet;
  if (topo->ports.vnet) ports["vnet"] = *topo->ports.vnet;
  if (topo->ports.onprem) ports["onprem"] = *topo->ports.onprem;
  const nlohmann::json header = {
      {"start", {{"ports", ports}, {"flow_table_size", topo->emulator.flow_table_size}}},
      {"allow_l2_change", allow_l2},
      {"dry_run", dry_run},
      {"file", topology}};
  const std::string payload = wire::encode_push(header.dump(), compile(*topo, 0));
  std::string reply;
  if (auto rc = request("push", socket, wire::Type::kPushPlan, payload, reply, timeout)) return *rc;
  const auto j = checked_reply("push", reply, {"generation", "previous", "acl_rules"}, {"build_ms", "swap_ms"});
  if (!j) return 1;
  if (json) {
    std::cout << reply << "\n";
    return 0;
  }
  std::vector<std::string> changes;
  if (j->contains("changes") && (*j)["changes"].is_array())
    for (const auto& c : (*j)["changes"])
      if (c.is_string()) changes.push_back(c.get<std::string>());
  const uint64_t previous = (*j)["previous"].get<uint64_t>();
  if (changes.empty()) {
    std::cout << "no changes against generation " << previous << "\n";
  } else {
    std::cout << "changes against generation " << previous << ":\n";
    for (const auto& c : changes) std::cout << "  " << c << "\n";
  }
  if (j->value("dry_run", false)) {
    std::cout << "dry run: nothing changed; generation " << previous << " stays live\n";
    return 0;
  }
  std::cout << "generation " << (*j)["generation"].get<uint64_t>() << " live (was " << previous
            << "): " << (*j)["acl_rules"].get<uint64_t>() << " ACL rules, built in "
            << (*j)["build_ms"].get<double>() << " ms, every worker on it " << (*j)["swap_ms"].get<double>()
            << " ms later\n";
  return 0;
}

int cmd_stats(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl stats --socket PATH [--json | --format json|prometheus|text] [--timeout S]

The live data plane's counters: generation, per port rx/tx/drops, drops by
reason, NSG rule hits (all generations), flows, SNAT ports per instance and
ASE, health, memory. --format prometheus prints the Prometheus text format.

options)");
  std::string socket, format = "text";
  bool json = false;
  double timeout = kStatsTimeoutS;
  d.add_options()
      ("help,h", "show this help")
      ("socket", po::value(&socket)->required(), "asenetd's --control-socket")
      ("json", po::bool_switch(&json), "JSON (same as --format json)")
      ("format", po::value(&format), "text (default), json or prometheus")
      ("timeout", po::value(&timeout)->default_value(kStatsTimeoutS), "seconds to wait for asenetd");
  if (auto rc = parse_options(d, args, "stats")) return *rc;
  if (json) format = "json";
  if (format != "text" && format != "json" && format != "prometheus")
    return bad_usage("stats", "--format must be text, json or prometheus");
  if (timeout <= 0) return bad_usage("stats", "--timeout must be above 0");
  std::string reply;
  if (auto rc = request("stats", socket, wire::Type::kStats, "{\"format\":\"" + format + "\"}", reply, timeout))
    return *rc;
  if (format == "json" && !checked_reply("stats", reply, {"generation"})) return 1;
  std::cout << reply << (format == "json" ? "\n" : "");
  return 0;
}

int cmd_health(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl health --socket PATH --ase NAME --instance IP up|down [--timeout S]

Marks an ASE instance up or down in the live data plane, as the load
balancer's health probe would: a down instance gets no new flows; its
established flows stay (Standard) or, when the whole frontend is down in era
2016 (Basic), end. The setting outlives later pushes until changed again.

options)");
  std::string socket, ase, instance, state;
  bool json = false;
  double timeout = kHealthTimeoutS;
  d.add_options()
      ("help,h", "show this help")
      ("socket", po::value(&socket)->required(), "asenetd's --control-socket")
      ("ase", po::value(&ase)->required(), "the ASE's name")
      ("instance", po::value(&instance)->required(), "the instance's address")
      ("state", po::value(&state)->required(), "up or down (may be given without --state)")
      ("json", po::bool_switch(&json), "print the reply as JSON")
      ("timeout", po::value(&timeout)->default_value(kHealthTimeoutS), "seconds to wait for asenetd");
  po::positional_options_description pos;
  pos.add("state", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(d).positional(pos).run(), vm);
    if (vm.count("help")) {
      std::cout << d << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    return bad_usage("health", e.what());
  }
  if (state != "up" && state != "down") return bad_usage("health", "state must be up or down");
  if (!parse_ipv4(instance)) return bad_usage("health", "--instance " + quote(instance) + " is not an IPv4 address");
  if (timeout <= 0) return bad_usage("health", "--timeout must be above 0");
  const nlohmann::json req = {{"ase", ase}, {"instance", instance}, {"up", state == "up"}};
  std::string reply;
  if (auto rc = request("health", socket, wire::Type::kHealth, req.dump(), reply, timeout)) return *rc;
  const auto j = checked_reply("health", reply, {"generation"});
  if (!j) return 1;
  if (json) std::cout << reply << "\n";
  else std::cout << ase << " " << instance << " " << state << ": generation " << (*j)["generation"].get<uint64_t>()
                 << " live\n";
  return 0;
}

int cmd_trace(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl trace --socket PATH --count N [filters] [--timeout S]

Prints the next N packets the live data plane handles (that match the
filters) as trace.jsonl lines, the same records replay --trace writes, plus
each packet's time, worker and 5-tuple. Costs nothing while no trace runs.
asenetd must accept the trace within 10 s; --timeout bounds the whole trace.

options)");
  std::string socket, port, src, dst, proto;
  uint64_t count = 0;
  int sport = -1, dport = -1;
  double timeout = 0;
  d.add_options()
      ("help,h", "show this help")
      ("socket", po::value(&socket)->required(), "asenetd's --control-socket")
      ("count", po::value(&count)->required(), "how many packets (1-1000000)")
      ("port", po::value(&port), "only packets entering on this side (internet, vnet, onprem)")
      ("src", po::value(&src), "only packets from this address")
      ("dst", po::value(&dst), "only packets to this address")
      ("sport", po::value(&sport), "only this source port")
      ("dport", po::value(&dport), "only this destination port")
      ("proto", po::value(&proto), "only tcp, udp, icmp or a protocol number")
      ("timeout", po::value(&timeout)->default_value(0), "give up after this many seconds (0: wait for N packets)");
  if (auto rc = parse_options(d, args, "trace")) return *rc;
  nlohmann::json req = {{"count", count}};
  if (!port.empty()) req["port"] = port;
  if (!src.empty()) {
    if (!parse_ipv4(src)) return bad_usage("trace", "--src " + quote(src) + " is not an IPv4 address");
    req["src"] = src;
  }
  if (!dst.empty()) {
    if (!parse_ipv4(dst)) return bad_usage("trace", "--dst " + quote(dst) + " is not an IPv4 address");
    req["dst"] = dst;
  }
  if (sport > 65535 || dport > 65535) return bad_usage("trace", "ports are 0-65535");
  if (timeout < 0) return bad_usage("trace", "--timeout must be 0 or above");
  if (sport >= 0) req["sport"] = sport;
  if (dport >= 0) req["dport"] = dport;
  if (!proto.empty()) {
    int p = -1;
    if (proto == "tcp") p = 6;
    else if (proto == "udp") p = 17;
    else if (proto == "icmp") p = 1;
    else if (std::all_of(proto.begin(), proto.end(), ::isdigit) && proto.size() <= 3) p = std::stoi(proto);
    if (p < 0 || p > 255) return bad_usage("trace", "--proto must be tcp, udp, icmp or 0-255");
    req["proto"] = p;
  }
  const auto end = timeout > 0 ? deadline_in(timeout) : ControlClient::Deadline::max();
  const auto ack_by = std::min(end, deadline_in(kTraceAckTimeoutS));
  ControlClient c;
  std::string err;
  if (!c.connect(socket, ack_by, err) || !c.send(wire::Type::kTrace, req.dump(), ack_by, err))
    return exchange_failed("trace", c, err, timeout > 0 ? timeout : kTraceAckTimeoutS);
  bool accepted = false;
  for (;;) {
    wire::Type t{};
    std::string payload;
    const auto by = accepted ? (end == ControlClient::Deadline::max() ? deadline_in(24.0 * 3600) : end) : ack_by;
    if (!c.receive(t, payload, by, err))
      return exchange_failed("trace", c, err, accepted || timeout > 0 ? timeout : kTraceAckTimeoutS);
    if (t == wire::Type::kOk) {
      accepted = true;  // asenetd armed the trace
    } else if (t == wire::Type::kTraceLine) {
      accepted = true;
      std::cout << payload << "\n" << std::flush;
    } else if (t == wire::Type::kTraceEnd) {
      const auto j = checked_reply("trace", payload, {"traced", "lost"});
      if (!j) return 1;
      if ((*j)["lost"].get<uint64_t>() > 0)
        std::cerr << "asenetctl trace: " << (*j)["lost"].get<uint64_t>() << " records lost (the reader fell behind)\n";
      return 0;
    } else if (t == wire::Type::kError) {
      if (c.rejected()) {
        std::cerr << "asenetctl trace: " << payload << "\n";
        return 1;
      }
      std::cerr << "asenetctl trace: asenetd refused: " << payload << "\n";
      return 2;
    }
  }
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
    if (cmd == "verify") return cmd_verify(rest);
    if (cmd == "next-hop") return cmd_next_hop(rest);
    if (cmd == "doctor") return cmd_doctor(rest);
    if (cmd == "bench") return cmd_bench(rest);
    if (cmd == "effective-routes") return cmd_effective_routes(rest);
    if (cmd == "classify") return cmd_classify(rest);
    if (cmd == "push") return cmd_push(rest);
    if (cmd == "graph") return cmd_graph(rest);
    if (cmd == "stats") return cmd_stats(rest);
    if (cmd == "trace") return cmd_trace(rest);
    if (cmd == "health") return cmd_health(rest);
  } catch (const std::exception& e) {
    std::cerr << "asenetctl " << cmd << ": " << e.what() << "\n";
    return 1;
  }
  std::cerr << "asenetctl: unknown command '" << cmd << "'\n\n" << kUsage;
  return 2;
}

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
#include "control/cli/common.hpp"

namespace po = boost::program_options;
using namespace asenet;
using namespace asenet::control;
using namespace asenet::control::cli;

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

int cmd_replay(const std::vector<std::string>& args) {
  po::options_description d(
      R"(usage: asenetctl replay --topology T --in SIDE=FILE.pcap [--in ...] --out-dir DIR [options]

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
  d.add_options()("help,h", "show this help")("topology", po::value(&opt.topology)->required(),
                                              "topology file (TOML, contract section 2)")(
      "in", po::value(&ins)->required(), "SIDE=FILE: a capture entering on side internet, vnet or onprem (repeatable)")(
      "out-dir", po::value(&opt.out_dir)->required(), "directory for the output pcaps, summary.json, trace.jsonl")(
      "workers", po::value(&opt.workers)->default_value(1), "worker lcores (flows are spread by a symmetric hash)")(
      "trace", po::bool_switch(&opt.trace), "also write trace.jsonl: one line per input packet")(
      "report", po::bool_switch(&opt.report), "print one line per packet: what entered and where it went")(
      "json", po::bool_switch(&opt.json), "print summary.json on stdout instead of the text summary")(
      "apply", po::value(&applies),
      "SECONDS=TOPOLOGY: at SECONDS after the first packet, that topology becomes "
      "the next generation, as a push would (repeatable, times ascending)")("eal-args", po::value(&eal),
                                                                            "extra EAL arguments, space separated");
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
  d.add_options()("help,h", "show this help")("topology", po::value(&topo_path), "topology file")(
      "nsg-json", po::value(&nsg_json), "evaluate this exported NSG alone")(
      "vnet-prefix", po::value(&vnet_prefixes), "with --nsg-json: the VNet's address space (repeatable)")(
      "direction", po::value(&direction)->required(), "Inbound or Outbound (as seen from --local)")(
      "protocol", po::value(&protocol)->required(), "TCP, UDP or ICMP")("local", po::value(&local)->required(),
                                                                        "IP:PORT of the VM / instance")(
      "remote", po::value(&remote)->required(), "IP:PORT of the other side")("json", po::bool_switch(&json),
                                                                             "print one JSON document");
  if (auto rc = parse_options(d, args, "verify")) return *rc;
  if (topo_path.empty() == nsg_json.empty()) return bad_usage("verify", "give --topology or --nsg-json (one of them)");
  VerifyQuery q;
  std::string dl = direction;
  std::transform(dl.begin(), dl.end(), dl.begin(), ::tolower);
  if (dl == "inbound")
    q.direction = dataplane::NsgDirection::kInbound;
  else if (dl == "outbound")
    q.direction = dataplane::NsgDirection::kOutbound;
  else
    return bad_usage("verify", "--direction must be Inbound or Outbound");
  std::string pl = protocol;
  std::transform(pl.begin(), pl.end(), pl.begin(), ::tolower);
  if (pl == "tcp")
    q.proto = 6;
  else if (pl == "udp")
    q.proto = 17;
  else if (pl == "icmp")
    q.proto = 1;
  else
    return bad_usage("verify", "--protocol must be TCP, UDP or ICMP");
  if (!parse_endpoint(local, q.local_ip, q.local_port))
    return bad_usage("verify", "--local '" + local + "' is not IP:PORT");
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
    if (result.steps.empty())
      std::cout << " (no NSG applies)";
    else
      std::cout << " by " << result.steps.back().nsg << " " << result.steps.back().rule_name;
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
  const std::string cmd =
      "dpdk-test-acl -l 0 --no-huge -m 2048 --no-pci --no-telemetry --log-level=error --file-prefix=" + prefix +
      " -- --rulesf='" + rules + "' --tracef='" + trace + "' --verbose=0 --iter=" + std::to_string(iter) +
      " --tracenum=" + std::to_string(n) + " 2>&1";
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
  d.add_options()("help,h", "show this help")("classbench-rules", po::value(&rules_path)->required(),
                                              "ClassBench filter file")("trace", po::value(&trace_path)->required(),
                                                                        "ClassBench trace file")(
      "bench", po::bool_switch(&bench), "measure instead of printing the matches")("json", po::bool_switch(&json),
                                                                                   "with --bench: one JSON document");
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
  d.add_options()("help,h", "show this help")("topology", po::value(&topo_path)->required(), "topology file")(
      "source", po::value(&source)->required(), "source IP (in a subnet)")(
      "destination", po::value(&destination)->required(), "destination IP")("json", po::bool_switch(&json),
                                                                            "print one JSON document");
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
              << ",\"routeTableId\":" << json_str(route_table_id(spec, *r))
              << ",\"addressPrefix\":" << json_str(format_cidr(r->prefix)) << ",\"routeName\":" << json_str(r->name)
              << "}\n";
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
  d.add_options()("help,h", "show this help")("topology", po::value(&topo_path)->required(), "topology file")(
      "subnet", po::value(&subnet_name)->required(), "subnet name")("json", po::bool_switch(&json),
                                                                    "print one JSON document");
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
    std::cout << "{\"subnet\":" << json_str(subnet->name)
              << ",\"routeTable\":" << (subnet->route_table ? json_str(*subnet->route_table) : std::string("null"))
              << ",\"routes\":[";
    bool first = true;
    for (const auto& r : routes) {
      if (!r.is_azure_route()) continue;
      std::cout << (first ? "" : ",") << "{\"source\":" << json_str(r.source)
                << ",\"state\":" << (r.active ? "\"Active\"" : "\"Invalid\"")
                << ",\"addressPrefix\":" << json_str(format_cidr(r.prefix))
                << ",\"nextHopType\":" << json_str(dataplane::next_hop_type_name(r.hop.type))
                << ",\"nextHopIpAddress\":"
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
  d.add_options()("help,h", "show this help")("scenario", po::value(&opt.scenario)->required(),
                                              "established, new-flows, nsg-1k, nsg-10k or flows-1m")(
      "seconds", po::value(&opt.seconds)->default_value(2.0), "how long to measure (each part)")(
      "rounds", po::value(&opt.rounds)->default_value(3), "measured rounds, 1-9; the median counts")(
      "workers", po::value(&opt.workers)->default_value(1), "lcores running the pipeline in process")(
      "json", po::bool_switch(&opt.json), "print one JSON document")(
      "flows", po::value(&opt.flows)->default_value(100000), "established: live flows per worker")(
      "nsg-rules", po::value(&opt.nsg_rules)->default_value(1000), "established, new-flows: rules in the NSGs")(
      "no-baseline", po::bool_switch(&no_baseline), "skip asenetd and dpdk-testpmd on the vdevs")(
      "baseline", po::bool_switch(&baseline), "run them (the default; kept for old scripts)")(
      "no-stages", po::bool_switch(&no_stages), "skip the per-stage timing pass")(
      "classbench", po::value(&opt.classbench), "nsg-1k/nsg-10k: the ClassBench directory")(
      "asenetd", po::value(&opt.asenetd), "the asenetd binary for the baseline (default: next to asenetctl)");
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
  d.add_options()("help,h", "show this help")("topology", po::value(&topo_path)->required(), "topology file")(
      "json", po::bool_switch(&json), "print one JSON document");
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
  po::options_description d(R"(usage: asenetctl graph --topology T [--format dot|svg] [--out FILE]

Draws the topology: the VNet and its subnets, ASEs with their VIP / ILB and
instances, hosts, NSGs and route tables where they are attached, the gateway
with its BGP prefixes, and the data plane's three ports. DOT is written by
asenet; SVG by Graphviz's `dot` from it.

options)");
  std::string topology, format = "dot", out;
  d.add_options()("help,h", "show this help")("topology", po::value(&topology)->required(),
                                              "topology file (TOML, contract section 2)")(
      "format", po::value(&format), "dot (default) or svg")("out", po::value(&out), "write here instead of stdout");
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

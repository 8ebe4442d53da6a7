// asenetctl's offline answers to the questions Azure's own tools answer:
// verify (Network Watcher's IP flow verify), next-hop, effective-routes, and
// doctor (would each ASE stay healthy?).
#include <algorithm>
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "control/cli/common.hpp"
#include "control/compiler/compile.hpp"
#include "control/model/azure_nsg.hpp"
#include "control/reference/doctor.hpp"
#include "control/reference/verify.hpp"
#include "protocol/json.hpp"

namespace po = boost::program_options;

namespace asenet::control::cli {

namespace {

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

std::string route_table_id(const dataplane::TableSpec& spec, const RouteCandidate& r) {
  return spec.route_origins[r.hop.origin];
}

/// The flow asked about. An exit code (2, printed) when an option is wrong.
std::optional<int> parse_verify_query(std::string direction, std::string protocol, const std::string& local,
                                      const std::string& remote, VerifyQuery& q) {
  std::transform(direction.begin(), direction.end(), direction.begin(), ::tolower);
  if (direction == "inbound")
    q.direction = dataplane::NsgDirection::kInbound;
  else if (direction == "outbound")
    q.direction = dataplane::NsgDirection::kOutbound;
  else
    return bad_usage("verify", "--direction must be Inbound or Outbound");
  std::transform(protocol.begin(), protocol.end(), protocol.begin(), ::tolower);
  if (protocol == "tcp")
    q.proto = 6;
  else if (protocol == "udp")
    q.proto = 17;
  else if (protocol == "icmp")
    q.proto = 1;
  else
    return bad_usage("verify", "--protocol must be TCP, UDP or ICMP");
  // TCP and UDP flows have ports: a missing one is a question not asked, not
  // a verdict for port 0 (ICMP has none; IP:* asks for any port, as az does).
  if (q.proto != 1) {
    for (const auto& [opt, text] : {std::pair<const char*, const std::string&>{"--local", local}, {"--remote", remote}})
      if (text.find(':') == std::string::npos)
        return bad_usage("verify", std::string(opt) + " '" + text + "' has no port: " + (q.proto == 6 ? "TCP" : "UDP") +
                                       " needs IP:PORT (or IP:* for any port)");
  }
  if (!parse_endpoint(local, q.local_ip, q.local_port))
    return bad_usage("verify", "--local '" + local + "' is not IP:PORT");
  if (!parse_endpoint(remote, q.remote_ip, q.remote_port))
    return bad_usage("verify", "--remote '" + remote + "' is not IP:PORT");
  return std::nullopt;
}

/// Every NSG on the flow's path in a topology, or one of its NSGs alone
/// (`only`, as `nsg analyze` findings name it). Throws TopologyError.
std::optional<int> verify_topology(const std::string& path, const std::string& only, const VerifyQuery& q,
                                   VerifyResult& result) {
  const Topology t = load_topology(path);
  for (const auto& w : t.warnings) std::cerr << "warning: " << w << "\n";
  const auto spec = compile(t, 1);
  if (!only.empty()) {
    for (uint32_t i = 0; i < spec.nsgs.size(); ++i)
      if (spec.nsgs[i].name == only) {
        result = verify_one(spec, i, q);
        return std::nullopt;
      }
    return bad_usage("verify", "--nsg '" + only + "': the topology has no NSG of that name");
  }
  auto r = verify_flow(spec, q);
  if (!r) {
    std::cerr << "asenetctl verify: --local " << format_ipv4(q.local_ip)
              << " is in no subnet of the topology (IP flow verify needs a VM or instance address)\n";
    return 2;
  }
  result = *r;
  return std::nullopt;
}

/// One exported NSG alone, the VirtualNetwork tag given by --vnet-prefix.
/// Throws TopologyError.
std::optional<int> verify_nsg_json(const std::string& path, const std::vector<std::string>& vnet_prefixes,
                                   const VerifyQuery& q, VerifyResult& result) {
  if (vnet_prefixes.empty()) return bad_usage("verify", "--nsg-json needs --vnet-prefix (the VirtualNetwork tag)");
  Topology t;
  t.file = path;
  for (const auto& p : vnet_prefixes) {
    auto c = parse_cidr(p);
    if (!c.cidr) return bad_usage("verify", "--vnet-prefix '" + p + "' is not a CIDR prefix");
    t.address_space.push_back(*c.cidr);
  }
  ImportedNsg imported = load_nsg_json(path, t);
  Nsg nsg;
  nsg.name = imported.name.empty() ? std::filesystem::path(path).stem().string() : imported.name;
  nsg.rules = std::move(imported.rules);
  t.nsgs.push_back(std::move(nsg));
  const auto spec = compile(t, 1);
  result = verify_one(spec, 0, q);
  return std::nullopt;
}

void print_verify(const VerifyResult& result, bool json) {
  if (json) {
    std::cout << verify_json(result) << "\n";
    return;
  }
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

}  // namespace

int cmd_verify(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl verify --topology T --direction Inbound|Outbound --protocol TCP|UDP|ICMP
                        --local IP:PORT --remote IP:PORT [--json]
       asenetctl verify --topology T --nsg NAME (same flow options)
       asenetctl verify --nsg-json FILE --vnet-prefix CIDR [--vnet-prefix ...] (same flow options)

Network Watcher's IP flow verify, offline. --local is the VM or ASE instance
side (an address in a subnet of the topology), --remote the far side. Walks every
NSG on the path in Azure's order (inbound: subnet then NIC; outbound: NIC then
subnet; a deny ends it) and names the rule that decided. With --nsg, one NSG
of the topology is evaluated alone, wherever it is attached (as `nsg analyze`
findings are checked). With --nsg-json, one
exported NSG (`az network nsg show -o json` or an ARM resource) is evaluated
alone; --vnet-prefix gives the VirtualNetwork tag's addresses. TCP and UDP need
both ports (IP:* asks for any port; an address alone is an error); ICMP
ignores ports.

options)");
  std::string topo_path, only_nsg, nsg_json, direction, protocol, local, remote;
  std::vector<std::string> vnet_prefixes;
  bool json = false;
  d.add_options()("help,h", "show this help")("topology", po::value(&topo_path), "topology file")(
      "nsg", po::value(&only_nsg), "with --topology: evaluate this NSG alone")("nsg-json", po::value(&nsg_json),
                                                                               "evaluate this exported NSG alone")(
      "vnet-prefix", po::value(&vnet_prefixes), "with --nsg-json: the VNet's address space (repeatable)")(
      "direction", po::value(&direction)->required(), "Inbound or Outbound (as seen from --local)")(
      "protocol", po::value(&protocol)->required(), "TCP, UDP or ICMP")("local", po::value(&local)->required(),
                                                                        "IP:PORT of the VM / instance")(
      "remote", po::value(&remote)->required(), "IP:PORT of the other side")("json", po::bool_switch(&json),
                                                                             "print one JSON document");
  if (auto rc = parse_options(d, args, "verify")) return *rc;
  if (topo_path.empty() == nsg_json.empty()) return bad_usage("verify", "give --topology or --nsg-json (one of them)");
  if (!only_nsg.empty() && topo_path.empty()) return bad_usage("verify", "--nsg needs --topology");
  VerifyQuery q;
  if (auto rc = parse_verify_query(direction, protocol, local, remote, q)) return *rc;
  VerifyResult result;
  try {
    const auto rc = topo_path.empty() ? verify_nsg_json(nsg_json, vnet_prefixes, q, result)
                                      : verify_topology(topo_path, only_nsg, q, result);
    if (rc) return *rc;
  } catch (const TopologyError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  print_verify(result, json);
  return 0;
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

}  // namespace asenet::control::cli

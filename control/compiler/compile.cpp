#include "control/compiler/compile.hpp"
#include "dataplane/core/time.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "control/compiler/maglev.hpp"

namespace asenet::control {

using dataplane::NextHop;
using dataplane::NextHopType;
using dataplane::Port;

namespace {

// Origin rank for equal prefixes (azure-semantics 8.3): user > BGP > system.
// Fabric-owned /32s cannot collide with user space (validated), rank them top.
enum Rank : int { kSystem = kRankSystem, kBgp = kRankBgp, kUser = kRankUser, kFabric = kRankFabric };

constexpr uint32_t kAzurePlatformIp = 0xa83f8110;  // 168.63.129.16

using Interval = std::pair<uint64_t, uint64_t>;  // inclusive

std::vector<Interval> merged(const std::vector<Cidr>& in) {
  std::vector<Interval> iv;
  for (const auto& c : in) iv.emplace_back(c.addr, c.last());
  std::sort(iv.begin(), iv.end());
  std::vector<Interval> out;
  for (const auto& [lo, hi] : iv) {
    if (!out.empty() && lo <= out.back().second + 1) {
      out.back().second = std::max(out.back().second, hi);
    } else {
      out.emplace_back(lo, hi);
    }
  }
  return out;
}

void range_to_cidrs(uint64_t lo, uint64_t hi, std::vector<Cidr>& out) {
  while (lo <= hi) {
    uint64_t size = lo == 0 ? (uint64_t{1} << 32) : (lo & (~lo + 1));
    while (lo + size - 1 > hi) size >>= 1;
    uint8_t len = 32;
    for (uint64_t s = size; s > 1; s >>= 1) --len;
    out.push_back(Cidr{static_cast<uint32_t>(lo), len});
    lo += size;
  }
}

dataplane::PortSpan span(const PortRange& r) { return dataplane::PortSpan{r.lo, r.hi}; }

uint8_t proto_number(Protocol p) {
  switch (p) {
    case Protocol::kTcp: return 6;
    case Protocol::kUdp: return 17;
    case Protocol::kIcmp: return 1;
    case Protocol::kAny: return dataplane::kProtoAny;
  }
  return dataplane::kProtoAny;
}

/// Expands one side of a rule. Sets `never` when a tag covers no address.
std::vector<Cidr> side(const Topology& topo, const AddressMatch& m, bool& never) {
  if (m.kind == AddressMatch::Kind::kAny) return {};
  if (m.kind == AddressMatch::Kind::kPrefixes) return m.prefixes;
  auto v = expand_service_tag(topo, m.tag);
  if (v.empty()) never = true;
  if (v.size() == 1 && v[0].len == 0) return {};  // the whole space: same as any
  return v;
}

}  // namespace

std::vector<Cidr> normalize_prefixes(const std::vector<Cidr>& in) {
  std::vector<Cidr> out;
  for (const auto& [lo, hi] : merged(in)) range_to_cidrs(lo, hi, out);
  return out;
}

std::vector<Cidr> complement_prefixes(const std::vector<Cidr>& in) {
  std::vector<Cidr> out;
  uint64_t next = 0;
  for (const auto& [lo, hi] : merged(in)) {
    if (lo > next) range_to_cidrs(next, lo - 1, out);
    next = hi + 1;
  }
  if (next <= 0xffffffffull) range_to_cidrs(next, 0xffffffffull, out);
  return out;
}

std::vector<Cidr> expand_service_tag(const Topology& topo, const std::string& tag) {
  if (tag == "AzureLoadBalancer") return {Cidr{kAzurePlatformIp, 32}};
  if (tag == "VirtualNetwork" || tag == "Internet") {
    std::vector<Cidr> vnet = topo.address_space;
    vnet.insert(vnet.end(), topo.gateway_bgp_routes.begin(), topo.gateway_bgp_routes.end());
    for (const auto& rt : topo.route_tables)
      for (const auto& r : rt.routes) vnet.push_back(r.prefix);
    vnet.push_back(Cidr{kAzurePlatformIp, 32});
    return tag == "VirtualNetwork" ? normalize_prefixes(vnet) : complement_prefixes(vnet);
  }
  auto it = topo.service_tags.find(tag);
  return it == topo.service_tags.end() ? std::vector<Cidr>{} : normalize_prefixes(it->second);
}

dataplane::NsgRuleSpec compile_rule(const Topology& topo, const NsgRule& rule, uint32_t nsg_index) {
  dataplane::NsgRuleSpec r;
  r.name = rule.name;
  r.nsg = nsg_index;
  r.direction =
      rule.direction == Direction::kInbound ? dataplane::NsgDirection::kInbound : dataplane::NsgDirection::kOutbound;
  r.priority = rule.priority;
  r.allow = rule.access == Access::kAllow;
  r.is_default = rule.is_default;
  r.proto = proto_number(rule.protocol);
  r.src = side(topo, rule.source, r.never);
  r.dst = side(topo, rule.destination, r.never);
  auto tag_of = [](const AddressMatch& m) {
    if (m.kind != AddressMatch::Kind::kTag) return dataplane::SideTag::kNone;
    if (m.tag == "VirtualNetwork") return dataplane::SideTag::kVirtualNetwork;
    if (m.tag == "Internet") return dataplane::SideTag::kInternet;
    return dataplane::SideTag::kNone;
  };
  r.src_tag = tag_of(rule.source);
  r.dst_tag = tag_of(rule.destination);
  for (const auto& p : rule.source_ports) r.sports.push_back(span(p));
  for (const auto& p : rule.destination_ports) r.dports.push_back(span(p));
  return r;
}

std::vector<dataplane::NsgRuleSpec> default_rules(const Topology& topo, uint32_t nsg_index) {
  auto tag = [](const char* t) {
    AddressMatch m;
    m.kind = AddressMatch::Kind::kTag;
    m.tag = t;
    return m;
  };
  const AddressMatch any{};
  auto rule = [&](const char* name, uint32_t prio, Direction d, Access a, AddressMatch src, AddressMatch dst) {
    NsgRule r;
    r.name = name;
    r.priority = prio;
    r.direction = d;
    r.access = a;
    r.protocol = Protocol::kAny;
    r.source = std::move(src);
    r.destination = std::move(dst);
    r.is_default = true;
    return compile_rule(topo, r, nsg_index);
  };
  return {
      rule("AllowVnetInBound", 65000, Direction::kInbound, Access::kAllow, tag("VirtualNetwork"),
           tag("VirtualNetwork")),
      rule("AllowAzureLoadBalancerInBound", 65001, Direction::kInbound, Access::kAllow, tag("AzureLoadBalancer"), any),
      rule("DenyAllInBound", 65500, Direction::kInbound, Access::kDeny, any, any),
      rule("AllowVnetOutBound", 65000, Direction::kOutbound, Access::kAllow, tag("VirtualNetwork"),
           tag("VirtualNetwork")),
      rule("AllowInternetOutBound", 65001, Direction::kOutbound, Access::kAllow, any, tag("Internet")),
      rule("DenyAllOutBound", 65500, Direction::kOutbound, Access::kDeny, any, any),
  };
}

namespace {

/// A user route's next hop; `valid` false with a `note` when Azure shows it
/// Invalid (no gateway for VirtualNetworkGateway, an appliance outside the
/// VNet: azure-semantics 8.3).
NextHop user_route_hop(const Topology& topo, const Route& r, uint16_t origin, bool& valid, std::string& note) {
  NextHop h{NextHopType::kInternet, Port::kInternet, 0, origin};
  switch (r.next_hop) {
    case NextHopKind::kVnetLocal:
      h.type = NextHopType::kVnetLocal;
      h.port = Port::kVnet;
      break;
    case NextHopKind::kInternet: break;
    case NextHopKind::kVirtualNetworkGateway:
      h.type = NextHopType::kVirtualNetworkGateway;
      h.port = Port::kOnprem;
      if (!topo.has_gateway) {
        valid = false;
        note = "no [gateway] in the topology";
      }
      break;
    case NextHopKind::kVirtualAppliance:
      h.type = NextHopType::kVirtualAppliance;
      h.port = Port::kVnet;
      h.ip = *r.next_hop_ip;
      // A next-hop address that is not directly reachable makes the route invalid (8.3).
      if (!topo.in_vnet(h.ip)) {
        valid = false;
        note = "next hop " + format_ipv4(h.ip) + " is not in the VNet";
      }
      break;
    case NextHopKind::kNone: h.type = NextHopType::kNone; break;
  }
  return h;
}

/// Per prefix, the valid route of the highest origin is active (user > BGP >
/// system on equal prefixes); longest prefix match then chooses among prefixes.
void mark_active(std::vector<RouteCandidate>& out) {
  std::map<std::pair<uint32_t, uint8_t>, size_t> winner;
  for (size_t i = 0; i < out.size(); ++i) {
    if (!out[i].valid) continue;
    const auto key = std::make_pair(out[i].prefix.addr, out[i].prefix.len);
    auto it = winner.find(key);
    if (it == winner.end() || out[i].rank > out[it->second].rank) winner[key] = i;
  }
  for (const auto& [key, i] : winner) out[i].active = true;
}

}  // namespace

std::vector<RouteCandidate> route_candidates(const Topology& topo, const Subnet* subnet) {
  std::vector<RouteCandidate> out;
  auto inside_vnet = [&](const Cidr& c) {
    for (const auto& r : topo.address_space)
      if (r.contains(c)) return true;
    return false;
  };
  auto add = [&](Cidr prefix, NextHop hop, int rank, const char* source, std::string name, bool valid,
                 std::string note = {}) {
    out.push_back(RouteCandidate{prefix, hop, rank, source, std::move(name), valid, false, std::move(note)});
  };
  const NextHop internet{NextHopType::kInternet, Port::kInternet, 0, dataplane::kRouteOriginSystem};
  const NextHop vnet_local{NextHopType::kVnetLocal, Port::kVnet, 0, dataplane::kRouteOriginSystem};
  const NextHop gateway{NextHopType::kVirtualNetworkGateway, Port::kOnprem, 0, dataplane::kRouteOriginGateway};
  const NextHop none{NextHopType::kNone, Port::kInternet, 0, dataplane::kRouteOriginSystem};
  const NextHop local{NextHopType::kLocal, Port::kInternet, 0, dataplane::kRouteOriginSystem};

  for (const auto& r : topo.address_space) add(r, vnet_local, kSystem, "Default", "", true);
  add(Cidr{0, 0}, internet, kSystem, "Default", "", true);
  if (topo.emulator.era == Era::kCurrent) {
    for (const char* p : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"}) {
      const Cidr c = *parse_cidr(p).cidr;
      // Inside or equal to the VNet space, the VNet route wins.
      if (!inside_vnet(c)) add(c, none, kSystem, "Default", "", true);
    }
  }
  const RouteTable* rt =
      subnet != nullptr && subnet->route_table ? topo.find_route_table(*subnet->route_table) : nullptr;
  const bool propagate = rt == nullptr || !rt->disable_bgp_route_propagation;
  for (const auto& b : topo.gateway_bgp_routes) {
    if (!propagate) continue;  // disable_bgp_route_propagation: not in this subnet's routes at all
    // System VNet routes win even against a more specific BGP route (8.3).
    const bool in_vnet = inside_vnet(b);
    add(b, gateway, kBgp, "VirtualNetworkGateway", "", !in_vnet, in_vnet ? "inside the VNet: the VNet route wins" : "");
  }
  if (rt != nullptr) {
    uint16_t origin = 0;
    for (size_t i = 0; i < topo.route_tables.size(); ++i)
      if (&topo.route_tables[i] == rt) origin = static_cast<uint16_t>(dataplane::kRouteOriginGateway + 1 + i);
    for (const auto& r : rt->routes) {
      bool valid = true;
      std::string note;
      const NextHop h = user_route_hop(topo, r, origin, valid, note);
      add(r.prefix, h, kUser, "User", r.name, valid, note);
    }
  }
  for (const auto& a : topo.ases) {
    add(Cidr{a.public_vip, 32}, local, kFabric, "Default", "VIP of " + a.name, true);
    if (a.ilb_address) add(Cidr{*a.ilb_address, 32}, local, kFabric, "Default", "ILB of " + a.name, true);
  }
  mark_active(out);
  return out;
}

uint16_t snat_ports_per_instance(size_t pool) {
  // azure-semantics 7.6 (and S-SNATAPP for ASEs): preallocation by pool size.
  if (pool <= 50) return 1024;
  if (pool <= 100) return 512;
  if (pool <= 200) return 256;
  if (pool <= 400) return 128;
  if (pool <= 800) return 64;
  return 32;
}

void rebuild_maglev(dataplane::AseSpec& s) {
  std::vector<std::string> healthy;
  std::vector<uint16_t> healthy_index;
  for (size_t i = 0; i < s.instances.size(); ++i) {
    if (s.up[i] == 0) continue;
    healthy.push_back(format_ipv4(s.instances[i]));
    healthy_index.push_back(static_cast<uint16_t>(i));
  }
  s.maglev = build_maglev(healthy);
  for (auto& e : s.maglev) e = healthy_index[e];  // table entries name instances
}

dataplane::AseSpec compile_ase(const Ase& a) {
  dataplane::AseSpec s;
  s.name = a.name;
  s.vip = a.public_vip;
  s.ilb = a.ilb_address.value_or(0);
  s.instances = a.instances;
  s.distribution = static_cast<uint8_t>(a.load_distribution);
  s.tcp_reset = a.tcp_reset;
  s.probe_port = a.probe_port;
  s.probe_http = a.probe_http;
  s.probe_path = a.probe_path;
  // Which frontend serves which ports (azure-semantics 1.5, 2): management is
  // always on the VIP; "Web" puts HTTP/HTTPS and remote debugging on the ILB,
  // "Publishing" puts FTP there; what the ILB does not take stays on the VIP.
  const bool web_on_ilb = s.ilb != 0 && (a.ilb_mode == IlbMode::kWeb || a.ilb_mode == IlbMode::kWebPublishing);
  const bool pub_on_ilb = s.ilb != 0 && (a.ilb_mode == IlbMode::kPublishing || a.ilb_mode == IlbMode::kWebPublishing);
  auto put = [](std::vector<dataplane::PortSpan>& v, const std::vector<PortRange>& ports) {
    for (const auto& p : ports) v.push_back({p.lo, p.hi});
  };
  put(s.vip_ports, a.ports.management);
  put(web_on_ilb ? s.ilb_ports : s.vip_ports, a.ports.app);
  put(web_on_ilb ? s.ilb_ports : s.vip_ports, a.ports.remote_debugging);
  put(pub_on_ilb ? s.ilb_ports : s.vip_ports, a.ports.ftp);
  for (size_t i = 0; i < a.instances.size(); ++i) {
    const bool down = std::find(a.down.begin(), a.down.end(), a.instances[i]) != a.down.end();
    s.up.push_back(down ? 0 : 1);
  }
  rebuild_maglev(s);
  // SNAT ports: blocks of 8 from 1024 up, skipping every block that holds a
  // port a VIP rule uses (azure-semantics 7.6: each rule port costs its block).
  std::set<uint32_t> rule_blocks;
  for (const auto& r : s.vip_ports)
    for (uint32_t p = r.lo; p <= r.hi; ++p) rule_blocks.insert(p / 8);
  const uint16_t per = snat_ports_per_instance(a.instances.size());
  uint32_t block = 1024 / 8;
  for (size_t i = 0; i < a.instances.size(); ++i) {
    std::vector<uint16_t> ports;
    while (ports.size() < per && block <= 65535 / 8) {
      if (rule_blocks.count(block) == 0)
        for (uint32_t p = block * 8; p < block * 8 + 8; ++p) ports.push_back(static_cast<uint16_t>(p));
      ++block;
    }
    s.snat_ports.push_back(std::move(ports));
  }
  return s;
}

const RouteCandidate* effective_route(const std::vector<RouteCandidate>& routes, uint32_t dst) {
  const RouteCandidate* best = nullptr;
  for (const auto& r : routes) {
    if (!r.active || !r.is_azure_route() || !r.prefix.contains(dst)) continue;
    if (best == nullptr || r.prefix.len > best->prefix.len) best = &r;
  }
  return best;
}

namespace {

/// The route pass: one FIB per distinct effective route set (set 0 is
/// traffic that does not leave a subnet with a route table, and all traffic
/// entering from outside), next hops deduplicated so that the FIB's 2-byte
/// next-hop field indexes a small array. Returns each subnet's route set.
std::map<std::string, uint16_t> compile_routes(const Topology& topo, dataplane::TableSpec& spec) {
  for (const auto& rt : topo.route_tables) spec.route_origins.push_back(rt.name);
  std::map<std::tuple<int, int, uint32_t, uint16_t>, uint32_t> hop_index;
  auto hop_id = [&](const NextHop& h) {
    const auto hk = std::make_tuple(static_cast<int>(h.type), static_cast<int>(h.port), h.ip, h.origin);
    auto it = hop_index.find(hk);
    if (it != hop_index.end()) return it->second;
    const auto idx = static_cast<uint32_t>(spec.next_hops.size());
    spec.next_hops.push_back(h);
    hop_index[hk] = idx;
    return idx;
  };
  // One FIB per distinct effective route set: set 0 is traffic that does not
  // leave a subnet with a route table (and all traffic entering from outside).
  std::map<std::vector<std::tuple<uint32_t, uint8_t, uint32_t>>, uint16_t> set_index;
  auto add_set = [&](const Subnet* subnet) -> uint16_t {
    std::vector<std::tuple<uint32_t, uint8_t, uint32_t>> key;
    std::vector<dataplane::RouteSpec> routes;
    for (const auto& c : route_candidates(topo, subnet)) {
      if (!c.active) continue;
      const uint32_t h = hop_id(c.hop);
      key.emplace_back(c.prefix.addr, c.prefix.len, h);
      routes.push_back({c.prefix, h});
    }
    auto it = set_index.find(key);
    if (it != set_index.end()) return it->second;
    const auto idx = static_cast<uint16_t>(spec.route_sets.size());
    spec.route_sets.push_back(std::move(routes));
    set_index[key] = idx;
    return idx;
  };
  add_set(nullptr);
  std::map<std::string, uint16_t> subnet_sets;
  for (const auto& s : topo.subnets) subnet_sets[s.name] = add_set(&s);
  return subnet_sets;
}

/// The NSG pass: user rules then the six defaults, each direction by
/// priority. NSGs attached to a subnet or NIC are numbered first: the data
/// path's rte_acl key carries their id in one byte (acl.hpp). Returns each
/// NSG's id (1-based).
std::map<std::string, uint16_t> compile_nsgs(const Topology& topo, dataplane::TableSpec& spec) {
  std::vector<const Nsg*> order;
  auto attached = [&](const Nsg& n) {
    for (const auto& s : topo.subnets)
      if (s.nsg && *s.nsg == n.name) return true;
    for (const auto& h : topo.hosts)
      if (h.nsg && *h.nsg == n.name) return true;
    return false;
  };
  for (const auto& n : topo.nsgs)
    if (attached(n)) order.push_back(&n);
  for (const auto& n : topo.nsgs)
    if (!attached(n)) order.push_back(&n);
  std::map<std::string, uint16_t> nsg_ids;
  for (uint32_t i = 0; i < order.size(); ++i) {
    const Nsg& n = *order[i];
    dataplane::NsgSpec ns;
    ns.name = n.name;
    std::vector<dataplane::NsgRuleSpec> rules;
    for (const auto& r : n.rules) rules.push_back(compile_rule(topo, r, i));
    for (auto& r : default_rules(topo, i)) rules.push_back(std::move(r));
    std::stable_sort(rules.begin(), rules.end(), [](const auto& a, const auto& b) { return a.priority < b.priority; });
    for (auto& r : rules) {
      const auto id = static_cast<uint32_t>(spec.nsg_rules.size());
      (r.direction == dataplane::NsgDirection::kInbound ? ns.inbound : ns.outbound).push_back(id);
      spec.nsg_rules.push_back(std::move(r));
    }
    for (const auto& s : topo.subnets) ns.on_subnet = ns.on_subnet || (s.nsg && *s.nsg == n.name);
    for (const auto& h : topo.hosts) ns.on_nic = ns.on_nic || (h.nsg && *h.nsg == n.name);
    nsg_ids[n.name] = static_cast<uint16_t>(i + 1);
    ns.flow_logs = n.flow_logs;
    spec.nsgs.push_back(std::move(ns));
  }
  return nsg_ids;
}

/// The LB/NAT pass: every ASE's frontends, instances, Maglev table, SNAT
/// ports and probe, with the era's probe defaults (azure-semantics 7.2).
void compile_ases(const Topology& topo, dataplane::TableSpec& spec) {
  spec.basic_lb = topo.emulator.era == Era::k2016;
  for (const auto& a : topo.ases) {
    spec.ases.push_back(compile_ase(a));
    // Probe defaults by era (azure-semantics 7.2): 2016 every 15 s, back up
    // after 2 successes; current every 5 s, back up after 1.
    const bool cur = topo.emulator.era == Era::kCurrent;
    spec.ases.back().probe_interval_ms = 1000u * (a.probe_interval_s != 0 ? a.probe_interval_s : (cur ? 5u : 15u));
    spec.ases.back().probe_down = static_cast<uint8_t>(a.probe_threshold);
    spec.ases.back().probe_up =
        static_cast<uint8_t>(a.probe_up_threshold != 0 ? a.probe_up_threshold : (cur ? 1u : 2u));
    spec.some_frontend_down = spec.some_frontend_down || spec.ases.back().maglev.empty();
  }
}

/// Where things are: subnets (with their NSG and route set), hosts, ASE
/// instances, NICs with NSGs, the VirtualNetwork tag and [l2], sorted for the
/// data path's binary searches.
void compile_addresses(const Topology& topo, dataplane::TableSpec& spec, const std::map<std::string, uint16_t>& nsg_ids,
                       const std::map<std::string, uint16_t>& subnet_sets) {
  spec.virtual_network = expand_service_tag(topo, "VirtualNetwork");
  for (const auto& s : topo.subnets)
    spec.subnets.push_back({s.prefix, s.nsg ? nsg_ids.at(*s.nsg) : uint16_t{0}, s.name, subnet_sets.at(s.name)});
  for (const auto& h : topo.hosts) spec.hosts.push_back(h.ip);
  std::sort(spec.hosts.begin(), spec.hosts.end());
  for (const auto& a : topo.ases)
    for (uint32_t ip : a.instances) spec.ase_instances.push_back(ip);
  std::sort(spec.ase_instances.begin(), spec.ase_instances.end());
  spec.l2.arp = topo.l2.arp;
  spec.l2.next_hop = {topo.l2.internet_next_hop.value_or(0), 0, topo.l2.onprem_next_hop.value_or(0)};
  spec.l2.fabric_ip = {topo.l2.internet_fabric_ip.value_or(0), topo.l2.vnet_fabric_ip.value_or(0),
                       topo.l2.onprem_fabric_ip.value_or(0)};
  spec.l2.neighbor_timeout_ns = uint64_t{topo.l2.neighbor_timeout_s} * dataplane::kNsPerSecond;
  std::sort(spec.subnets.begin(), spec.subnets.end(),
            [](const auto& a, const auto& b) { return a.prefix.addr < b.prefix.addr; });
  for (const auto& h : topo.hosts)
    if (h.nsg) spec.nics.push_back({h.ip, nsg_ids.at(*h.nsg), h.name});
  std::sort(spec.nics.begin(), spec.nics.end(), [](const auto& a, const auto& b) { return a.ip < b.ip; });
}

}  // namespace

dataplane::TableSpec compile(const Topology& topo, uint64_t generation) {
  dataplane::TableSpec spec;
  spec.generation = generation;
  spec.decrement_ttl = topo.emulator.decrement_ttl;
  spec.mtu = static_cast<uint16_t>(topo.emulator.mtu);
  spec.flow_idle_timeout_ns = uint64_t{topo.emulator.flow_idle_timeout_s} * dataplane::kNsPerSecond;
  spec.tcp_fin_timeout_ns = uint64_t{topo.emulator.tcp_fin_timeout_s} * dataplane::kNsPerSecond;
  spec.tcp_rst_timeout_ns = uint64_t{topo.emulator.tcp_rst_timeout_s} * dataplane::kNsPerSecond;
  spec.udp_cone_nat = topo.emulator.era == Era::kCurrent;
  const auto subnet_sets = compile_routes(topo, spec);
  const auto nsg_ids = compile_nsgs(topo, spec);
  compile_addresses(topo, spec, nsg_ids, subnet_sets);
  compile_ases(topo, spec);
  return spec;
}

}  // namespace asenet::control

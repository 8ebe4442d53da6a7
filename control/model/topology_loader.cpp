// The topology loader: contract section 2's TOML into a Topology, section
// by section, each checked as Azure would check it (names, prefixes inside
// the VNet, dedicated ASE subnets, unique priorities, references that exist)
// with every error at the user's file:line:col.
#include <toml++/toml.h>

#include <algorithm>
#include <optional>
#include <set>
#include <string>

#include "control/model/input_file.hpp"
#include "control/model/rule_loader.hpp"
#include "control/model/toml_reader.hpp"
#include "control/model/topology.hpp"

namespace asenet::control {

namespace {

class Loader : RuleLoader {
 public:
  explicit Loader(Topology& topo) : RuleLoader(topo) {}

  void load(const toml::table& root) {
    check_keys(root, "",
               {"emulator", "vnet", "subnets", "ases", "hosts", "nsgs", "route_tables", "gateway", "service_tags",
                "ports", "l2"});
    if (auto* n = root.get("emulator")) load_emulator(table(*n, "emulator"));
    if (auto* n = root.get("l2")) load_l2(table(*n, "l2"));
    const toml::node* vnet = root.get("vnet");
    if (vnet == nullptr) fail(Loc{1, 1}, "vnet", "missing [vnet] table (name and address_space)");
    load_vnet(table(*vnet, "vnet"));
    if (auto* n = root.get("service_tags")) load_service_tags(table(*n, "service_tags"));
    if (auto* n = root.get("gateway")) load_gateway(table(*n, "gateway"));
    if (auto* n = root.get("nsgs")) for_each_table(*n, "nsgs", [&](auto& tb, auto& p) { load_nsg(tb, p); });
    if (auto* n = root.get("route_tables"))
      for_each_table(*n, "route_tables", [&](auto& tb, auto& p) { load_route_table(tb, p); });
    if (auto* n = root.get("subnets")) for_each_table(*n, "subnets", [&](auto& tb, auto& p) { load_subnet(tb, p); });
    if (auto* n = root.get("ases")) for_each_table(*n, "ases", [&](auto& tb, auto& p) { load_ase(tb, p); });
    if (auto* n = root.get("hosts")) for_each_table(*n, "hosts", [&](auto& tb, auto& p) { load_host(tb, p); });
    if (auto* n = root.get("ports")) load_ports(table(*n, "ports"));
    validate_references();
  }

 private:
  // Where each entity was declared, for cross-reference messages.
  std::vector<std::string> subnet_paths_, ase_paths_, host_paths_;

  void load_emulator(const toml::table& tb) {
    check_keys(tb, "emulator",
               {"era", "enforce_limits", "decrement_ttl", "flow_idle_timeout", "tcp_fin_timeout", "tcp_rst_timeout",
                "flow_table_size", "mtu"});
    if (auto* n = tb.get("era")) {
      t_.emulator.era = enum_value<Era>(*n, "emulator.era", {{"2016", Era::k2016}, {"current", Era::kCurrent}});
    }
    if (auto* n = tb.get("enforce_limits")) t_.emulator.enforce_limits = boolean(*n, "emulator.enforce_limits");
    if (auto* n = tb.get("decrement_ttl")) t_.emulator.decrement_ttl = boolean(*n, "emulator.decrement_ttl");
    auto uint_in = [&](const char* key, uint32_t lo, uint32_t hi, uint32_t& out, const char* unit) {
      const toml::node* n = tb.get(key);
      if (n == nullptr) return;
      const std::string p = std::string("emulator.") + key;
      auto* iv = n->as_integer();
      if (iv == nullptr) fail(loc_of(*n), p, std::string("expected an integer, found ") + type_name(*n));
      if (iv->get() < lo || iv->get() > hi)
        fail(loc_of(*n), p,
             std::to_string(iv->get()) + " is outside " + std::to_string(lo) + "-" + std::to_string(hi) + " " + unit);
      out = static_cast<uint32_t>(iv->get());
    };
    // Azure lets the idle timeout go from 4 to 30 minutes (azure-semantics 7.3).
    uint_in("flow_idle_timeout", 240, 1800, t_.emulator.flow_idle_timeout_s, "seconds");
    uint_in("tcp_fin_timeout", 1, 3600, t_.emulator.tcp_fin_timeout_s, "seconds");
    uint_in("tcp_rst_timeout", 1, 3600, t_.emulator.tcp_rst_timeout_s, "seconds");
    uint_in("flow_table_size", 1024, 16777216, t_.emulator.flow_table_size, "flows");
    // 576: the IPv4 minimum every host must accept (RFC 791); 9000: jumbo frames.
    uint_in("mtu", 576, 9000, t_.emulator.mtu, "bytes");
  }

  void load_l2(const toml::table& tb) {
    check_keys(tb, "l2",
               {"arp", "internet_next_hop", "onprem_next_hop", "internet_fabric_ip", "onprem_fabric_ip",
                "vnet_fabric_ip", "neighbor_timeout"});
    if (auto* n = tb.get("arp")) t_.l2.arp = boolean(*n, "l2.arp");
    auto addr = [&](const char* key, std::optional<uint32_t>& out) {
      if (auto* n = tb.get(key)) out = ip(*n, std::string("l2.") + key);
    };
    addr("internet_next_hop", t_.l2.internet_next_hop);
    addr("onprem_next_hop", t_.l2.onprem_next_hop);
    addr("internet_fabric_ip", t_.l2.internet_fabric_ip);
    addr("onprem_fabric_ip", t_.l2.onprem_fabric_ip);
    addr("vnet_fabric_ip", t_.l2.vnet_fabric_ip);
    if (auto* n = tb.get("neighbor_timeout")) {
      auto* iv = n->as_integer();
      if (iv == nullptr)
        fail(loc_of(*n), "l2.neighbor_timeout", std::string("expected an integer, found ") + type_name(*n));
      if (iv->get() < 1 || iv->get() > 86400)
        fail(loc_of(*n), "l2.neighbor_timeout", std::to_string(iv->get()) + " is outside 1-86400 seconds");
      t_.l2.neighbor_timeout_s = static_cast<uint32_t>(iv->get());
    }
  }

  void load_vnet(const toml::table& tb) {
    check_keys(tb, "vnet", {"name", "address_space"});
    t_.vnet_name = name(tb, "vnet", NameKind::kVnet);
    const auto& as = required(tb, "address_space", "vnet");
    t_.address_space = cidr_list(as, "vnet.address_space");
    if (t_.address_space.empty()) fail(loc_of(as), "vnet.address_space", "a VNet needs at least one address range");
    for (size_t i = 0; i < t_.address_space.size(); ++i)
      for (size_t j = 0; j < i; ++j)
        if (t_.address_space[i].overlaps(t_.address_space[j]))
          fail(loc_of(as), "vnet.address_space",
               format_cidr(t_.address_space[i]) + " overlaps " + format_cidr(t_.address_space[j]));
  }

  void load_service_tags(const toml::table& tb) {
    for (auto&& [k, v] : tb) {
      std::string key(k.str());
      if (resolve_tag(Topology{}, key).has_value())
        fail(loc_of(v), "service_tags." + key, quote(key) + " is a built-in tag and cannot be redefined");
      t_.service_tags[key] = cidr_list(v, "service_tags." + key);
    }
  }

  void load_gateway(const toml::table& tb) {
    check_keys(tb, "gateway", {"bgp_routes"});
    t_.has_gateway = true;
    if (auto* n = tb.get("bgp_routes")) t_.gateway_bgp_routes = cidr_list(*n, "gateway.bgp_routes");
  }

  void load_subnet(const toml::table& tb, const std::string& path) {
    check_keys(tb, path, {"name", "prefix", "nsg", "route_table"});
    Subnet s;
    s.name = name(tb, path, NameKind::kSubnet);
    s.loc = loc_of(tb);
    if (t_.find_subnet(s.name) != nullptr)
      fail(loc_of(tb), join(path, "name"), "duplicate subnet name '" + s.name + "'");
    const auto& pn = required(tb, "prefix", path);
    s.prefix = cidr(pn, join(path, "prefix"));
    if (!std::any_of(t_.address_space.begin(), t_.address_space.end(),
                     [&](const Cidr& c) { return c.contains(s.prefix); })) {
      std::string as;
      for (auto& c : t_.address_space) as += (as.empty() ? "" : ", ") + format_cidr(c);
      fail(loc_of(pn), join(path, "prefix"), format_cidr(s.prefix) + " is outside the VNet address space (" + as + ")");
    }
    if (s.prefix.len > 29)
      fail(loc_of(pn), join(path, "prefix"), format_cidr(s.prefix) + " is smaller than Azure's minimum subnet (/29)");
    for (size_t i = 0; i < t_.subnets.size(); ++i) {
      if (t_.subnets[i].prefix.overlaps(s.prefix))
        fail(loc_of(pn), join(path, "prefix"),
             format_cidr(s.prefix) + " overlaps subnet '" + t_.subnets[i].name + "' (" +
                 format_cidr(t_.subnets[i].prefix) + ")");
    }
    if (auto* n = tb.get("nsg")) {
      s.nsg = str(*n, join(path, "nsg"));
      s.nsg_loc = loc_of(*n);
    }
    if (auto* n = tb.get("route_table")) {
      s.route_table = str(*n, join(path, "route_table"));
      s.route_table_loc = loc_of(*n);
    }
    subnet_paths_.push_back(path);
    t_.subnets.push_back(std::move(s));
  }

  void load_ase(const toml::table& tb, const std::string& path) {
    check_keys(tb, path,
               {"name", "subnet", "public_vip", "ilb_address", "ilb_mode", "instances", "down", "tcp_reset",
                "load_distribution", "management", "app", "ftp", "remote_debugging", "probe_port", "probe_protocol",
                "probe_path", "probe_interval", "probe_threshold", "probe_up_threshold"});
    Ase a;
    a.name = name(tb, path, NameKind::kAse);
    a.loc = loc_of(tb);
    for (auto& other : t_.ases)
      if (other.name == a.name) fail(loc_of(tb), join(path, "name"), "duplicate ASE name '" + a.name + "'");
    const Subnet& subnet = ase_subnet(tb, path, a);
    ase_vip(tb, path, a);
    ase_ilb(tb, path, subnet, a);
    ase_instances(tb, path, subnet, a);
    if (auto* n = tb.get("tcp_reset")) {
      a.tcp_reset = boolean(*n, join(path, "tcp_reset"));
      if (a.tcp_reset && t_.emulator.era == Era::k2016)
        fail(loc_of(*n), join(path, "tcp_reset"),
             "TCP reset on idle is a Standard load balancer feature: set [emulator] era = \"current\"");
    }
    ase_probe(tb, path, a);
    if (auto* n = tb.get("load_distribution")) {
      a.load_distribution = enum_value<LoadDistribution>(*n, join(path, "load_distribution"),
                                                         {{"Default", LoadDistribution::kDefault},
                                                          {"SourceIP", LoadDistribution::kSourceIP},
                                                          {"SourceIPProtocol", LoadDistribution::kSourceIPProtocol}});
    }
    if (auto* n = tb.get("management")) a.ports.management = ports(*n, join(path, "management"), false);
    if (auto* n = tb.get("app")) a.ports.app = ports(*n, join(path, "app"), false);
    if (auto* n = tb.get("ftp")) a.ports.ftp = ports(*n, join(path, "ftp"), false);
    if (auto* n = tb.get("remote_debugging"))
      a.ports.remote_debugging = ports(*n, join(path, "remote_debugging"), false);
    ase_paths_.push_back(path);
    t_.ases.push_back(std::move(a));
  }

  /// An ASE's subnet: one that exists and holds no other ASE.
  const Subnet& ase_subnet(const toml::table& tb, const std::string& path, Ase& a) const {
    const auto& sn = required(tb, "subnet", path);
    a.subnet = str(sn, join(path, "subnet"));
    a.subnet_loc = loc_of(sn);
    const Subnet* subnet = t_.find_subnet(a.subnet);
    if (subnet == nullptr)
      fail(loc_of(sn), join(path, "subnet"), "unknown subnet " + quote(a.subnet) + known_subnets());
    for (auto& other : t_.ases)
      if (other.subnet == a.subnet)
        fail(loc_of(sn), join(path, "subnet"),
             "subnet '" + a.subnet + "' already holds ASE '" + other.name + "'; an ASE needs a dedicated subnet");
    return *subnet;
  }

  /// The VIP: a public address, not routed anywhere by the VNet or the
  /// gateway, and no other ASE's.
  void ase_vip(const toml::table& tb, const std::string& path, Ase& a) const {
    const auto& vn = required(tb, "public_vip", path);
    a.public_vip = ip(vn, join(path, "public_vip"));
    if (auto why = public_address_problem(a.public_vip))
      fail(loc_of(vn), join(path, "public_vip"), format_ipv4(a.public_vip) + " " + *why);
    for (const auto& c : t_.gateway_bgp_routes)
      if (c.len > 0 && c.contains(a.public_vip))
        fail(loc_of(vn), join(path, "public_vip"),
             format_ipv4(a.public_vip) + " is inside " + format_cidr(c) +
                 ", which the gateway advertises from on-premises; a VIP is a public address Azure allocates, never "
                 "one of the on-premises networks");
    for (const auto& rt : t_.route_tables)
      for (const auto& r : rt.routes)
        if (r.prefix.len > 0 && r.prefix.contains(a.public_vip))
          fail(loc_of(vn), join(path, "public_vip"),
               format_ipv4(a.public_vip) + " is inside " + format_cidr(r.prefix) + " of route '" + r.name +
                   "' in route table '" + rt.name +
                   "'; a VIP is a public address Azure allocates, not a prefix the VNet routes elsewhere");
    if (t_.in_vnet(a.public_vip))
      fail(loc_of(vn), join(path, "public_vip"),
           format_ipv4(a.public_vip) + " is inside the VNet address space; the VIP is a public address");
    for (auto& other : t_.ases)
      if (other.public_vip == a.public_vip)
        fail(loc_of(vn), join(path, "public_vip"),
             format_ipv4(a.public_vip) + " is already the VIP of ASE '" + other.name + "'");
  }

  void ase_ilb(const toml::table& tb, const std::string& path, const Subnet& subnet, Ase& a) const {
    if (auto* n = tb.get("ilb_address")) {
      a.ilb_address = ip(*n, join(path, "ilb_address"));
      check_usable(subnet, *a.ilb_address, loc_of(*n), join(path, "ilb_address"), "ILB address");
      a.ilb_mode = IlbMode::kWebPublishing;
    }
    if (auto* n = tb.get("ilb_mode")) {
      a.ilb_mode = enum_value<IlbMode>(*n, join(path, "ilb_mode"),
                                       {{"None", IlbMode::kNone},
                                        {"Web", IlbMode::kWeb},
                                        {"Publishing", IlbMode::kPublishing},
                                        {"Web, Publishing", IlbMode::kWebPublishing}});
      if (!a.ilb_address && a.ilb_mode != IlbMode::kNone)
        fail(loc_of(*n), join(path, "ilb_mode"),
             std::string("ilb_mode ") + to_string(a.ilb_mode) +
                 " needs ilb_address (only an ILB ASE has an internal frontend)");
    }
  }

  /// The instances (usable addresses of the subnet, each once, not the ILB)
  /// and those marked down.
  void ase_instances(const toml::table& tb, const std::string& path, const Subnet& subnet, Ase& a) const {
    const auto& in = required(tb, "instances", path);
    auto its = items(in);
    if (its.empty()) fail(loc_of(in), join(path, "instances"), "an ASE needs at least one instance");
    for (size_t i = 0; i < its.size(); ++i) {
      const std::string p = item_path(in, join(path, "instances"), i);
      uint32_t v = ip(*its[i], p);
      check_usable(subnet, v, loc_of(*its[i]), p, "instance");
      if (std::find(a.instances.begin(), a.instances.end(), v) != a.instances.end())
        fail(loc_of(*its[i]), p, format_ipv4(v) + " is listed twice");
      if (a.ilb_address && *a.ilb_address == v) fail(loc_of(*its[i]), p, format_ipv4(v) + " is the ILB address");
      a.instances.push_back(v);
    }
    if (auto* n = tb.get("down")) {
      auto its = items(*n);
      for (size_t i = 0; i < its.size(); ++i) {
        const std::string p = item_path(*n, join(path, "down"), i);
        const uint32_t v = ip(*its[i], p);
        if (std::find(a.instances.begin(), a.instances.end(), v) == a.instances.end())
          fail(loc_of(*its[i]), p, format_ipv4(v) + " is not one of this ASE's instances");
        a.down.push_back(v);
      }
    }
  }

  /// An integer key within lo-hi, if given.
  std::optional<uint32_t> int_in(const toml::table& tb, const std::string& path, const char* key, int64_t lo,
                                 int64_t hi, const char* unit) const {
    const toml::node* n = tb.get(key);
    if (n == nullptr) return std::nullopt;
    auto* iv = n->as_integer();
    if (iv == nullptr) fail(loc_of(*n), join(path, key), std::string("expected an integer, found ") + type_name(*n));
    if (iv->get() < lo || iv->get() > hi)
      fail(loc_of(*n), join(path, key),
           std::to_string(iv->get()) + " is outside " + std::to_string(lo) + "-" + std::to_string(hi) + " " + unit);
    return static_cast<uint32_t>(iv->get());
  }

  /// The health probe (azure-semantics 7.2).
  void ase_probe(const toml::table& tb, const std::string& path, Ase& a) const {
    if (auto v = int_in(tb, path, "probe_port", 1, 65535, "")) a.probe_port = static_cast<uint16_t>(*v);
    if (auto* n = tb.get("probe_protocol")) {
      a.probe_http = enum_value<bool>(*n, join(path, "probe_protocol"), {{"Tcp", false}, {"Http", true}});
      // Azure refuses HTTP probes on these ports (azure-semantics 7.2).
      static const std::set<uint16_t> kNoHttp = {19, 21, 25, 70, 110, 119, 143, 220, 993};
      if (a.probe_http && kNoHttp.count(a.probe_port) != 0)
        fail(loc_of(*n), join(path, "probe_protocol"),
             "Azure does not allow HTTP probes on port " + std::to_string(a.probe_port));
    }
    if (auto* n = tb.get("probe_path")) {
      a.probe_path = str(*n, join(path, "probe_path"));
      if (a.probe_path.empty() || a.probe_path[0] != '/' || a.probe_path.size() > 200 ||
          a.probe_path.find_first_of(" \r\n") != std::string::npos)
        fail(loc_of(*n), join(path, "probe_path"), "a probe path is a relative URL path such as \"/health\"");
    }
    // Azure's minimum interval is 5 s; labs and tests may go down to 1 s.
    if (auto v = int_in(tb, path, "probe_interval", 1, 3600, "seconds")) a.probe_interval_s = *v;
    if (auto v = int_in(tb, path, "probe_threshold", 1, 100, "probes")) a.probe_threshold = *v;
    if (auto v = int_in(tb, path, "probe_up_threshold", 1, 100, "probes")) a.probe_up_threshold = *v;
  }

  void check_usable(const Subnet& s, uint32_t v, Loc l, const std::string& path, const char* what) const {
    if (!s.prefix.contains(v))
      fail(l, path,
           std::string(what) + " " + format_ipv4(v) + " is outside subnet '" + s.name + "' (" + format_cidr(s.prefix) +
               ")");
    const uint32_t off = v - s.prefix.addr;
    if (off <= 3 || v == s.prefix.last())
      fail(l, path,
           std::string(what) + " " + format_ipv4(v) + " is reserved by Azure in " + format_cidr(s.prefix) +
               " (network, gateway .1, DNS .2/.3 and broadcast)");
  }

  std::string known_subnet_prefixes() const {
    std::string out;
    for (auto& s : t_.subnets) out += (out.empty() ? " (subnets: " : ", ") + s.name + " " + format_cidr(s.prefix);
    return out.empty() ? " (no [[subnets]] are defined)" : out + ")";
  }

  /// Why an address cannot be a public VIP, or nullopt.
  static std::optional<std::string> public_address_problem(uint32_t v) {
    auto in = [&](uint32_t net, int len) { return len == 0 || (v >> (32 - len)) == (net >> (32 - len)); };
    if (v == 0xffffffffu) return "is the limited broadcast address (RFC 919); Azure never assigns it as a public IP";
    if (v == 0xa83f8110u)  // 168.63.129.16
      return "is Azure's platform address (DNS, DHCP, health probes: the AzureLoadBalancer tag); it is never a VIP";
    if (in(0x00000000u, 8)) return "is in 0.0.0.0/8 (\"this network\", RFC 1122); it is not a routable address";
    if (in(0x7f000000u, 8)) return "is a loopback address (127.0.0.0/8); a VIP must be reachable from the Internet";
    if (in(0xa9fe0000u, 16)) return "is link-local (169.254.0.0/16); a VIP must be reachable from the Internet";
    if (in(0xe0000000u, 4)) return "is a multicast address (224.0.0.0/4); a VIP is a unicast public address";
    if (in(0xf0000000u, 4)) return "is in the reserved range 240.0.0.0/4 (RFC 1112); Azure never assigns it";
    return std::nullopt;
  }

  std::string known_subnets() const {
    std::string out;
    for (auto& s : t_.subnets) out += (out.empty() ? " (known: " : ", ") + s.name;
    return out.empty() ? " (no [[subnets]] are defined)" : out + ")";
  }

  void load_host(const toml::table& tb, const std::string& path) {
    check_keys(tb, path, {"name", "ip", "nsg"});
    Host h;
    h.name = name(tb, path, NameKind::kHost);
    h.loc = loc_of(tb);
    for (auto& other : t_.hosts)
      if (other.name == h.name) fail(loc_of(tb), join(path, "name"), "duplicate host name '" + h.name + "'");
    const auto& in = required(tb, "ip", path);
    h.ip = ip(in, join(path, "ip"));
    if (!t_.in_vnet(h.ip)) fail(loc_of(in), join(path, "ip"), format_ipv4(h.ip) + " is outside the VNet address space");
    const Subnet* home = nullptr;
    for (const auto& sn : t_.subnets)
      if (sn.prefix.contains(h.ip)) home = &sn;
    if (home == nullptr)
      fail(loc_of(in), join(path, "ip"),
           format_ipv4(h.ip) + " is in no subnet; Azure gives a NIC an address from the subnet it is placed in" +
               known_subnet_prefixes());
    check_usable(*home, h.ip, loc_of(in), join(path, "ip"), "host");
    for (auto& other : t_.hosts)
      if (other.ip == h.ip)
        fail(loc_of(in), join(path, "ip"), format_ipv4(h.ip) + " is already host '" + other.name + "'");
    for (auto& a : t_.ases) {
      if (std::find(a.instances.begin(), a.instances.end(), h.ip) != a.instances.end() ||
          (a.ilb_address && *a.ilb_address == h.ip))
        fail(loc_of(in), join(path, "ip"), format_ipv4(h.ip) + " is already used by ASE '" + a.name + "'");
      const Subnet* s = t_.find_subnet(a.subnet);
      if (s != nullptr && s->prefix.contains(h.ip))
        warn(loc_of(in), join(path, "ip"),
             "host '" + h.name + "' is inside ASE '" + a.name + "' subnet " + format_cidr(s->prefix) +
                 "; Azure allows it but the ASE cannot reach it");
    }
    if (auto* n = tb.get("nsg")) {
      h.nsg = str(*n, join(path, "nsg"));
      h.nsg_loc = loc_of(*n);
    }
    host_paths_.push_back(path);
    t_.hosts.push_back(std::move(h));
  }

  void load_ports(const toml::table& tb) {
    check_keys(tb, "ports", {"internet", "vnet", "onprem"});
    if (auto* n = tb.get("internet")) t_.ports.internet = str(*n, "ports.internet");
    if (auto* n = tb.get("vnet")) t_.ports.vnet = str(*n, "ports.vnet");
    if (auto* n = tb.get("onprem")) t_.ports.onprem = str(*n, "ports.onprem");
  }

  void validate_references() {
    auto known = [](const auto& list) {
      std::string out;
      for (auto& e : list) out += (out.empty() ? " (known: " : ", ") + e.name;
      return out.empty() ? std::string(" (none are defined)") : out + ")";
    };
    for (size_t i = 0; i < t_.subnets.size(); ++i) {
      const Subnet& s = t_.subnets[i];
      if (s.nsg && t_.find_nsg(*s.nsg) == nullptr)
        fail(s.nsg_loc, join(subnet_paths_[i], "nsg"), "unknown NSG " + quote(*s.nsg) + known(t_.nsgs));
      if (s.route_table && t_.find_route_table(*s.route_table) == nullptr)
        fail(s.route_table_loc, join(subnet_paths_[i], "route_table"),
             "unknown route table " + quote(*s.route_table) + known(t_.route_tables));
    }
    for (size_t i = 0; i < t_.hosts.size(); ++i) {
      const Host& h = t_.hosts[i];
      if (h.nsg && t_.find_nsg(*h.nsg) == nullptr)
        fail(h.nsg_loc, join(host_paths_[i], "nsg"), "unknown NSG " + quote(*h.nsg) + known(t_.nsgs));
    }
    // The data path numbers attached NSGs in 7 bits (docs/design/nsg.md).
    std::set<std::string> attached;
    auto attach = [&](const std::string& name, Loc l, const std::string& p) {
      attached.insert(name);
      if (attached.size() > 127)
        fail(l, p, "more than 127 NSGs are attached to subnets and NICs; asenet's classifier supports 127");
    };
    for (size_t i = 0; i < t_.subnets.size(); ++i)
      if (t_.subnets[i].nsg) attach(*t_.subnets[i].nsg, t_.subnets[i].nsg_loc, join(subnet_paths_[i], "nsg"));
    for (size_t i = 0; i < t_.hosts.size(); ++i)
      if (t_.hosts[i].nsg) attach(*t_.hosts[i].nsg, t_.hosts[i].nsg_loc, join(host_paths_[i], "nsg"));
  }
};

/// A JSON document rather than TOML: it opens with an object, or an array of
/// objects (`az ... list`). A TOML file may open with `[table]`, never `{`.
bool looks_like_json(const std::string& text) {
  size_t i = text.find_first_not_of(" \t\r\n");
  if (i == std::string::npos) return false;
  if (text[i] == '{') return true;
  if (text[i] != '[') return false;
  i = text.find_first_not_of(" \t\r\n", i + 1);
  return i != std::string::npos && (text[i] == '{' || text[i] == ']');
}

}  // namespace

Topology load_topology_text(const std::string& text, const std::string& file) {
  Topology topo;
  topo.file = file;
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    if (looks_like_json(text))
      throw TopologyError(file, Loc{1, 1}, "",
                          "this is JSON, not a topology (TOML, contract section 2); an Azure NSG export is used from "
                          "a topology with an NSG's nsg_file = \"FILE\", or alone with `asenetctl verify --nsg-json "
                          "FILE`");
    throw TopologyError(file, Loc{b.line, b.column}, "", "invalid TOML: " + std::string(e.description()));
  }
  Loader(topo).load(root);
  return topo;
}

Topology load_topology(const std::string& path) {
  std::string text, why;
  if (!read_input_file(path, text, why)) throw TopologyError(path, Loc{0, 0}, "", why);
  return load_topology_text(text, path);
}

}  // namespace asenet::control

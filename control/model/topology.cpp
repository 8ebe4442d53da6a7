#include "control/model/topology.hpp"

#include "control/model/azure_nsg.hpp"
#include "control/model/input_file.hpp"
#include "protocol/names.hpp"
#include "control/model/rule_fields.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

namespace asenet::control {

namespace {
/// A message part for one line: control bytes escaped, cut to `max` bytes.
std::string bounded(std::string_view s, size_t max) {
  std::string out;
  for (const char ch : s) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", c);
      out += b;
    } else {
      out += ch;
    }
  }
  return out;
}
}  // namespace

TopologyError::TopologyError(std::string file, Loc loc, std::string path, std::string message)
    : std::runtime_error(
          bounded(file, 4096) +
          (loc.line == 0 ? std::string() : ":" + std::to_string(loc.line) + ":" + std::to_string(loc.col)) + ": " +
          (path.empty() ? "" : bounded(path, 160) + ": ") + bounded(message, 1000)),
      file_(std::move(file)),
      loc_(loc),
      path_(std::move(path)),
      message_(std::move(message)) {}

const Subnet* Topology::find_subnet(const std::string& name) const {
  for (const auto& s : subnets)
    if (s.name == name) return &s;
  return nullptr;
}
const Nsg* Topology::find_nsg(const std::string& name) const {
  for (const auto& n : nsgs)
    if (n.name == name) return &n;
  return nullptr;
}
const RouteTable* Topology::find_route_table(const std::string& name) const {
  for (const auto& r : route_tables)
    if (r.name == name) return &r;
  return nullptr;
}
bool Topology::in_vnet(uint32_t ip) const {
  return std::any_of(address_space.begin(), address_space.end(), [&](const Cidr& c) { return c.contains(ip); });
}

const char* to_string(Direction d) { return d == Direction::kInbound ? "Inbound" : "Outbound"; }
const char* to_string(Access a) { return a == Access::kAllow ? "Allow" : "Deny"; }
const char* to_string(Protocol p) {
  switch (p) {
    case Protocol::kTcp: return "Tcp";
    case Protocol::kUdp: return "Udp";
    case Protocol::kIcmp: return "Icmp";
    case Protocol::kAny: return "Any";
  }
  return "?";
}
const char* to_string(NextHopKind k) {
  switch (k) {
    case NextHopKind::kVnetLocal: return "VnetLocal";
    case NextHopKind::kInternet: return "Internet";
    case NextHopKind::kVirtualAppliance: return "VirtualAppliance";
    case NextHopKind::kVirtualNetworkGateway: return "VirtualNetworkGateway";
    case NextHopKind::kNone: return "None";
  }
  return "?";
}
const char* to_string(IlbMode m) {
  switch (m) {
    case IlbMode::kNone: return "None";
    case IlbMode::kWeb: return "Web";
    case IlbMode::kPublishing: return "Publishing";
    case IlbMode::kWebPublishing: return "Web, Publishing";
  }
  return "?";
}
const char* to_string(LoadDistribution d) {
  switch (d) {
    case LoadDistribution::kDefault: return "Default";
    case LoadDistribution::kSourceIP: return "SourceIP";
    case LoadDistribution::kSourceIPProtocol: return "SourceIPProtocol";
  }
  return "?";
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

Loc loc_of(const toml::node& n) {
  const auto& b = n.source().begin;
  return {b.line, b.column};
}

class Loader {
 public:
  explicit Loader(Topology& topo) : t_(topo) {}

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
  Topology& t_;
  // Where each entity was declared, for cross-reference messages.
  std::vector<std::string> subnet_paths_, ase_paths_, host_paths_;

  [[noreturn]] void fail(Loc l, const std::string& path, const std::string& msg) const {
    throw TopologyError(t_.file, l, path, msg);
  }
  void warn(Loc l, const std::string& path, const std::string& msg) {
    t_.warnings.push_back(t_.file + ":" + std::to_string(l.line) + ":" + std::to_string(l.col) + ": " + path + ": " +
                          msg);
  }
  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

  void check_keys(const toml::table& tb, const std::string& path,
                  std::initializer_list<std::string_view> allowed) const {
    for (auto&& [k, v] : tb) {
      if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      const auto& kb = k.source().begin;
      const Loc at = kb.line != 0 ? Loc{kb.line, kb.column} : loc_of(v);
      fail(at, join(path, k.str()), "unknown key " + quote(k.str()) + " (allowed here: " + list + ")");
    }
  }

  const toml::table& table(const toml::node& n, const std::string& path) const {
    if (auto* tb = n.as_table()) return *tb;
    fail(loc_of(n), path, std::string("expected a table, found ") + type_name(n));
  }

  template <typename F>
  void for_each_table(const toml::node& n, const std::string& path, F&& f) {
    const toml::array* arr = n.as_array();
    if (arr == nullptr)
      fail(loc_of(n), path, std::string("expected an array of tables ([[") + path + "]]), found " + type_name(n));
    for (size_t i = 0; i < arr->size(); ++i) {
      std::string p = path + "[" + std::to_string(i) + "]";
      f(table((*arr)[i], p), p);
    }
  }

  std::string str(const toml::node& n, const std::string& path) const {
    if (auto* s = n.as_string()) return s->get();
    fail(loc_of(n), path, std::string("expected a string, found ") + type_name(n));
  }

  const toml::node& required(const toml::table& tb, std::string_view key, const std::string& path) const {
    if (auto* n = tb.get(key)) return *n;
    fail(loc_of(tb), join(path, key), "missing required key '" + std::string(key) + "'");
  }

  std::string req_str(const toml::table& tb, std::string_view key, const std::string& path) const {
    return str(required(tb, key, path), join(path, key));
  }

  bool boolean(const toml::node& n, const std::string& path) const {
    if (auto* b = n.as_boolean()) return b->get();
    fail(loc_of(n), path, std::string("expected true or false, found ") + type_name(n));
  }

  /// A list of nodes: an array, or a single value standing for a one-element list.
  static std::vector<const toml::node*> items(const toml::node& n) {
    std::vector<const toml::node*> out;
    if (auto* arr = n.as_array()) {
      for (auto& e : *arr) out.push_back(&e);
    } else {
      out.push_back(&n);
    }
    return out;
  }
  static std::string item_path(const toml::node& list, const std::string& path, size_t i) {
    return list.is_array() ? path + "[" + std::to_string(i) + "]" : path;
  }

  std::string name(const toml::table& tb, const std::string& path, NameKind kind) const {
    const auto& n = required(tb, "name", path);
    std::string s = str(n, join(path, "name"));
    if (auto why = azure_name_problem(kind, s)) fail(loc_of(n), join(path, "name"), *why);
    return s;
  }

  uint32_t ip(const toml::node& n, const std::string& path) const {
    std::string s = str(n, path);
    auto v = parse_ipv4(s);
    if (!v) fail(loc_of(n), path, quote(s) + " is not an IPv4 address");
    return *v;
  }

  Cidr cidr(const toml::node& n, const std::string& path) const {
    std::string s = str(n, path);
    return cidr_text(s, loc_of(n), path);
  }
  Cidr cidr_text(const std::string& s, Loc l, const std::string& path) const {
    auto r = parse_cidr(s);
    if (r.host_bits_set) {
      auto len = std::stoi(s.substr(s.find('/') + 1));
      Cidr fixed{r.raw_addr & Cidr{0, static_cast<uint8_t>(len)}.mask(), static_cast<uint8_t>(len)};
      fail(l, path, quote(s) + " has host bits set; Azure expects the network address, e.g. " + format_cidr(fixed));
    }
    if (!r.cidr) fail(l, path, quote(s) + " is not an IPv4 address or CIDR prefix");
    return *r.cidr;
  }

  std::vector<Cidr> cidr_list(const toml::node& n, const std::string& path) const {
    std::vector<Cidr> out;
    auto its = items(n);
    for (size_t i = 0; i < its.size(); ++i) out.push_back(cidr(*its[i], item_path(n, path, i)));
    return out;
  }

  /// The string items of a list node (integers become their decimal text).
  std::vector<std::string> item_texts(const toml::node& n, const std::string& path) const {
    std::vector<std::string> out;
    auto its = items(n);
    for (size_t i = 0; i < its.size(); ++i) {
      if (auto* iv = its[i]->as_integer()) {
        out.push_back(std::to_string(iv->get()));
      } else {
        out.push_back(str(*its[i], item_path(n, path, i)));
      }
    }
    return out;
  }

  /// Ports: 80, "80", "10001-10020", "*", "80,443" (augmented), or lists of those.
  std::vector<PortRange> ports(const toml::node& n, const std::string& path, bool allow_star) const {
    const auto texts = item_texts(n, path);
    try {
      return parse_port_items(texts, allow_star);
    } catch (const FieldError& e) {
      auto its = items(n);
      const toml::node& at = e.item < its.size() ? *its[e.item] : n;
      fail(loc_of(at), texts.size() > 1 || n.is_array() ? item_path(n, path, e.item) : path, e.what());
    }
  }

  AddressMatch address(const toml::node& n, const std::string& path) const {
    const auto texts = item_texts(n, path);
    try {
      AddressMatch m = parse_address_items(
          texts, [&](const std::string& s) { return resolve_tag(t_, s); }, known_tags(t_));
      m.loc = loc_of(n);
      return m;
    } catch (const FieldError& e) {
      auto its = items(n);
      const toml::node& at = e.item < its.size() ? *its[e.item] : n;
      fail(loc_of(at), path, e.what());
    }
  }

  template <typename E>
  E enum_value(const toml::node& n, const std::string& path,
               std::initializer_list<std::pair<std::string_view, E>> values) const {
    std::string s = str(n, path);
    std::string key = lower(trim(s));
    key.erase(std::remove(key.begin(), key.end(), ' '), key.end());
    std::string allowed;
    for (auto& [name, v] : values) {
      std::string cand = lower(name);
      cand.erase(std::remove(cand.begin(), cand.end(), ' '), cand.end());
      if (cand == key) return v;
      if (name != "*") allowed += (allowed.empty() ? "" : " | ") + std::string(name);
    }
    fail(loc_of(n), path, "unknown value " + quote(s) + " (expected " + allowed + ")");
  }

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

  void load_nsg(const toml::table& tb, const std::string& path) {
    check_keys(tb, path, {"name", "rules", "nsg_file", "flow_logs"});
    Nsg nsg;
    nsg.name = name(tb, path, NameKind::kNsg);
    nsg.loc = loc_of(tb);
    if (auto* n = tb.get("flow_logs")) nsg.flow_logs = boolean(*n, join(path, "flow_logs"));
    if (t_.find_nsg(nsg.name) != nullptr) fail(loc_of(tb), join(path, "name"), "duplicate NSG name '" + nsg.name + "'");
    if (auto* n = tb.get("nsg_file")) {
      if (tb.get("rules") != nullptr)
        fail(loc_of(*n), join(path, "nsg_file"), "give either nsg_file or [[nsgs.rules]], not both");
      std::string file = str(*n, join(path, "nsg_file"));
      // Relative to the topology file, like any include.
      if (!file.empty() && file[0] != '/') {
        const auto slash = t_.file.find_last_of('/');
        if (slash != std::string::npos) file = t_.file.substr(0, slash + 1) + file;
      }
      ImportedNsg imported = load_nsg_json(file, t_);
      nsg.rules = std::move(imported.rules);
    }
    std::map<std::pair<Direction, uint32_t>, std::string> seen;
    std::set<std::string> names;
    if (auto* n = tb.get("rules")) {
      for_each_table(*n, join(path, "rules"), [&](const toml::table& rt, const std::string& rp) {
        NsgRule r = load_rule(rt, rp);
        auto key = std::make_pair(r.direction, r.priority);
        if (auto it = seen.find(key); it != seen.end())
          fail(loc_of(required(rt, "priority", rp)), join(rp, "priority"),
               "priority " + std::to_string(r.priority) + " is already used by " + to_string(r.direction) + " rule '" +
                   it->second + "' (priorities are unique per direction)");
        if (!names.insert(r.name).second) fail(loc_of(rt), join(rp, "name"), "duplicate rule name '" + r.name + "'");
        seen[key] = r.name;
        nsg.rules.push_back(std::move(r));
      });
    }
    if (t_.emulator.enforce_limits) {
      const size_t limit = t_.emulator.era == Era::k2016 ? 200 : 1000;
      if (nsg.rules.size() > limit)
        fail(loc_of(tb), join(path, "rules"),
             std::to_string(nsg.rules.size()) + " rules exceed Azure's limit of " + std::to_string(limit) +
                 " per NSG for era " + (t_.emulator.era == Era::k2016 ? "2016" : "current") +
                 " (set [emulator] enforce_limits = false for rule-set benchmarks)");
    }
    t_.nsgs.push_back(std::move(nsg));
  }

  NsgRule load_rule(const toml::table& tb, const std::string& path) {
    check_keys(tb, path,
               {"name", "priority", "direction", "access", "protocol", "description", "source_address_prefixes",
                "source_address_prefix", "source_port_ranges", "source_port_range", "destination_address_prefixes",
                "destination_address_prefix", "destination_port_ranges", "destination_port_range"});
    NsgRule r;
    r.name = name(tb, path, NameKind::kSecurityRule);
    r.loc = loc_of(tb);
    const auto& pn = required(tb, "priority", path);
    auto* pi = pn.as_integer();
    if (pi == nullptr)
      fail(loc_of(pn), join(path, "priority"), std::string("expected an integer, found ") + type_name(pn));
    if (pi->get() < 100 || pi->get() > 4096)
      fail(loc_of(pn), join(path, "priority"), std::to_string(pi->get()) + " is outside 100-4096");
    r.priority = static_cast<uint32_t>(pi->get());
    r.direction = enum_value<Direction>(required(tb, "direction", path), join(path, "direction"),
                                        {{"Inbound", Direction::kInbound}, {"Outbound", Direction::kOutbound}});
    r.access = enum_value<Access>(required(tb, "access", path), join(path, "access"),
                                  {{"Allow", Access::kAllow}, {"Deny", Access::kDeny}});
    r.protocol = enum_value<Protocol>(required(tb, "protocol", path), join(path, "protocol"),
                                      {{"Tcp", Protocol::kTcp},
                                       {"Udp", Protocol::kUdp},
                                       {"Icmp", Protocol::kIcmp},
                                       {"Any", Protocol::kAny},
                                       {"*", Protocol::kAny}});
    // ARM has both the singular and the plural form of each field; take either, not both.
    auto side = [&](std::string_view plural, std::string_view singular) -> const toml::node* {
      const toml::node* a = tb.get(plural);
      const toml::node* b = tb.get(singular);
      if (a != nullptr && b != nullptr)
        fail(loc_of(*b), join(path, singular),
             "give either '" + std::string(plural) + "' or '" + std::string(singular) + "', not both");
      return a != nullptr ? a : b;
    };
    auto addr = [&](std::string_view pl, std::string_view sg) {
      const toml::node* n = side(pl, sg);
      if (n == nullptr) fail(loc_of(tb), join(path, pl), "missing required key '" + std::string(pl) + "'");
      return address(*n, join(path, n == tb.get(pl) ? pl : sg));
    };
    auto prt = [&](std::string_view pl, std::string_view sg) {
      const toml::node* n = side(pl, sg);
      if (n == nullptr) fail(loc_of(tb), join(path, pl), "missing required key '" + std::string(pl) + "'");
      return ports(*n, join(path, n == tb.get(pl) ? pl : sg), true);
    };
    r.source = addr("source_address_prefixes", "source_address_prefix");
    r.source_ports = prt("source_port_ranges", "source_port_range");
    r.destination = addr("destination_address_prefixes", "destination_address_prefix");
    r.destination_ports = prt("destination_port_ranges", "destination_port_range");
    return r;
  }

  void load_route_table(const toml::table& tb, const std::string& path) {
    check_keys(tb, path, {"name", "disable_bgp_route_propagation", "routes"});
    RouteTable rt;
    rt.name = name(tb, path, NameKind::kRouteTable);
    rt.loc = loc_of(tb);
    if (t_.find_route_table(rt.name) != nullptr)
      fail(loc_of(tb), join(path, "name"), "duplicate route table name '" + rt.name + "'");
    if (auto* n = tb.get("disable_bgp_route_propagation"))
      rt.disable_bgp_route_propagation = boolean(*n, join(path, "disable_bgp_route_propagation"));
    std::set<std::string> names;
    std::map<std::pair<uint32_t, uint8_t>, std::string> prefixes;
    if (auto* n = tb.get("routes")) {
      for_each_table(*n, join(path, "routes"), [&](const toml::table& r, const std::string& rp) {
        check_keys(r, rp, {"name", "address_prefix", "next_hop_type", "next_hop_ip_address"});
        Route route;
        route.name = name(r, rp, NameKind::kRoute);
        route.loc = loc_of(r);
        if (!names.insert(route.name).second)
          fail(loc_of(r), join(rp, "name"), "duplicate route name '" + route.name + "'");
        route.prefix = cidr(required(r, "address_prefix", rp), join(rp, "address_prefix"));
        auto key = std::make_pair(route.prefix.addr, route.prefix.len);
        if (auto it = prefixes.find(key); it != prefixes.end())
          fail(loc_of(*r.get("address_prefix")), join(rp, "address_prefix"),
               format_cidr(route.prefix) + " is already routed by '" + it->second + "' in this table");
        prefixes[key] = route.name;
        const auto& nht = required(r, "next_hop_type", rp);
        route.next_hop = enum_value<NextHopKind>(nht, join(rp, "next_hop_type"),
                                                 {{"VnetLocal", NextHopKind::kVnetLocal},
                                                  {"Internet", NextHopKind::kInternet},
                                                  {"VirtualAppliance", NextHopKind::kVirtualAppliance},
                                                  {"VirtualNetworkGateway", NextHopKind::kVirtualNetworkGateway},
                                                  {"None", NextHopKind::kNone}});
        const toml::node* nhip = r.get("next_hop_ip_address");
        if (route.next_hop == NextHopKind::kVirtualAppliance) {
          if (nhip == nullptr)
            fail(loc_of(nht), join(rp, "next_hop_ip_address"),
                 "next_hop_type VirtualAppliance needs next_hop_ip_address (the appliance's private IP)");
          route.next_hop_ip = ip(*nhip, join(rp, "next_hop_ip_address"));
        } else if (nhip != nullptr) {
          fail(loc_of(*nhip), join(rp, "next_hop_ip_address"),
               std::string("next_hop_ip_address is only allowed with next_hop_type VirtualAppliance, not ") +
                   to_string(route.next_hop));
        }
        rt.routes.push_back(std::move(route));
      });
    }
    if (t_.emulator.enforce_limits) {
      const size_t limit = t_.emulator.era == Era::k2016 ? 100 : 400;
      if (rt.routes.size() > limit)
        fail(loc_of(tb), join(path, "routes"),
             std::to_string(rt.routes.size()) + " routes exceed Azure's limit of " + std::to_string(limit) +
                 " per route table for this era");
    }
    t_.route_tables.push_back(std::move(rt));
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
    if (auto* n = tb.get("ilb_address")) {
      a.ilb_address = ip(*n, join(path, "ilb_address"));
      check_usable(*subnet, *a.ilb_address, loc_of(*n), join(path, "ilb_address"), "ILB address");
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
    const auto& in = required(tb, "instances", path);
    auto its = items(in);
    if (its.empty()) fail(loc_of(in), join(path, "instances"), "an ASE needs at least one instance");
    for (size_t i = 0; i < its.size(); ++i) {
      const std::string p = item_path(in, join(path, "instances"), i);
      uint32_t v = ip(*its[i], p);
      check_usable(*subnet, v, loc_of(*its[i]), p, "instance");
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
    if (auto* n = tb.get("tcp_reset")) {
      a.tcp_reset = boolean(*n, join(path, "tcp_reset"));
      if (a.tcp_reset && t_.emulator.era == Era::k2016)
        fail(loc_of(*n), join(path, "tcp_reset"),
             "TCP reset on idle is a Standard load balancer feature: set [emulator] era = \"current\"");
    }
    auto int_in = [&](const char* key, int64_t lo, int64_t hi, const char* unit) -> std::optional<uint32_t> {
      const toml::node* n = tb.get(key);
      if (n == nullptr) return std::nullopt;
      auto* iv = n->as_integer();
      if (iv == nullptr) fail(loc_of(*n), join(path, key), std::string("expected an integer, found ") + type_name(*n));
      if (iv->get() < lo || iv->get() > hi)
        fail(loc_of(*n), join(path, key),
             std::to_string(iv->get()) + " is outside " + std::to_string(lo) + "-" + std::to_string(hi) + " " + unit);
      return static_cast<uint32_t>(iv->get());
    };
    if (auto v = int_in("probe_port", 1, 65535, "")) a.probe_port = static_cast<uint16_t>(*v);
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
    if (auto v = int_in("probe_interval", 1, 3600, "seconds")) a.probe_interval_s = *v;
    if (auto v = int_in("probe_threshold", 1, 100, "probes")) a.probe_threshold = *v;
    if (auto v = int_in("probe_up_threshold", 1, 100, "probes")) a.probe_up_threshold = *v;
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

}  // namespace

Topology load_topology_text(const std::string& text, const std::string& file) {
  Topology topo;
  topo.file = file;
  toml::table root;
  try {
    root = toml::parse(text, file);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
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

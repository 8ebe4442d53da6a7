#include "protocol/wire.hpp"

#include "protocol/names.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <type_traits>

namespace asenet::control::wire {

using namespace asenet::dataplane;

namespace {

void put_le(std::string& out, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

// One field list per type serves both directions: io(Ar&, T&) visits the
// fields in order; Encoder appends them, Decoder fills them with bounds checks.
struct Encoder {
  std::string out;
  static constexpr bool kDecoding = false;
  template <class T>
  void scalar(T& v) {
    if constexpr (std::is_enum_v<T>) {
      put_le(out, static_cast<uint64_t>(static_cast<std::underlying_type_t<T>>(v)), sizeof(T));
    } else if constexpr (std::is_same_v<T, bool>) {
      out.push_back(v ? 1 : 0);
    } else {
      put_le(out, static_cast<uint64_t>(v), sizeof(T));
    }
  }
  bool count(size_t& n, size_t) {
    uint32_t c = static_cast<uint32_t>(n);
    scalar(c);
    return true;
  }
  void bytes(std::string& s) { out.append(s); }
  [[nodiscard]] bool ok() const { return true; }
};

struct Decoder {
  const uint8_t* p;
  size_t left;
  std::string error;
  static constexpr bool kDecoding = true;
  bool fail(const std::string& why) {
    if (error.empty()) error = why;
    left = 0;
    return false;
  }
  template <class T>
  void scalar(T& v) {
    if (!error.empty()) return;
    if (left < sizeof(T)) {
      fail("truncated");
      return;
    }
    uint64_t x = 0;
    for (size_t i = 0; i < sizeof(T); ++i) x |= static_cast<uint64_t>(p[i]) << (8 * i);
    p += sizeof(T);
    left -= sizeof(T);
    if constexpr (std::is_enum_v<T>) {
      v = static_cast<T>(static_cast<std::underlying_type_t<T>>(x));
    } else if constexpr (std::is_same_v<T, bool>) {
      if (x > 1) fail("a boolean is neither 0 nor 1");
      v = x == 1;
    } else {
      v = static_cast<T>(x);
    }
  }
  /// A count of elements at least `min_size` bytes each: never more than the
  /// bytes left can hold, so a hostile count cannot make us allocate.
  bool count(size_t& n, size_t min_size) {
    uint32_t c = 0;
    scalar(c);
    if (!error.empty()) return false;
    if (static_cast<uint64_t>(c) * min_size > left)
      return fail("a count of " + std::to_string(c) + " exceeds the message");
    n = c;
    return true;
  }
  void bytes(std::string& s) {
    if (!error.empty()) return;
    s.assign(reinterpret_cast<const char*>(p), s.size());
    p += s.size();
    left -= s.size();
  }
  [[nodiscard]] bool ok() const { return error.empty(); }
};

template <class Ar, class T>
void io(Ar& ar, T& v) requires(std::is_arithmetic_v<T> || std::is_enum_v<T>) {
  ar.scalar(v);
}

template <class Ar>
void io(Ar& ar, std::string& s) {
  size_t n = s.size();
  if (!ar.count(n, 1)) return;
  if constexpr (Ar::kDecoding) s.resize(n);
  ar.bytes(s);
}

template <class Ar, class T>
void io(Ar& ar, std::vector<T>& v);

template <class Ar, class T, size_t N>
void io(Ar& ar, std::array<T, N>& a) {
  for (auto& x : a) io(ar, x);
}

template <class Ar>
void io(Ar& ar, Cidr& c) {
  io(ar, c.addr);
  io(ar, c.len);
}
template <class Ar>
void io(Ar& ar, PortSpan& s) {
  io(ar, s.lo);
  io(ar, s.hi);
}
template <class Ar>
void io(Ar& ar, MacAddr& m) {
  io(ar, m.bytes);
}
template <class Ar>
void io(Ar& ar, NextHop& h) {
  io(ar, h.type);
  io(ar, h.port);
  io(ar, h.ip);
  io(ar, h.origin);
}
template <class Ar>
void io(Ar& ar, RouteSpec& r) {
  io(ar, r.prefix);
  io(ar, r.next_hop);
}
template <class Ar>
void io(Ar& ar, L2Spec& l) {
  io(ar, l.arp);
  io(ar, l.next_hop);
  io(ar, l.fabric_ip);
  io(ar, l.neighbor_timeout_ns);
}
template <class Ar>
void io(Ar& ar, NsgSpec& n) {
  io(ar, n.name);
  io(ar, n.inbound);
  io(ar, n.outbound);
  io(ar, n.on_subnet);
  io(ar, n.on_nic);
  io(ar, n.flow_logs);
}
template <class Ar>
void io(Ar& ar, NsgRuleSpec& r) {
  io(ar, r.name);
  io(ar, r.nsg);
  io(ar, r.direction);
  io(ar, r.priority);
  io(ar, r.allow);
  io(ar, r.is_default);
  io(ar, r.proto);
  io(ar, r.src);
  io(ar, r.dst);
  io(ar, r.sports);
  io(ar, r.dports);
  io(ar, r.src_tag);
  io(ar, r.dst_tag);
  io(ar, r.never);
}
template <class Ar>
void io(Ar& ar, SubnetSpec& s) {
  io(ar, s.prefix);
  io(ar, s.nsg_id);
  io(ar, s.name);
  io(ar, s.route_set);
}
template <class Ar>
void io(Ar& ar, NicSpec& n) {
  io(ar, n.ip);
  io(ar, n.nsg_id);
  io(ar, n.host);
}
template <class Ar>
void io(Ar& ar, AseSpec& a) {
  io(ar, a.name);
  io(ar, a.vip);
  io(ar, a.ilb);
  io(ar, a.vip_ports);
  io(ar, a.ilb_ports);
  io(ar, a.instances);
  io(ar, a.up);
  io(ar, a.distribution);
  io(ar, a.tcp_reset);
  io(ar, a.probe_port);
  io(ar, a.probe_http);
  io(ar, a.probe_path);
  io(ar, a.probe_interval_ms);
  io(ar, a.probe_down);
  io(ar, a.probe_up);
  io(ar, a.maglev);
  io(ar, a.snat_ports);
}
template <class Ar>
void io(Ar& ar, TableSpec& t) {
  io(ar, t.generation);
  io(ar, t.next_hops);
  io(ar, t.route_sets);
  io(ar, t.route_origins);
  io(ar, t.decrement_ttl);
  io(ar, t.mtu);
  io(ar, t.fabric_mac);
  io(ar, t.peer_macs);
  io(ar, t.l2);
  io(ar, t.nsgs);
  io(ar, t.nsg_rules);
  io(ar, t.subnets);
  io(ar, t.nics);
  io(ar, t.virtual_network);
  io(ar, t.hosts);
  io(ar, t.ase_instances);
  io(ar, t.ases);
  io(ar, t.udp_cone_nat);
  io(ar, t.basic_lb);
  io(ar, t.some_frontend_down);
  io(ar, t.flow_idle_timeout_ns);
  io(ar, t.tcp_fin_timeout_ns);
  io(ar, t.tcp_rst_timeout_ns);
}

template <class Ar, class T>
void io(Ar& ar, std::vector<T>& v) {
  size_t n = v.size();
  if (!ar.count(n, 1)) return;
  if constexpr (Ar::kDecoding) {
    v.clear();
    for (size_t i = 0; i < n && ar.ok(); ++i) io(ar, v.emplace_back());
  } else {
    for (auto& x : v) io(ar, x);
  }
}

constexpr uint32_t kSpecMagic = 0x43455053;  // "SPEC": guards against a payload of another kind

bool well_formed(const Cidr& c) { return c.len <= 32 && (c.addr & ~c.mask()) == 0; }

template <class T, class Less>
bool sorted_strictly(const std::vector<T>& v, Less less) {
  for (size_t i = 1; i < v.size(); ++i)
    if (!less(v[i - 1], v[i])) return false;
  return true;
}

}  // namespace

std::string frame(Type type, std::string_view payload) {
  std::string out;
  out.reserve(kHeaderSize + payload.size());
  put_le(out, kMagic, 4);
  put_le(out, kVersion, 2);
  put_le(out, static_cast<uint16_t>(type), 2);
  put_le(out, payload.size(), 4);
  out.append(payload);
  return out;
}

HeaderCheck parse_header(const uint8_t* b, Header& h) noexcept {
  auto le = [&](size_t off, size_t n) {
    uint32_t v = 0;
    for (size_t i = 0; i < n; ++i) v |= static_cast<uint32_t>(b[off + i]) << (8 * i);
    return v;
  };
  h.version = static_cast<uint16_t>(le(4, 2));
  h.type = static_cast<Type>(le(6, 2));
  h.length = le(8, 4);
  if (le(0, 4) != kMagic) return HeaderCheck::kBadMagic;
  if (h.version != kVersion) return HeaderCheck::kBadVersion;
  if (h.length > kMaxPayload) return HeaderCheck::kTooLarge;
  return HeaderCheck::kOk;
}

std::string header_error(HeaderCheck c, const Header& h) {
  switch (c) {
    case HeaderCheck::kOk: return "";
    case HeaderCheck::kBadMagic: return "not an asenet control message (bad magic)";
    case HeaderCheck::kBadVersion:
      return "protocol version " + std::to_string(h.version) + " is not supported (this side speaks " +
             std::to_string(kVersion) + ")";
    case HeaderCheck::kTooLarge:
      return "message of " + std::to_string(h.length) + " bytes exceeds the limit of " + std::to_string(kMaxPayload);
  }
  return "bad header";
}

std::string encode_spec(const TableSpec& spec) {
  Encoder e;
  uint32_t magic = kSpecMagic;
  e.scalar(magic);
  io(e, const_cast<TableSpec&>(spec));  // Encoder only reads
  return std::move(e.out);
}

std::string encode_push(std::string_view header_json, const TableSpec& spec) {
  std::string out;
  put_le(out, header_json.size(), 4);
  out.append(header_json);
  out += encode_spec(spec);
  return out;
}

bool split_push(std::string_view payload, std::string_view& header_json, std::string_view& spec_bytes,
                std::string& error) {
  if (payload.size() < 4) {
    error = "malformed push: shorter than its header length";
    return false;
  }
  uint32_t n = 0;
  for (int i = 0; i < 4; ++i) n |= static_cast<uint32_t>(static_cast<uint8_t>(payload[i])) << (8 * i);
  if (n > payload.size() - 4) {
    error = "malformed push: its header runs past the message";
    return false;
  }
  header_json = payload.substr(4, n);
  spec_bytes = payload.substr(4 + n);
  return true;
}

bool decode_spec(std::string_view bytes, TableSpec& out, std::string& error) {
  Decoder d{reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), {}};
  uint32_t magic = 0;
  d.scalar(magic);
  if (d.ok() && magic != kSpecMagic) d.fail("the payload is not a table spec");
  TableSpec spec;
  spec.route_origins.clear();
  if (d.ok()) io(d, spec);
  if (d.ok() && d.left != 0) d.fail(std::to_string(d.left) + " bytes after the end of the table spec");
  if (!d.ok()) {
    error = "malformed table spec: " + d.error;
    return false;
  }
  if (!validate_spec(spec, error)) return false;
  out = std::move(spec);
  return true;
}

namespace {

/// Names become flow-log paths and telemetry keys: a pushed spec keeps to
/// Azure's naming rules whatever client built it (asenetctl checks them too).
bool validate_names(const TableSpec& s, std::string& error) {
  auto bad_name = [&](NameKind k, const std::string& n) -> bool {
    if (auto why = azure_name_problem(k, n)) {
      error = "invalid table spec: " + *why;
      return true;
    }
    return false;
  };
  for (size_t i = 2; i < s.route_origins.size(); ++i)
    if (bad_name(NameKind::kRouteTable, s.route_origins[i])) return false;
  for (const auto& n : s.nsgs)
    if (bad_name(NameKind::kNsg, n.name)) return false;
  for (const auto& r : s.nsg_rules)
    if (bad_name(NameKind::kSecurityRule, r.name)) return false;
  for (const auto& sn : s.subnets)
    if (bad_name(NameKind::kSubnet, sn.name)) return false;
  for (const auto& nic : s.nics)
    if (bad_name(NameKind::kHost, nic.host)) return false;
  for (const auto& a : s.ases)
    if (bad_name(NameKind::kAse, a.name)) return false;
  return true;
}

bool validate_ases(const TableSpec& s, std::string& error) {
  auto bad = [&](const std::string& why) {
    error = "invalid table spec: " + why;
    return false;
  };
  for (const auto& a : s.ases) {
    if (a.instances.size() > 1000) return bad("ASE " + a.name + " has more than 1000 instances");
    if (a.up.size() != a.instances.size() || a.snat_ports.size() != a.instances.size())
      return bad("ASE " + a.name + ": health or SNAT ports do not match its instances");
    for (uint16_t e : a.maglev)
      if (e >= a.instances.size()) return bad("ASE " + a.name + ": Maglev names an instance that does not exist");
    if (!a.maglev.empty() && a.maglev.size() < a.instances.size())
      return bad("ASE " + a.name + ": Maglev table smaller than its instances");
    if (a.distribution > 2) return bad("ASE " + a.name + " has an unknown load distribution");
    if (a.probe_port != 0 && (a.probe_interval_ms == 0 || a.probe_down == 0 || a.probe_up == 0))
      return bad("ASE " + a.name + ": a probe needs an interval and thresholds");
    for (uint32_t ip : a.instances)
      if (!TableSpec::sorted_contains(s.ase_instances, ip))
        return bad("ASE " + a.name + ": an instance is missing from the instance list");
  }
  return true;
}

}  // namespace

bool validate_spec(const TableSpec& s, std::string& error) {
  auto bad = [&](const std::string& why) {
    error = "invalid table spec: " + why;
    return false;
  };
  if (s.route_origins.size() < 2) return bad("the system and gateway route origins are missing");
  if (!validate_names(s, error)) return false;
  for (const auto& h : s.next_hops) {
    if (static_cast<size_t>(h.type) >= kNextHopTypeNames.size()) return bad("a next hop has an unknown type");
    if (static_cast<size_t>(h.port) >= kNumPorts) return bad("a next hop has an unknown port");
    if (h.origin >= s.route_origins.size()) return bad("a next hop names a route origin that does not exist");
  }
  if (s.route_sets.empty()) return bad("route set 0 is missing");
  if (s.route_sets.size() > 4096) return bad("more than 4096 route sets");
  for (const auto& set : s.route_sets)
    for (const auto& r : set) {
      if (!well_formed(r.prefix)) return bad("a route prefix is not a network address");
      if (r.next_hop >= s.next_hops.size()) return bad("a route names a next hop that does not exist");
    }
  if (s.nsgs.size() > 127) return bad("more than 127 NSGs");
  for (size_t i = 0; i < s.nsg_rules.size(); ++i) {
    const auto& r = s.nsg_rules[i];
    if (r.nsg >= s.nsgs.size()) return bad("rule " + r.name + " belongs to no NSG");
    if (static_cast<uint8_t>(r.direction) > 1) return bad("rule " + r.name + " has no direction");
    if (static_cast<uint8_t>(r.src_tag) > 2 || static_cast<uint8_t>(r.dst_tag) > 2)
      return bad("rule " + r.name + " has an unknown tag");
    for (const auto* v : {&r.src, &r.dst})
      for (const auto& c : *v)
        if (!well_formed(c)) return bad("rule " + r.name + " has a prefix that is not a network address");
    for (const auto* v : {&r.sports, &r.dports})
      for (const auto& p : *v)
        if (p.lo > p.hi) return bad("rule " + r.name + " has a port range that ends before it starts");
  }
  for (size_t n = 0; n < s.nsgs.size(); ++n) {
    for (int d = 0; d < 2; ++d) {
      const auto& ids = d == 0 ? s.nsgs[n].inbound : s.nsgs[n].outbound;
      for (uint32_t id : ids) {
        if (id >= s.nsg_rules.size()) return bad("NSG " + s.nsgs[n].name + " lists a rule that does not exist");
        if (s.nsg_rules[id].nsg != n || static_cast<int>(s.nsg_rules[id].direction) != d)
          return bad("NSG " + s.nsgs[n].name + " lists a rule of another NSG or direction");
      }
    }
  }
  if (!sorted_strictly(s.subnets, [](const auto& a, const auto& b) { return a.prefix.addr < b.prefix.addr; }))
    return bad("subnets are not sorted");
  for (size_t i = 0; i < s.subnets.size(); ++i) {
    const auto& sn = s.subnets[i];
    if (!well_formed(sn.prefix)) return bad("subnet " + sn.name + " is not a network address");
    if (sn.nsg_id > s.nsgs.size()) return bad("subnet " + sn.name + " names an NSG that does not exist");
    if (sn.route_set >= s.route_sets.size()) return bad("subnet " + sn.name + " names a route set that does not exist");
    if (i > 0 && s.subnets[i - 1].prefix.contains(sn.prefix.addr)) return bad("subnets overlap");
  }
  if (!sorted_strictly(s.nics, [](const auto& a, const auto& b) { return a.ip < b.ip; }))
    return bad("NICs are not sorted");
  for (const auto& nic : s.nics)
    if (nic.nsg_id > s.nsgs.size()) return bad("NIC of " + nic.host + " names an NSG that does not exist");
  for (const auto& c : s.virtual_network)
    if (!well_formed(c)) return bad("a VirtualNetwork prefix is not a network address");
  if (!sorted_strictly(s.virtual_network, [](const Cidr& a, const Cidr& b) { return a.addr < b.addr; }))
    return bad("VirtualNetwork prefixes are not sorted");
  auto ascending = [](uint32_t a, uint32_t b) { return a < b; };
  if (!std::is_sorted(s.hosts.begin(), s.hosts.end())) return bad("hosts are not sorted");
  if (!sorted_strictly(s.ase_instances, ascending)) return bad("ASE instances are not sorted and unique");
  if (!validate_ases(s, error)) return false;
  if (s.mtu < 576 || s.mtu > 9000) return bad("the MTU is outside 576-9000");
  if (s.l2.arp && s.l2.neighbor_timeout_ns == 0) return bad("the neighbour timeout is zero");
  if (s.flow_idle_timeout_ns == 0 || s.tcp_fin_timeout_ns == 0 || s.tcp_rst_timeout_ns == 0)
    return bad("a flow timeout is zero");
  return true;
}

std::string spec_hash(dataplane::TableSpec spec) {
  spec.generation = 0;
  const std::string bytes = encode_spec(spec);
  uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, 64 bits
  for (const unsigned char c : bytes) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char out[32];
  std::snprintf(out, sizeof out, "fnv1a64:%016llx", static_cast<unsigned long long>(h));
  return out;
}

bool valid_push_token(std::string_view token) noexcept {
  if (token.size() < 8 || token.size() > 64) return false;
  return std::all_of(token.begin(), token.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

}  // namespace asenet::control::wire

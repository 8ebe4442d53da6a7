#include "control/report/spec_diff.hpp"
#include "dataplane/core/time.hpp"

#include <map>
#include <set>
#include <sstream>

namespace asenet::control {

using namespace asenet::dataplane;

namespace {

std::string ports_text(const std::vector<PortSpan>& v) {
  if (v.empty()) return "*";
  std::string out;
  for (const auto& p : v)
    out += (out.empty() ? "" : ",") +
           (p.lo == p.hi ? std::to_string(p.lo) : std::to_string(p.lo) + "-" + std::to_string(p.hi));
  return out;
}

std::string prefixes_text(const std::vector<Cidr>& v, SideTag tag) {
  if (tag == SideTag::kInternet) return "Internet";
  if (tag == SideTag::kVirtualNetwork) return "VirtualNetwork";
  if (v.empty()) return "*";
  std::string out;
  for (const auto& c : v) out += (out.empty() ? "" : ",") + format_cidr(c);
  return out;
}

/// Everything a rule decides on, as text: two rules with the same text judge
/// every packet alike.
std::string rule_text(const NsgRuleSpec& r) {
  std::ostringstream o;
  o << (r.direction == NsgDirection::kInbound ? "Inbound" : "Outbound") << " " << r.priority << " "
    << (r.allow ? "Allow" : "Deny") << " proto " << static_cast<unsigned>(r.proto) << " "
    << prefixes_text(r.src, r.src_tag) << ":" << ports_text(r.sports) << " > " << prefixes_text(r.dst, r.dst_tag) << ":"
    << ports_text(r.dports) << (r.never ? " never" : "");
  return o.str();
}

/// Added, removed and changed keys between two maps of key -> text.
struct Delta {
  std::vector<std::string> added, removed, changed;
  [[nodiscard]] bool empty() const { return added.empty() && removed.empty() && changed.empty(); }
};
Delta delta(const std::map<std::string, std::string>& a, const std::map<std::string, std::string>& b) {
  Delta d;
  for (const auto& [k, v] : b) {
    const auto it = a.find(k);
    if (it == a.end())
      d.added.push_back(k);
    else if (it->second != v)
      d.changed.push_back(k);
  }
  for (const auto& [k, v] : a)
    if (b.find(k) == b.end()) d.removed.push_back(k);
  return d;
}

std::string some(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size() && i < 4; ++i) out += (i ? ", " : "") + v[i];
  if (v.size() > 4) out += ", ... (" + std::to_string(v.size() - 4) + " more)";
  return out;
}

std::string delta_line(const std::string& area, const Delta& d) {
  std::string out = area + ":";
  auto part = [&](const char* what, const std::vector<std::string>& v) {
    if (v.empty()) return;
    out += (out.back() == ':' ? " " : "; ") + std::to_string(v.size()) + " " + what + " (" + some(v) + ")";
  };
  part("added", d.added);
  part("removed", d.removed);
  part("changed", d.changed);
  return out;
}

std::map<std::string, std::string> rules_of(const TableSpec& s) {
  std::map<std::string, std::string> m;
  for (const auto& r : s.nsg_rules) m[s.nsgs[r.nsg].name + "/" + r.name] = rule_text(r);
  return m;
}

std::string nsg_name(const TableSpec& s, uint16_t id) { return id == 0 ? "none" : s.nsgs[id - 1u].name; }

std::map<std::string, std::string> attachments_of(const TableSpec& s) {
  std::map<std::string, std::string> m;
  for (const auto& sn : s.subnets) m["subnet " + sn.name] = nsg_name(s, sn.nsg_id);
  for (const auto& n : s.nics) m["NIC " + n.host] = nsg_name(s, n.nsg_id);
  return m;
}

std::map<std::string, std::string> routes_of(const TableSpec& s) {
  // Each subnet's effective routes (route set 0: traffic entering from outside).
  std::map<uint16_t, std::vector<std::string>> owners;
  for (const auto& sn : s.subnets) owners[sn.route_set].push_back(sn.name);
  std::map<std::string, std::string> m;
  for (size_t set = 0; set < s.route_sets.size(); ++set) {
    std::vector<std::string> who =
        owners.count(static_cast<uint16_t>(set)) != 0 ? owners[static_cast<uint16_t>(set)] : std::vector<std::string>{};
    if (set == 0) who.push_back("entering from outside");
    for (const auto& r : s.route_sets[set]) {
      const NextHop& h = s.next_hops[r.next_hop];
      const std::string text = std::string(next_hop_type_name(h.type)) + (h.ip != 0 ? " " + format_ipv4(h.ip) : "") +
                               " (" + s.route_origins[h.origin] + ")";
      for (const auto& w : who) m[w + " " + format_cidr(r.prefix)] = text;
    }
  }
  return m;
}

std::map<std::string, std::string> frontends_of(const TableSpec& s) {
  std::map<std::string, std::string> m;
  for (const auto& a : s.ases) {
    m[a.name + " VIP"] = format_ipv4(a.vip) + " ports " + ports_text(a.vip_ports);
    if (a.ilb != 0) m[a.name + " ILB"] = format_ipv4(a.ilb) + " ports " + ports_text(a.ilb_ports);
  }
  return m;
}

std::map<std::string, std::string> instances_of(const TableSpec& s) {
  std::map<std::string, std::string> m;
  for (const auto& a : s.ases)
    for (size_t i = 0; i < a.instances.size(); ++i)
      m[a.name + " " + format_ipv4(a.instances[i])] = "distribution " + std::to_string(a.distribution);
  return m;
}

std::map<std::string, std::string> probes_of(const TableSpec& s) {
  std::map<std::string, std::string> m;
  for (const auto& a : s.ases)
    if (a.probe_port != 0)
      m[a.name] = std::string(a.probe_http ? "Http " : "Tcp ") + std::to_string(a.probe_port) +
                  (a.probe_http ? " " + a.probe_path : "") + " every " + std::to_string(a.probe_interval_ms) + " ms";
  return m;
}

std::string seconds(uint64_t ns) { return std::to_string(ns / kNsPerSecond) + " s"; }

}  // namespace

std::vector<std::string> describe_changes(const TableSpec& from, const TableSpec& to) {
  std::vector<std::string> out;
  auto area = [&](const std::string& name, const std::map<std::string, std::string>& a,
                  const std::map<std::string, std::string>& b) {
    const Delta d = delta(a, b);
    if (!d.empty()) out.push_back(delta_line(name, d));
  };
  std::map<std::string, std::string> na, nb;
  for (const auto& n : from.nsgs) na[n.name] = "";
  for (const auto& n : to.nsgs) nb[n.name] = "";
  area("NSGs", na, nb);
  area("NSG rules", rules_of(from), rules_of(to));
  area("NSG attachments", attachments_of(from), attachments_of(to));
  area("routes", routes_of(from), routes_of(to));
  area("frontends", frontends_of(from), frontends_of(to));
  area("instances", instances_of(from), instances_of(to));
  area("health probes", probes_of(from), probes_of(to));
  if (from.l2.arp != to.l2.arp) {
    out.push_back(std::string("L2 mode: ARP answering ") + (from.l2.arp ? "on" : "off") + " -> " +
                  (to.l2.arp ? "on" : "off"));
  } else if (to.l2.arp && (from.l2.next_hop != to.l2.next_hop || from.l2.fabric_ip != to.l2.fabric_ip ||
                           from.l2.neighbor_timeout_ns != to.l2.neighbor_timeout_ns)) {
    out.push_back("L2 mode: next hops, fabric addresses or the neighbour timeout changed");
  }
  std::vector<std::string> timers;
  auto timer = [&](const char* name, uint64_t a, uint64_t b) {
    if (a != b) timers.push_back(std::string(name) + " " + seconds(a) + " -> " + seconds(b));
  };
  timer("flow_idle_timeout", from.flow_idle_timeout_ns, to.flow_idle_timeout_ns);
  timer("tcp_fin_timeout", from.tcp_fin_timeout_ns, to.tcp_fin_timeout_ns);
  timer("tcp_rst_timeout", from.tcp_rst_timeout_ns, to.tcp_rst_timeout_ns);
  if (!timers.empty()) out.push_back("timers: " + some(timers));
  std::vector<std::string> other;
  if (from.mtu != to.mtu) other.push_back("mtu " + std::to_string(from.mtu) + " -> " + std::to_string(to.mtu));
  if (from.decrement_ttl != to.decrement_ttl)
    other.push_back(std::string("decrement_ttl ") + (from.decrement_ttl ? "true" : "false") + " -> " +
                    (to.decrement_ttl ? "true" : "false"));
  if (from.basic_lb != to.basic_lb || from.udp_cone_nat != to.udp_cone_nat)
    other.push_back(std::string("era ") + (from.basic_lb ? "2016" : "current") + " -> " +
                    (to.basic_lb ? "2016" : "current"));
  if (!other.empty()) out.push_back("packet handling: " + some(other));
  return out;
}

}  // namespace asenet::control

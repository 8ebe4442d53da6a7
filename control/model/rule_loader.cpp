#include "control/model/rule_loader.hpp"

#include <algorithm>
#include <set>
#include <string>

#include "control/model/azure_nsg.hpp"
#include "control/model/rule_fields.hpp"

namespace asenet::control {

void RuleLoader::load_nsg(const toml::table& tb, const std::string& path) {
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

NsgRule RuleLoader::load_rule(const toml::table& tb, const std::string& path) {
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
  // Azure takes 100-4096. Without enforce_limits (rule-set benchmarks, NSGs
  // imported as exported) any priority below the default rules' 65000 goes.
  if (t_.emulator.enforce_limits && (pi->get() < 100 || pi->get() > 4096))
    fail(loc_of(pn), join(path, "priority"),
         std::to_string(pi->get()) + " is outside 100-4096 (set [emulator] enforce_limits = false to allow 1-64999)");
  if (pi->get() < 1 || pi->get() >= 65000)
    fail(
        loc_of(pn), join(path, "priority"),
        std::to_string(pi->get()) + " is outside 1-64999: a rule must come before Azure's default rules (65000-65500)");
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

void RuleLoader::load_route_table(const toml::table& tb, const std::string& path) {
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

}  // namespace asenet::control

// One reader per Azure resource type `asenetctl import` models.
#include <algorithm>

#include "control/model/azure_import_model.hpp"
#include "control/model/azure_nsg.hpp"
#include "control/model/rule_fields.hpp"

namespace asenet::control::azimport {

using json = nlohmann::json;

namespace {

std::string idx(const std::string& path, const char* key, size_t i) {
  return path + (path.empty() ? "" : ".") + key + "[" + std::to_string(i) + "]";
}

/// Address items of every rule that are neither addresses nor built-in tags:
/// Azure service tags (Storage, Sql, AppServiceManagement, ...).
void collect_tags(const json& props, std::set<std::string>& tags) {
  if (!props.contains("securityRules") || !props["securityRules"].is_array()) return;
  for (const auto& rule : props["securityRules"]) {
    const json& o = Reader::props(rule);
    for (const char* k :
         {"sourceAddressPrefix", "destinationAddressPrefix", "sourceAddressPrefixes", "destinationAddressPrefixes"}) {
      if (!o.contains(k)) continue;
      std::vector<std::string> items;
      if (o[k].is_string()) items.push_back(o[k].get<std::string>());
      if (o[k].is_array())
        for (const auto& v : o[k])
          if (v.is_string()) items.push_back(v.get<std::string>());
      for (const auto& s : items) {
        if (s.empty() || s == "*" || parse_cidr(s).cidr || parse_ipv4(s)) continue;
        if (resolve_tag(Topology{}, s)) continue;
        const bool tag_like = std::all_of(s.begin(), s.end(), [](unsigned char c) {
          return std::isalnum(c) != 0 || c == '.' || c == '-' || c == '_';
        });
        if (tag_like) tags.insert(s);
      }
    }
  }
}

}  // namespace

void Model::read_vnet(const Reader& rd, const json& r, const std::string& path) {
  Vnet v;
  v.name = rd.str(r, "name", path, true);
  v.id = rd.str(r, "id", path, false);
  v.where = rd.where(path);
  const json& p = Reader::props(r);
  const std::string pp = p.is_object() && &p != &r ? path + (path.empty() ? "" : ".") + "properties" : path;
  if (!p.contains("addressSpace") || !p["addressSpace"].is_object())
    rd.fail(pp + ".addressSpace", "a VNet needs addressSpace.addressPrefixes");
  v.prefixes = rd.strings(p["addressSpace"], "addressPrefixes", pp + ".addressSpace");
  if (v.prefixes.empty()) rd.fail(pp + ".addressSpace.addressPrefixes", "a VNet needs at least one address prefix");
  vnets.push_back(v);
  if (p.contains("subnets")) {
    if (!p["subnets"].is_array()) rd.fail(pp + ".subnets", "expected an array");
    for (size_t i = 0; i < p["subnets"].size(); ++i) read_subnet(rd, p["subnets"][i], idx(pp, "subnets", i), v.name);
  }
}

void Model::read_subnet(const Reader& rd, const json& s, const std::string& path, const std::string& vnet) {
  if (!s.is_object()) rd.fail(path, "expected a subnet object");
  Subnet sn;
  sn.name = rd.str(s, "name", path, true);
  if (const auto slash = sn.name.find('/'); slash != std::string::npos) sn.name = sn.name.substr(slash + 1);
  sn.id = rd.str(s, "id", path, false);
  sn.vnet = vnet;
  sn.where = rd.where(path);
  const json& p = Reader::props(s);
  const std::string pp = &p != &s ? path + ".properties" : path;
  sn.prefix = rd.str(p, "addressPrefix", pp, false);
  if (sn.prefix.empty()) {
    const auto many = rd.strings(p, "addressPrefixes", pp);
    if (many.empty()) rd.fail(pp + ".addressPrefix", "a subnet needs addressPrefix");
    sn.prefix = many[0];
    if (many.size() > 1)
      warnings.push_back(rd.where(pp) + ": subnet " + sn.name + " has " + std::to_string(many.size()) +
                         " prefixes; asenet models one, " + many[0]);
  }
  sn.nsg_ref = rd.ref(p, "networkSecurityGroup", pp);
  sn.route_table_ref = rd.ref(p, "routeTable", pp);
  for (const auto& x : subnets)
    if (lower(x.name) == lower(sn.name) && x.vnet == vnet) return;  // inline and separate copies: one subnet
  subnets.push_back(sn);
}

void Model::read_subnet_resource(const Reader& rd, const json& r, const std::string& path) {
  const std::string name = rd.str(r, "name", path, true);
  const auto slash = name.find('/');
  read_subnet(rd, r, path, slash == std::string::npos ? "" : name.substr(0, slash));
}

void Model::read_nsg(const Reader& rd, const json& r, const std::string& path) {
  NsgRes n;
  n.name = rd.str(r, "name", path, true);
  n.id = rd.str(r, "id", path, false);
  n.where = rd.where(path);
  const size_t tags_before = tags.size();
  collect_tags(Reader::props(r), tags);
  if (tags.size() > tags_before && tags_where.empty()) tags_where = rd.where(path);
  Topology t;  // what the rule parser needs: the tags, and no limits (priority 5 loads, reported below)
  t.emulator.enforce_limits = false;
  for (const auto& tag : tags) t.service_tags[tag] = {};
  ImportedNsg imported = nsg_from_json(r, rd.file(), rd.text(), path, t);
  n.rules = std::move(imported.rules);
  for (const auto& rule : n.rules)
    if (rule.priority < 100 || rule.priority > 4096) n.out_of_range.push_back(rule.name);
  nsgs.push_back(std::move(n));
}

void Model::read_route_table(const Reader& rd, const json& r, const std::string& path) {
  RouteTableRes t;
  t.name = rd.str(r, "name", path, true);
  t.id = rd.str(r, "id", path, false);
  t.where = rd.where(path);
  const json& p = Reader::props(r);
  const std::string pp = &p != &r ? path + (path.empty() ? "" : ".") + "properties" : path;
  if (p.contains("disableBgpRoutePropagation")) {
    if (!p["disableBgpRoutePropagation"].is_boolean())
      rd.fail(pp + ".disableBgpRoutePropagation", "expected true or false");
    t.disable_bgp = p["disableBgpRoutePropagation"].get<bool>();
  }
  if (p.contains("routes")) {
    if (!p["routes"].is_array()) rd.fail(pp + ".routes", "expected an array");
    for (size_t i = 0; i < p["routes"].size(); ++i) {
      const json& rt = p["routes"][i];
      const std::string rp = idx(pp, "routes", i);
      if (!rt.is_object()) rd.fail(rp, "expected a route object");
      const json& q = Reader::props(rt);
      const std::string qp = &q != &rt ? rp + ".properties" : rp;
      RouteRes route;
      route.name = rd.str(rt, "name", rp, true);
      if (const auto slash = route.name.find('/'); slash != std::string::npos)
        route.name = route.name.substr(slash + 1);
      route.prefix = rd.str(q, "addressPrefix", qp, true);
      route.type = rd.str(q, "nextHopType", qp, true);
      route.ip = rd.str(q, "nextHopIpAddress", qp, false);
      t.routes.push_back(route);
    }
  }
  route_tables.push_back(std::move(t));
}

void Model::read_nic(const Reader& rd, const json& r, const std::string& path) {
  NicRes n;
  n.name = rd.str(r, "name", path, true);
  n.where = rd.where(path);
  const json& p = Reader::props(r);
  const std::string pp = &p != &r ? path + (path.empty() ? "" : ".") + "properties" : path;
  const std::string vm = rd.ref(p, "virtualMachine", pp);
  if (!vm.empty()) n.vm = vm.substr(vm.find_last_of('/') + 1);
  n.nsg_ref = rd.ref(p, "networkSecurityGroup", pp);
  if (!p.contains("ipConfigurations") || !p["ipConfigurations"].is_array() || p["ipConfigurations"].empty())
    rd.fail(pp + ".ipConfigurations", "a NIC needs an IP configuration with privateIPAddress");
  const json& c = p["ipConfigurations"][0];
  const json& cp = Reader::props(c);
  n.ip = rd.str(cp, "privateIPAddress", pp + ".ipConfigurations[0].properties", false);
  if (n.ip.empty()) {
    warnings.push_back(rd.where(pp) + ": NIC " + n.name + " has no private IP address in the JSON: not imported");
    return;
  }
  if (p["ipConfigurations"].size() > 1)
    warnings.push_back(rd.where(pp) + ": NIC " + n.name + " has several IP configurations; the first is imported");
  nics.push_back(n);
}

void Model::read_gateway(const Reader& rd, const json& r, const std::string& path) {
  has_gateway = true;
  if (gateway_where.empty()) gateway_where = rd.where(path);
  const json& p = Reader::props(r);
  // What the gateway itself lists of the on-premises side: a custom route set
  // or the VPN client pool (learned routes and local network gateways add more).
  if (p.contains("customRoutes") && p["customRoutes"].is_object())
    if (p["customRoutes"].contains("addressPrefixes"))
      for (const auto& s : rd.strings(p["customRoutes"], "addressPrefixes", path + ".customRoutes"))
        bgp_routes.push_back(s);
}

void Model::read_ase(const Reader& rd, const json& r, const std::string& path) {
  AseRes a;
  a.name = rd.str(r, "name", path, true);
  a.kind = lower(rd.str(r, "kind", path, false));
  a.where = rd.where(path);
  const json& p = Reader::props(r);
  const std::string pp = &p != &r ? path + (path.empty() ? "" : ".") + "properties" : path;
  if (p.contains("virtualNetwork") && p["virtualNetwork"].is_object()) {
    const json& v = p["virtualNetwork"];
    const std::string id = rd.str(v, "id", pp + ".virtualNetwork", false);
    a.subnet_ref = id.find("/subnets/") != std::string::npos ? last_segment(id) : lower(rd.str(v, "subnet", pp, false));
  }
  if (a.subnet_ref.empty()) rd.fail(pp + ".virtualNetwork", "an ASE needs virtualNetwork.id (its subnet)");
  if (p.contains("internalLoadBalancingMode")) {
    const json& m = p["internalLoadBalancingMode"];
    static const char* by_number[] = {"None", "Web", "Publishing", "Web, Publishing"};
    if (m.is_number_integer() && m.get<int>() >= 0 && m.get<int>() <= 3) {
      a.ilb_mode = by_number[m.get<int>()];
    } else if (m.is_string()) {
      std::string s = lower(m.get<std::string>());
      s.erase(std::remove(s.begin(), s.end(), ' '), s.end());
      if (s == "none")
        a.ilb_mode = "None";
      else if (s == "web")
        a.ilb_mode = "Web";
      else if (s == "publishing")
        a.ilb_mode = "Publishing";
      else if (s == "web,publishing" || s == "publishing,web")
        a.ilb_mode = "Web, Publishing";
      else
        rd.fail(pp + ".internalLoadBalancingMode",
                "unknown value '" + m.get<std::string>() + "' (None | Web | Publishing | Web, Publishing)");
    } else {
      rd.fail(pp + ".internalLoadBalancingMode", "expected a string or 0-3");
    }
  }
  ases.push_back(a);
}

void Model::read_ase_addresses(const Reader& rd, const json& r, const std::string& path) {
  // `az appservice ase list-addresses`: the id names the ASE.
  const std::string id = rd.str(r, "id", path, false);
  const auto at = lower(id).find("/hostingenvironments/");
  std::string ase = at == std::string::npos ? "" : id.substr(at + 21, id.find('/', at + 21) - (at + 21));
  if (ase.empty())
    rd.fail(path + ".id", "cannot tell which ASE these addresses belong to (no hostingEnvironments in id)");
  ase_addresses[lower(ase)] = {rd.str(r, "serviceIpAddress", path, false), rd.str(r, "internalIpAddress", path, false)};
}

}  // namespace asenet::control::azimport

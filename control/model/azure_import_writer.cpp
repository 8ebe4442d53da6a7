// The importer's model as a topology file (contract section 2), with every
// default the JSON did not give marked "DEFAULT" in a comment.
#include <algorithm>
#include <sstream>

#include "control/model/azure_import_model.hpp"

namespace asenet::control::azimport {

namespace {

std::string q(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) >= 0x20) out += c;
  }
  return out + "\"";
}

std::string list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + q(v[i]);
  return out + "]";
}

std::string address(const AddressMatch& m) {
  if (m.kind == AddressMatch::Kind::kAny) return q("*");
  if (m.kind == AddressMatch::Kind::kTag) return q(m.tag);
  std::vector<std::string> v;
  for (const auto& c : m.prefixes) v.push_back(c.len == 32 ? format_ipv4(c.addr) : format_cidr(c));
  return list(v);
}

std::string ports(const std::vector<PortRange>& v) {
  if (v.empty()) return q("*");
  std::vector<std::string> s;
  for (const auto& p : v)
    s.push_back(p.lo == p.hi ? std::to_string(p.lo) : std::to_string(p.lo) + "-" + std::to_string(p.hi));
  return list(s);
}

const char* proto(Protocol p) {
  switch (p) {
    case Protocol::kTcp: return "Tcp";
    case Protocol::kUdp: return "Udp";
    case Protocol::kIcmp: return "Icmp";
    default: return "*";
  }
}

/// The name a reference (an id or a name) points to among `items`.
template <typename T>
const T* find_ref(const std::vector<T>& items, const std::string& ref) {
  if (ref.empty()) return nullptr;
  const std::string seg = last_segment(ref);
  for (const auto& x : items)
    if ((!x.id.empty() && lower(x.id) == lower(ref)) || (!x.id.empty() && last_segment(x.id) == seg)) return &x;
  for (const auto& x : items)
    if (lower(x.name) == seg) return &x;
  return nullptr;
}

std::optional<uint32_t> nth_address(const std::string& prefix, uint32_t n) {
  const auto c = parse_cidr(prefix);
  if (!c.cidr) return std::nullopt;
  return c.cidr->addr + n;
}

}  // namespace

void Model::mark(const std::ostringstream& o, const std::string& where) {
  const std::string text = o.str();
  marks.emplace_back(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1, where);
}

std::vector<Subnet> Model::write_network(std::ostringstream& o, const std::vector<std::string>& files) {
  o << "# Imported by `asenetctl import` from:\n";
  for (const auto& f : files) o << "#   " << f << "\n";
  o << "# Lines marked DEFAULT hold values Azure's JSON does not give: check them.\n";
  for (const auto& s : skipped) o << "# skipped: " << s << "\n";

  // One VNet per topology: the one holding an ASE's subnet, else the first.
  const Vnet* vnet = vnets.empty() ? nullptr : &vnets.front();
  for (const auto& a : ases)
    for (const auto& v : vnets)
      for (const auto& s : subnets)
        if (s.vnet == v.name && (last_segment(s.id) == a.subnet_ref || lower(s.name) == a.subnet_ref)) vnet = &v;
  if (vnet == nullptr)
    throw TopologyError(files.empty() ? "" : files[0], Loc{1, 1}, "",
                        "no Microsoft.Network/virtualNetworks resource among the files: a topology needs its VNet (az "
                        "network vnet show)");
  for (const auto& v : vnets)
    if (&v != vnet) warnings.push_back(v.where + ": VNet " + v.name + " skipped: a topology models one VNet");
  std::vector<Subnet> mine;
  for (const auto& s : subnets)
    if (s.vnet.empty() || s.vnet == vnet->name) mine.push_back(s);

  bool relaxed = false;
  for (const auto& n : nsgs) {
    if (!n.out_of_range.empty()) {
      relaxed = true;
      for (const auto& r : n.out_of_range)
        warnings.push_back(
            n.where + ": NSG " + n.name + " rule " + r +
            ": priority outside Azure's 100-4096 (Azure would refuse it); imported with enforce_limits = false");
    }
    if (n.rules.size() > 1000) relaxed = true;
  }
  bool old = !ases.empty() && std::all_of(ases.begin(), ases.end(), [](auto& a) { return a.kind == "asev1"; });
  o << "\n[emulator]\nera = " << q(old ? "2016" : "current")
    << (ases.empty() ? "  # DEFAULT: no ASE in the JSON"
        : old        ? "  # every ASE is kind ASEV1"
                     : "  # ASEv2/v3 (kind " + ases[0].kind + ")")
    << "\n";
  if (relaxed)
    o << "enforce_limits = false  # some NSG breaks Azure's limits as exported (see the warnings of import)\n";

  mark(o, vnet->where);
  o << "\n[vnet]\nname = " << q(vnet->name) << "\naddress_space = " << list(vnet->prefixes) << "\n";
  for (const auto& s : mine) {
    mark(o, s.where);
    o << "\n[[subnets]]\nname = " << q(s.name) << "\nprefix = " << q(s.prefix) << "\n";
    if (const NsgRes* n = find_ref(nsgs, s.nsg_ref))
      o << "nsg = " << q(n->name) << "\n";
    else if (!s.nsg_ref.empty())
      warnings.push_back(s.where + ": subnet " + s.name + ": its NSG " + last_segment(s.nsg_ref) +
                         " is not among the files: left out");
    if (const RouteTableRes* t = find_ref(route_tables, s.route_table_ref))
      o << "route_table = " << q(t->name) << "\n";
    else if (!s.route_table_ref.empty())
      warnings.push_back(s.where + ": subnet " + s.name + ": its route table " + last_segment(s.route_table_ref) +
                         " is not among the files: left out");
  }

  return mine;
}

void Model::write_ases(std::ostringstream& o, const std::vector<Subnet>& mine) {
  for (const auto& a : ases) {
    const Subnet* s = nullptr;
    for (const auto& x : mine)
      if (last_segment(x.id) == a.subnet_ref || lower(x.name) == a.subnet_ref) s = &x;
    if (s == nullptr) {
      warnings.push_back(a.where + ": ASE " + a.name + ": its subnet " + a.subnet_ref +
                         " is not in the VNet imported: ASE left out");
      continue;
    }
    mark(o, a.where);
    const auto addr = ase_addresses.find(lower(a.name));
    const bool ilb = a.ilb_mode != "None";
    o << "\n[[ases]]\nname = " << q(a.name) << "\nsubnet = " << q(s->name) << "\n";
    if (addr != ase_addresses.end() && !addr->second.first.empty())
      o << "public_vip = " << q(addr->second.first) << "\n";
    else
      o << "public_vip = \"198.51.100.1\"  # DEFAULT: the JSON has no VIP (`az appservice ase list-addresses` gives "
           "it)\n";
    if (ilb) {
      o << "ilb_mode = " << q(a.ilb_mode) << "\n";
      if (addr != ase_addresses.end() && !addr->second.second.empty())
        o << "ilb_address = " << q(addr->second.second) << "\n";
      else if (auto ip = nth_address(s->prefix, 11))
        o << "ilb_address = " << q(format_ipv4(*ip)) << "  # DEFAULT: the JSON has no ILB address\n";
    }
    const auto i4 = nth_address(s->prefix, 4), i5 = nth_address(s->prefix, 5);
    if (i4 && i5)
      o << "instances = [" << q(format_ipv4(*i4)) << ", " << q(format_ipv4(*i5))
        << "]  # DEFAULT: Azure's JSON does not list instances; two at the subnet's first usable addresses\n";
  }
}

void Model::write_hosts(std::ostringstream& o) {
  std::set<std::string> host_names;
  for (const auto& n : nics) {
    std::string name = !n.vm.empty() && !host_names.count(lower(n.vm)) ? n.vm : n.name;
    if (host_names.count(lower(name))) continue;
    host_names.insert(lower(name));
    mark(o, n.where);
    o << "\n[[hosts]]  # NIC " << n.name << "\nname = " << q(name) << "\nip = " << q(n.ip) << "\n";
    if (const NsgRes* g = find_ref(nsgs, n.nsg_ref))
      o << "nsg = " << q(g->name) << "\n";
    else if (!n.nsg_ref.empty())
      warnings.push_back(n.where + ": NIC " + n.name + ": its NSG " + last_segment(n.nsg_ref) +
                         " is not among the files: left out");
  }
}

void Model::write_rules(std::ostringstream& o) {
  if (!tags.empty()) {
    mark(o, tags_where);
    o << "\n[service_tags]\n";
    for (const auto& t : tags) {
      if (t == "AppServiceManagement")
        o << q(t)
          << " = [\"70.37.57.58/32\", \"157.55.208.185/32\"]  # DEFAULT: two published ASE management addresses; the "
             "full list: az network list-service-tags\n";
      else
        o << q(t)
          << " = []  # DEFAULT: Azure service tag; fill in its prefixes (az network list-service-tags), until then its "
             "rules match nothing\n";
    }
  }

  for (const auto& n : nsgs) {
    mark(o, n.where);
    o << "\n[[nsgs]]\nname = " << q(n.name) << "\n";
    for (const auto& r : n.rules)
      o << "[[nsgs.rules]]\nname = " << q(r.name) << "\npriority = " << r.priority
        << "\ndirection = " << q(to_string(r.direction)) << "\naccess = " << q(to_string(r.access))
        << "\nprotocol = " << q(proto(r.protocol)) << "\nsource_address_prefixes = " << address(r.source)
        << "\nsource_port_ranges = " << ports(r.source_ports)
        << "\ndestination_address_prefixes = " << address(r.destination)
        << "\ndestination_port_ranges = " << ports(r.destination_ports) << "\n";
  }

  for (const auto& t : route_tables) {
    mark(o, t.where);
    o << "\n[[route_tables]]\nname = " << q(t.name)
      << "\ndisable_bgp_route_propagation = " << (t.disable_bgp ? "true" : "false") << "\n";
    for (const auto& r : t.routes) {
      o << "[[route_tables.routes]]\nname = " << q(r.name) << "\naddress_prefix = " << q(r.prefix)
        << "\nnext_hop_type = " << q(r.type) << "\n";
      if (!r.ip.empty()) o << "next_hop_ip_address = " << q(r.ip) << "\n";
    }
  }

  if (has_gateway) {
    mark(o, gateway_where);
    std::vector<std::string> routes = bgp_routes;
    std::sort(routes.begin(), routes.end());
    routes.erase(std::unique(routes.begin(), routes.end()), routes.end());
    o << "\n[gateway]\nbgp_routes = " << list(routes)
      << (routes.empty()
              ? "  # DEFAULT: no on-premises prefixes in the JSON (local network gateways or learned routes give them)"
              : "")
      << "\n";
  }
}

std::string Model::write(const std::vector<std::string>& files) {
  std::ostringstream o;
  const std::vector<Subnet> mine = write_network(o, files);
  write_ases(o, mine);
  write_hosts(o);
  write_rules(o);
  return o.str();
}

}  // namespace asenet::control::azimport

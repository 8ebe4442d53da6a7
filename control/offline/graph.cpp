// asenetctl graph: the topology as Graphviz DOT. Subnets are clusters; what
// is attached to a subnet (its NSG, its route table) has an edge that ends on
// the cluster's border (compound, lhead); instances in address order; and
// what `doctor` finds broken is drawn in red where it breaks: the ASE, and an
// edge from it to where its management replies or dependencies go instead,
// each finding's words in the edge's tooltip.
#include "control/offline/graph.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <numeric>
#include <sstream>

#include "control/reference/doctor.hpp"

namespace asenet::control {

namespace {

/// A DOT string: quotes escaped; "\n" in labels stays Graphviz's line break.
std::string q(const std::string& s) {
  std::string o = "\"";
  for (char c : s) {
    if (c == '"')
      o += "\\\"";
    else if (c == '\n')
      o += "\\n";
    else
      o += c;
  }
  return o + "\"";
}

/// "1 rule", "2 rules".
std::string count_of(size_t n, const std::string& noun) { return std::to_string(n) + " " + noun + (n == 1 ? "" : "s"); }

std::string id(const std::string& kind, const std::string& name) {
  std::string out = kind + "_";
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return out;
}

std::string ranges(const std::vector<PortRange>& v) {
  std::string s;
  for (const auto& r : v)
    s += (s.empty() ? "" : ",") +
         (r.lo == r.hi ? std::to_string(r.lo) : std::to_string(r.lo) + "-" + std::to_string(r.hi));
  return s;
}

const char* hop_name(NextHopKind k) {
  switch (k) {
    case NextHopKind::kInternet: return "Internet";
    case NextHopKind::kVnetLocal: return "VnetLocal";
    case NextHopKind::kVirtualAppliance: return "VirtualAppliance";
    case NextHopKind::kVirtualNetworkGateway: return "VirtualNetworkGateway";
    case NextHopKind::kNone: return "None";
  }
  return "?";
}

}  // namespace

namespace {

/// An ASE inside its subnet's cluster: its VIP, ILB and ports, its instances
/// (dashed when down) and the LB's edges to them.
void ase_dot(std::ostringstream& o, const Ase& a) {
  std::string label = "ASE " + a.name + "\\nVIP " + format_ipv4(a.public_vip);
  if (a.ilb_address) label += "\\nILB " + format_ipv4(*a.ilb_address);
  label += "\\nmanagement " + ranges(a.ports.management) + ", app " + ranges(a.ports.app);
  o << "      " << id("ase", a.name) << " [shape=box3d, style=filled, fillcolor=\"#fde9c9\", label=" << q(label)
    << "];\n";
  std::vector<size_t> order(a.instances.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return a.instances[x] < a.instances[y]; });
  for (const size_t i : order) {
    const bool down = std::find(a.down.begin(), a.down.end(), a.instances[i]) != a.down.end();
    o << "      " << id("inst", a.name + "_" + std::to_string(i))
      << " [shape=box, style=" << (down ? "\"rounded,dashed\"" : "rounded")
      << ", label=" << q("instance " + format_ipv4(a.instances[i]) + (down ? " (down)" : "")) << "];\n";
    o << "      " << id("ase", a.name) << " -> " << id("inst", a.name + "_" + std::to_string(i))
      << " [label=\"LB\"];\n";
  }
}

/// NSGs and route tables, with dotted edges to what they are attached to.
void attachments_dot(std::ostringstream& o, const Topology& t) {
  for (const auto& n : t.nsgs) {
    std::string label = "NSG " + n.name + "\\n" + count_of(n.rules.size(), "rule") + " + 6 defaults";
    if (n.flow_logs) label += "\\nflow logs";
    o << "  " << id("nsg", n.name) << " [shape=octagon, style=filled, fillcolor=\"#f6d5d5\", label=" << q(label)
      << "];\n";
  }
  for (const auto& s : t.subnets)
    if (s.nsg)
      o << "  " << id("nsg", *s.nsg) << " -> " << id("subnet", s.name) << " [lhead=" << id("cluster_subnet", s.name)
        << ", style=dotted, arrowhead=tee, label=\"filters\"];\n";
  for (const auto& h : t.hosts)
    if (h.nsg)
      o << "  " << id("nsg", *h.nsg) << " -> " << id("host", h.name)
        << " [style=dotted, arrowhead=tee, label=\"NIC\"];\n";
  for (const auto& rt : t.route_tables) {
    std::string label = "route table " + rt.name;
    for (const auto& r : rt.routes) {
      label += "\\n" + format_cidr(r.prefix) + " -> " + hop_name(r.next_hop);
      if (r.next_hop_ip) label += " " + format_ipv4(*r.next_hop_ip);
    }
    if (rt.disable_bgp_route_propagation) label += "\\n(BGP propagation off)";
    o << "  " << id("rt", rt.name) << " [shape=note, style=filled, fillcolor=\"#e3f1dc\", label=" << q(label) << "];\n";
  }
  for (const auto& s : t.subnets)
    if (s.route_table)
      o << "  " << id("rt", *s.route_table) << " -> " << id("subnet", s.name)
        << " [lhead=" << id("cluster_subnet", s.name) << ", style=dotted, label=\"routes\"];\n";
}

/// Where a failed doctor finding's traffic goes instead: the node its words
/// name ("via VirtualNetworkGateway", "via VirtualAppliance", ...).
std::string broken_target(const Topology& t, const Ase& a, const DoctorFinding& f) {
  const Subnet* sub = nullptr;
  for (const auto& s : t.subnets)
    if (s.name == a.subnet) sub = &s;
  if (f.detail.find("via VirtualNetworkGateway") != std::string::npos) return t.has_gateway ? "gateway" : "port_onprem";
  if (f.detail.find("via VirtualAppliance") != std::string::npos || f.detail.find("via None") != std::string::npos)
    return sub != nullptr && sub->route_table ? id("rt", *sub->route_table) : "vnet_space";
  if (f.check == "dedicated-subnet" && sub != nullptr) return id("subnet", sub->name);
  return "port_internet";  // management that cannot get in: the way in is broken
}

/// doctor's failed findings, in red: the ASE, and one edge per kind of
/// failure and place, labelled with the check and count, the words in the tooltip.
void doctor_dot(std::ostringstream& o, const Topology& t) {
  for (const auto& rep : run_doctor(t)) {
    if (rep.healthy) continue;
    const Ase* a = nullptr;
    for (const auto& x : t.ases)
      if (x.name == rep.ase) a = &x;
    if (a == nullptr) continue;
    o << "  " << id("ase", a->name) << " [color=\"#c0392b\", penwidth=2.5, fontcolor=\"#c0392b\"];\n";
    std::map<std::pair<std::string, std::string>, std::vector<std::string>> edges;  // (target, check) -> details
    for (const auto& f : rep.findings)
      if (!f.ok) edges[{broken_target(t, *a, f), f.check}].push_back(f.detail);
    for (const auto& [key, details] : edges) {
      std::string tip;
      for (const auto& d : details) tip += (tip.empty() ? "" : "\n") + d;
      const std::string label =
          "doctor: " + key.second + (details.size() > 1 ? " x" + std::to_string(details.size()) : "");
      const bool inbound = key.first == "port_internet";
      o << "  " << (inbound ? key.first : id("ase", a->name)) << " -> " << (inbound ? id("ase", a->name) : key.first)
        << " [color=\"#c0392b\", fontcolor=\"#c0392b\", penwidth=2.5, style=bold, label=" << q(label)
        << ", tooltip=" << q(tip) << "];\n";
    }
  }
}

}  // namespace

std::string topology_dot(const Topology& t) {
  std::ostringstream o;
  o << "digraph asenet {\n  graph [rankdir=LR, fontname=\"Helvetica\", label=" << q("asenet: " + t.file)
    << ", labelloc=t, compound=true];\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", "
       "fontsize=9];\n";
  // The data plane's three sides.
  o << "  port_internet [shape=cds, style=filled, fillcolor=\"#dbe9f6\", label=\"port internet\"];\n";
  o << "  port_vnet [shape=cds, style=filled, fillcolor=\"#dbe9f6\", label=\"port vnet\"];\n";
  o << "  port_onprem [shape=cds, style=filled, fillcolor=\"#dbe9f6\", label=\"port onprem\"];\n";
  o << "  internet [shape=ellipse, label=\"Internet\"];\n  internet -> port_internet [dir=both];\n";
  std::string space;
  for (const auto& c : t.address_space) space += (space.empty() ? "" : "\\n") + format_cidr(c);
  o << "  subgraph cluster_vnet {\n    label=" << q("VNet " + t.vnet_name)
    << ";\n    style=rounded; color=\"#4a7ab5\";\n";
  o << "    vnet_space [shape=note, label=\"address space\\n" << space << "\"];\n";
  for (const auto& s : t.subnets) {
    o << "    subgraph " << id("cluster_subnet", s.name)
      << " {\n      label=" << q("subnet " + s.name + " " + format_cidr(s.prefix))
      << ";\n      style=dashed; color=\"#777777\";\n";
    // The anchor edges to the subnet end on (they stop at the cluster's border).
    o << "      " << id("subnet", s.name) << " [shape=point, style=invis, width=0.01, label=\"\"];\n";
    for (const auto& a : t.ases)
      if (a.subnet == s.name) ase_dot(o, a);
    for (const auto& h : t.hosts) {
      if (!s.prefix.contains(h.ip)) continue;
      o << "      " << id("host", h.name) << " [shape=box, label=" << q("VM " + h.name + "\\n" + format_ipv4(h.ip))
        << "];\n";
    }
    o << "    }\n";
  }
  o << "  }\n";
  for (const auto& a : t.ases)
    o << "  port_internet -> " << id("ase", a.name) << " [label=" << q("VIP " + format_ipv4(a.public_vip)) << "];\n";
  o << "  port_vnet -> vnet_space [dir=both];\n";
  attachments_dot(o, t);
  if (t.has_gateway) {
    std::string label = "VPN / ExpressRoute gateway";
    for (const auto& c : t.gateway_bgp_routes) label += "\\nBGP " + format_cidr(c);
    o << "  gateway [shape=house, style=filled, fillcolor=\"#ece2f4\", label=" << q(label) << "];\n";
    o << "  onprem [shape=ellipse, label=\"on-premises\"];\n  vnet_space -> gateway [dir=both];\n";
    o << "  gateway -> port_onprem [dir=both];\n  port_onprem -> onprem [dir=both];\n";
  } else {
    o << "  port_onprem [style=dashed];\n";
  }
  doctor_dot(o, t);
  o << "}\n";
  return o.str();
}

}  // namespace asenet::control

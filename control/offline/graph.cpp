#include "control/offline/graph.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>

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
  for (size_t i = 0; i < a.instances.size(); ++i) {
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
    std::string label = "NSG " + n.name + "\\n" + std::to_string(n.rules.size()) + " rules + 6 defaults";
    if (n.flow_logs) label += "\\nflow logs";
    o << "  " << id("nsg", n.name) << " [shape=octagon, style=filled, fillcolor=\"#f6d5d5\", label=" << q(label)
      << "];\n";
  }
  for (const auto& s : t.subnets)
    if (s.nsg)
      o << "  " << id("nsg", *s.nsg) << " -> " << id("subnet", s.name)
        << " [style=dotted, arrowhead=tee, label=\"filters\"];\n";
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
      o << "  " << id("rt", *s.route_table) << " -> " << id("subnet", s.name) << " [style=dotted, label=\"routes\"];\n";
}

}  // namespace

std::string topology_dot(const Topology& t) {
  std::ostringstream o;
  o << "digraph asenet {\n  graph [rankdir=LR, fontname=\"Helvetica\", label=" << q("asenet: " + t.file)
    << ", labelloc=t];\n  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n";
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
    o << "      " << id("subnet", s.name) << " [shape=point, width=0.05, label=\"\"];\n";
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
  o << "}\n";
  return o.str();
}

}  // namespace asenet::control

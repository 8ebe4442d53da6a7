#include "control/model/topology.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>

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

}  // namespace asenet::control

// Random NSG rule sets for the analysis property tests: topologies written as
// TOML (so they go through the same loader and compiler as a user's), with
// addresses and ports drawn from small pools so that rules overlap, cover and
// contradict each other often; and packets drawn from the values where
// verdicts change (prefix edges, port edges).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "dataplane/tables/nsg_spec.hpp"

namespace asenet::testing {

struct RandomRule {
  std::string name, direction, access, protocol, src, sport, dst, dport;
  uint32_t priority = 0;
};

inline const std::vector<std::string>& address_pool() {
  static const std::vector<std::string> v{"*",
                                          "Internet",
                                          "VirtualNetwork",
                                          "10.0.1.0/25",
                                          "10.0.1.128/25",
                                          "10.0.1.4",
                                          "10.0.1.0/24",
                                          "10.0.0.0/16",
                                          "1.2.3.0/24",
                                          "1.2.3.4",
                                          "0.0.0.0/1",
                                          "128.0.0.0/2",
                                          "10.0.2.0/24",
                                          "[\"10.0.1.4\", \"1.2.3.0/24\"]"};
  return v;
}
inline const std::vector<std::string>& port_pool() {
  static const std::vector<std::string> v{"*", "80", "443", "1000-2000", "1500-3000", "0-1023", "[\"80\", \"443\"]"};
  return v;
}

inline std::vector<RandomRule> random_rules(std::mt19937& rng, size_t n) {
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  std::vector<RandomRule> out;
  for (size_t i = 0; i < n; ++i) {
    RandomRule r;
    r.name = "r" + std::to_string(i);
    r.priority = 100 + static_cast<uint32_t>(i) * 10;
    r.direction = rng() % 4 == 0 ? "Outbound" : "Inbound";
    r.access = rng() % 2 ? "Allow" : "Deny";
    static const char* protos[] = {"Tcp", "Tcp", "Udp", "*", "Icmp"};
    r.protocol = protos[rng() % 5];
    r.src = pick(address_pool());
    r.dst = pick(address_pool());
    r.sport = rng() % 5 == 0 ? pick(port_pool()) : "*";
    r.dport = r.protocol == "Icmp" && rng() % 2 ? "*" : pick(port_pool());
    out.push_back(r);
  }
  return out;
}

inline std::string quoted(const std::string& v) { return v.front() == '[' ? v : "\"" + v + "\""; }

/// A topology: subnet 10.0.1.0/24 with NSG "n" (the rules), host 10.0.1.4
/// with NIC NSG "nic" (nic_rules), a second subnet 10.0.2.0/24 without one.
inline std::string random_topology(const std::vector<RandomRule>& rules,
                                   const std::vector<RandomRule>& nic_rules = {}) {
  std::string t = R"([emulator]
era = "current"
[vnet]
name = "prop-vnet"
address_space = ["10.0.0.0/16"]
[[subnets]]
name = "front"
prefix = "10.0.1.0/24"
nsg = "n"
[[subnets]]
name = "back"
prefix = "10.0.2.0/24"
[[hosts]]
name = "vm"
ip = "10.0.1.4"
nsg = "nic"
)";
  auto nsg = [&](const char* name, const std::vector<RandomRule>& rs) {
    t += std::string("[[nsgs]]\nname = \"") + name + "\"\n";
    for (const auto& r : rs)
      t += "[[nsgs.rules]]\nname = \"" + r.name + "\"\npriority = " + std::to_string(r.priority) + "\ndirection = \"" +
           r.direction + "\"\naccess = \"" + r.access + "\"\nprotocol = \"" + r.protocol +
           "\"\nsource_address_prefixes = " + quoted(r.src) + "\nsource_port_ranges = " + quoted(r.sport) +
           "\ndestination_address_prefixes = " + quoted(r.dst) + "\ndestination_port_ranges = " + quoted(r.dport) +
           "\n";
  };
  nsg("n", rules);
  nsg("nic", nic_rules);
  return t;
}

/// A packet the NSG of subnet 10.0.1.0/24 sees in `dir`, its values drawn
/// where rules draw their edges.
inline dataplane::FiveTuple random_packet(std::mt19937& rng, dataplane::NsgDirection dir) {
  static const uint32_t local[] = {0x0a000100, 0x0a000104, 0x0a000105, 0x0a00017f, 0x0a000180, 0x0a0001ff};
  static const uint32_t remote[] = {0x0a000100, 0x0a000104, 0x0a000180, 0x0a000204, 0x0a00ffff, 0x01020304,
                                    0x01020305, 0x010202ff, 0x7fffffff, 0x80000000, 0xbfffffff, 0xc0000000,
                                    0xa83f8110, 0x08080808, 0x00000001, 0xfffffffe};
  static const uint16_t ports[] = {0,    1,    22,   79,   80,   81,   443,  999,  1000,
                                   1023, 1024, 1500, 2000, 2001, 3000, 3001, 65535};
  static const uint8_t protos[] = {6, 6, 17, 1, 47};
  dataplane::FiveTuple t;
  t.proto = protos[rng() % 5];
  const uint32_t l = local[rng() % 6], r = rng() % 8 == 0 ? static_cast<uint32_t>(rng()) : remote[rng() % 16];
  t.src = dir == dataplane::NsgDirection::kInbound ? r : l;
  t.dst = dir == dataplane::NsgDirection::kInbound ? l : r;
  if (t.proto == 6 || t.proto == 17) {
    t.sport = rng() % 3 == 0 ? ports[rng() % 17] : static_cast<uint16_t>(49152 + rng() % 100);
    t.dport = ports[rng() % 17];
  }
  return t;
}

}  // namespace asenet::testing

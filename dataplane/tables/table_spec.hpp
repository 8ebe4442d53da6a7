// TableSpec: the compiled tables as plain data. control/ produces it (no EAL
// needed, unit-testable); dataplane/ turns it into DPDK structures (TableSet).
// It is also what the reference evaluator reads, so the fast path and the
// oracle can never disagree on their input.
#pragma once

#include "dataplane/core/time.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dataplane/core/fabric.hpp"
#include "dataplane/tables/cidr.hpp"
#include "dataplane/tables/nsg_spec.hpp"

namespace asenet::dataplane {

struct RouteSpec {
  Cidr prefix;
  uint32_t next_hop = 0;  ///< index into TableSpec::next_hops
};

/// A subnet as the NSG stage sees it: which NSG filters it (0 = none, else
/// index into TableSpec::nsgs + 1).
struct SubnetSpec {
  Cidr prefix;
  uint16_t nsg_id = 0;
  std::string name;
  uint16_t route_set = 0;  ///< index into TableSpec::route_sets: what traffic leaving it uses
};

/// A host NIC with an NSG of its own.
struct NicSpec {
  uint32_t ip = 0;
  uint16_t nsg_id = 0;
  std::string host;
};

/// One ASE as the LB and NAT stages see it.
struct AseSpec {
  std::string name;
  uint32_t vip = 0;
  uint32_t ilb = 0;                 ///< 0 = an External ASE
  std::vector<PortSpan> vip_ports;  ///< TCP ports the VIP serves (management always)
  std::vector<PortSpan> ilb_ports;  ///< TCP ports the ILB serves, by ilb_mode
  std::vector<uint32_t> instances;
  std::vector<uint8_t> up;   ///< health per instance (1 = up)
  uint8_t distribution = 0;  ///< 0 Default (5-tuple), 1 SourceIP, 2 SourceIPProtocol
  bool tcp_reset = false;    ///< RST both ends when an ESTABLISHED flow idles out (Standard)
  /// Active TCP health probes (asenetd's control thread sends them): the port
  /// probed, 0 = none; interval; failures to go down; successes to come back.
  uint16_t probe_port = 0;
  bool probe_http = false;  ///< HTTP: GET probe_path must answer 200; else a TCP handshake
  std::string probe_path = "/";
  uint32_t probe_interval_ms = 15000;
  uint8_t probe_down = 2;
  uint8_t probe_up = 2;
  /// Maglev lookup table (prime size): entry = instance index; built over the
  /// healthy instances only. Empty when every instance is down.
  std::vector<uint16_t> maglev;
  /// SNAT ports preallocated to each instance (azure-semantics 7.6), whole
  /// blocks of 8, none in a block that holds a frontend port.
  std::vector<std::vector<uint16_t>> snat_ports;

  /// The instance the LB gives a new flow (load_distribution picks the
  /// fields hashed). Precondition: !maglev.empty(). The LB stage and
  /// `nsg diff --pcap` both call this.
  [[nodiscard]] uint32_t pick_instance(uint32_t src, uint32_t dst, uint8_t proto, uint16_t sport,
                                       uint16_t dport) const noexcept {
    uint64_t h = mix64((uint64_t{src} << 32) | dst);
    if (distribution != 1) h = mix64(h ^ proto);                              // SourceIPProtocol
    if (distribution == 0) h = mix64(h ^ ((uint64_t{sport} << 16) | dport));  // Default: 5-tuple
    return instances[maglev[h % maglev.size()]];
  }
  [[nodiscard]] static constexpr uint64_t mix64(uint64_t x) noexcept {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
  }
  [[nodiscard]] bool serves(bool on_ilb, uint16_t port) const noexcept {
    for (const auto& r : on_ilb ? ilb_ports : vip_ports)
      if (port >= r.lo && port <= r.hi) return true;
    return false;
  }
};

/// L2 towards real hosts ([l2] in the topology): with `arp`, the fabric answers
/// every ARP request (as Azure's does, with its one MAC) and resolves the MAC
/// of each next hop instead of using kDefaultPeerMacs.
struct L2Spec {
  bool arp = false;
  /// Per side, the address whose MAC every packet leaving there goes to (a
  /// router in the lab's internet or on-premises namespace); 0: the packet's
  /// own destination (or its VirtualAppliance).
  std::array<uint32_t, kNumPorts> next_hop{};
  /// Per side, the sender address of the fabric's ARP requests; 0: the .1 of
  /// the target's subnet (Azure's gateway address) or of its /24.
  std::array<uint32_t, kNumPorts> fabric_ip{};
  uint64_t neighbor_timeout_ns = 300ull * kNsPerSecond;
};

struct TableSpec {
  uint64_t generation = 0;
  std::vector<NextHop> next_hops;
  /// Effective route sets, one winner per distinct prefix each; longest prefix
  /// match decides between them. Set 0: traffic that does not leave a subnet
  /// with a route table of its own, and everything entering from outside.
  std::vector<std::vector<RouteSpec>> route_sets;
  std::vector<std::string> route_origins = {"System Route", "Gateway Route"};
  bool decrement_ttl = true;
  /// The largest IPv4 packet (total length) a port carries ([emulator] mtu;
  /// Azure VNets: 1500). Longer ones are dropped, answered with ICMP
  /// fragmentation-needed when DF is set.
  uint16_t mtu = 1500;
  MacAddr fabric_mac = kFabricMac;
  std::array<MacAddr, kNumPorts> peer_macs = kDefaultPeerMacs;
  L2Spec l2{};

  std::vector<NsgSpec> nsgs;
  std::vector<NsgRuleSpec> nsg_rules;   ///< every NSG's rules, default rules included
  std::vector<SubnetSpec> subnets;      ///< sorted by address, non-overlapping
  std::vector<NicSpec> nics;            ///< sorted by address
  std::vector<Cidr> virtual_network;    ///< the VirtualNetwork tag, normalised (sorted, disjoint)
  std::vector<uint32_t> hosts;          ///< every [[hosts]] address, sorted
  std::vector<uint32_t> ase_instances;  ///< every ASE instance address, sorted
  std::vector<AseSpec> ases;
  bool udp_cone_nat = false;  ///< era current: UDP SNAT per destination IP (port-restricted cone)
  /// Era 2016 (Basic LB): when every instance of a frontend is down, its
  /// established TCP flows end too; Standard keeps them (azure-semantics 7.2).
  bool basic_lb = true;
  bool some_frontend_down = false;  ///< some ASE has no healthy instance: hits must check
  uint64_t flow_idle_timeout_ns = kDefaultFlowIdleTimeoutS * kNsPerSecond;  ///< Azure's 4-minute flow timeout
  uint64_t tcp_fin_timeout_ns = kDefaultTcpFinTimeoutS * kNsPerSecond;      ///< after both FINs
  uint64_t tcp_rst_timeout_ns = kDefaultTcpRstTimeoutS * kNsPerSecond;      ///< after an RST

  /// The subnet holding `ip`, or nullptr. Control thread or slow path.
  [[nodiscard]] const SubnetSpec* subnet_of(uint32_t ip) const noexcept {
    const size_t n = count_at_or_below(subnets, ip, [](const SubnetSpec& s) { return s.prefix.addr; });
    return n > 0 && subnets[n - 1].prefix.contains(ip) ? &subnets[n - 1] : nullptr;
  }
  /// Whether `ip` is in the VirtualNetwork service tag. Slow path.
  [[nodiscard]] bool in_virtual_network(uint32_t ip) const noexcept {
    const size_t n = count_at_or_below(virtual_network, ip, [](const Cidr& c) { return c.addr; });
    return n > 0 && virtual_network[n - 1].contains(ip);
  }
  [[nodiscard]] static bool sorted_contains(const std::vector<uint32_t>& v, uint32_t ip) noexcept {
    return std::binary_search(v.begin(), v.end(), ip);
  }
  /// The index of `ip` in a sorted address list, or v.size().
  [[nodiscard]] static size_t sorted_index(const std::vector<uint32_t>& v, uint32_t ip) noexcept {
    const auto it = std::lower_bound(v.begin(), v.end(), ip);
    return it != v.end() && *it == ip ? static_cast<size_t>(it - v.begin()) : v.size();
  }
  /// How many entries of `v` (sorted by key(entry)) have a key <= `ip`: the
  /// last of them is the only one whose range may hold `ip`.
  template <class T, class Key>
  [[nodiscard]] static size_t count_at_or_below(const std::vector<T>& v, uint32_t ip, Key key) noexcept {
    return static_cast<size_t>(
        std::upper_bound(v.begin(), v.end(), ip, [&](uint32_t a, const T& e) { return a < key(e); }) - v.begin());
  }
  /// An ASE instance calling a VM placed in its own (dedicated) subnet: Azure
  /// lets the VM be created there, but the ASE cannot reach it (azure-semantics 1.3).
  [[nodiscard]] bool ase_to_squatter(uint32_t src, uint32_t dst) const noexcept {
    if (!sorted_contains(ase_instances, src) || !sorted_contains(hosts, dst)) return false;
    const SubnetSpec* a = subnet_of(src);
    return a != nullptr && a == subnet_of(dst);
  }
  /// The ASE whose VIP (on_ilb false) or ILB (true) is `ip`, or -1.
  [[nodiscard]] int frontend_of(uint32_t ip, bool& on_ilb) const noexcept {
    for (size_t i = 0; i < ases.size(); ++i) {
      if (ases[i].vip == ip) {
        on_ilb = false;
        return static_cast<int>(i);
      }
      if (ases[i].ilb != 0 && ases[i].ilb == ip) {
        on_ilb = true;
        return static_cast<int>(i);
      }
    }
    return -1;
  }
  /// The ASE named `name`, or nullptr. Control thread.
  [[nodiscard]] const AseSpec* find_ase(std::string_view name) const noexcept {
    for (const auto& a : ases)
      if (a.name == name) return &a;
    return nullptr;
  }
  /// The ASE and instance index of an instance address, or -1.
  [[nodiscard]] int instance_of(uint32_t ip, uint32_t& index) const noexcept {
    for (size_t i = 0; i < ases.size(); ++i)
      for (size_t k = 0; k < ases[i].instances.size(); ++k)
        if (ases[i].instances[k] == ip) {
          index = static_cast<uint32_t>(k);
          return static_cast<int>(i);
        }
    return -1;
  }
  /// NSG id of the NIC at `ip` (0 = none).
  [[nodiscard]] uint16_t nic_nsg(uint32_t ip) const noexcept {
    const auto it =
        std::lower_bound(nics.begin(), nics.end(), ip, [](const NicSpec& n, uint32_t a) { return n.ip < a; });
    return it != nics.end() && it->ip == ip ? it->nsg_id : 0;
  }

  /// The route set that traffic from `src`, entering on `in`, uses.
  [[nodiscard]] uint16_t route_set_for(Port in, uint32_t src) const noexcept {
    if (in != Port::kVnet) return 0;
    const SubnetSpec* s = subnet_of(src);
    return s != nullptr ? s->route_set : 0;
  }
  /// Reference longest-prefix match: a plain scan, the oracle for rte_fib.
  [[nodiscard]] std::optional<uint32_t> lookup_reference(uint32_t dst, uint16_t set = 0) const noexcept {
    std::optional<uint32_t> best;
    int best_len = -1;
    if (set >= route_sets.size()) return std::nullopt;
    for (const auto& r : route_sets[set]) {
      if (r.prefix.contains(dst) && static_cast<int>(r.prefix.len) > best_len) {
        best = r.next_hop;
        best_len = r.prefix.len;
      }
    }
    return best;
  }
};

}  // namespace asenet::dataplane

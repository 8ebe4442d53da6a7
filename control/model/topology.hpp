// The topology model: what a topology file (contract section 2) says, after
// parsing and validation. Plain data; no DPDK.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataplane/core/time.hpp"
#include "dataplane/tables/cidr.hpp"

namespace asenet::control {

/// A position in a source file (1-based; 0 = unknown).
struct Loc {
  uint32_t line = 0;
  uint32_t col = 0;
};

/// A rejected input: prints as `file:line:col: path: message` (contract section 1).
class TopologyError : public std::runtime_error {
 public:
  TopologyError(std::string file, Loc loc, std::string path, std::string message);
  const std::string& file() const noexcept { return file_; }
  Loc loc() const noexcept { return loc_; }
  const std::string& path() const noexcept { return path_; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string file_;
  Loc loc_;
  std::string path_;
  std::string message_;
};

enum class Era { k2016, kCurrent };
enum class Direction { kInbound, kOutbound };
enum class Access { kAllow, kDeny };
enum class Protocol { kTcp, kUdp, kIcmp, kAny };
enum class NextHopKind { kVnetLocal, kInternet, kVirtualAppliance, kVirtualNetworkGateway, kNone };
enum class IlbMode { kNone, kWeb, kPublishing, kWebPublishing };
enum class LoadDistribution { kDefault, kSourceIP, kSourceIPProtocol };

struct PortRange {
  uint16_t lo = 0;
  uint16_t hi = 65535;
  bool operator==(const PortRange&) const noexcept = default;
};

/// One side of a rule: `*`, one service tag, or a list of prefixes.
struct AddressMatch {
  enum class Kind { kAny, kTag, kPrefixes } kind = Kind::kAny;
  std::string tag;             ///< canonical ARM tag name when kind == kTag
  std::vector<Cidr> prefixes;  ///< when kind == kPrefixes
  Loc loc;
};

struct NsgRule {
  std::string name;
  uint32_t priority = 0;
  Direction direction = Direction::kInbound;
  Access access = Access::kAllow;
  Protocol protocol = Protocol::kAny;
  AddressMatch source;
  std::vector<PortRange> source_ports;  ///< empty = any
  AddressMatch destination;
  std::vector<PortRange> destination_ports;
  bool is_default = false;  ///< one of Azure's six default rules
  Loc loc;
};

struct Nsg {
  std::string name;
  std::vector<NsgRule> rules;  ///< user rules as written
  bool flow_logs = false;      ///< NSG flow logs, version 2 (extension: `flow_logs = true`)
  Loc loc;
};

struct Route {
  std::string name;
  Cidr prefix;
  NextHopKind next_hop = NextHopKind::kInternet;
  std::optional<uint32_t> next_hop_ip;
  Loc loc;
};

struct RouteTable {
  std::string name;
  bool disable_bgp_route_propagation = false;
  std::vector<Route> routes;
  Loc loc;
};

struct Subnet {
  std::string name;
  Cidr prefix;
  std::optional<std::string> nsg;
  Loc nsg_loc;
  std::optional<std::string> route_table;
  Loc route_table_loc;
  Loc loc;
};

struct AsePorts {
  std::vector<PortRange> management{{454, 455}};
  std::vector<PortRange> app{{80, 80}, {443, 443}};
  std::vector<PortRange> ftp{{21, 21}, {990, 990}, {10001, 10020}};
  std::vector<PortRange> remote_debugging{{4016, 4016}, {4018, 4018}, {4020, 4020}, {4022, 4022}};
};

struct Ase {
  std::string name;
  std::string subnet;
  Loc subnet_loc;
  uint32_t public_vip = 0;
  std::optional<uint32_t> ilb_address;
  IlbMode ilb_mode = IlbMode::kNone;
  std::vector<uint32_t> instances;
  std::vector<uint32_t> down;  ///< instances marked down (replay: they fail their probe)
  bool tcp_reset = false;      ///< Standard LB enableTcpReset: RST both ends of an idle ESTABLISHED flow
  /// Active TCP health probes from 168.63.129.16 (asenetd; extension): the
  /// port probed on each instance (0: none), every interval seconds; this many
  /// consecutive failures mark an instance down, this many successes up again.
  uint16_t probe_port = 0;
  bool probe_http = false;  ///< probe_protocol = "Http": GET probe_path must answer 200
  std::string probe_path = "/";
  uint32_t probe_interval_s = 0;  ///< 0: the era's default (2016: 15 s, current: 5 s)
  uint32_t probe_threshold = 2;
  uint32_t probe_up_threshold = 0;  ///< 0: the era's default (2016: 2, current: 1)
  LoadDistribution load_distribution = LoadDistribution::kDefault;
  AsePorts ports;
  Loc loc;
};

struct Host {
  std::string name;
  uint32_t ip = 0;
  std::optional<std::string> nsg;
  Loc nsg_loc;
  Loc loc;
};

struct PortsConfig {
  std::optional<std::string> internet;
  std::optional<std::string> vnet;
  std::optional<std::string> onprem;
};

struct Emulator {
  Era era = Era::k2016;
  bool enforce_limits = true;
  bool decrement_ttl = true;
  uint32_t flow_idle_timeout_s = dataplane::kDefaultFlowIdleTimeoutS;  ///< Azure's 4-minute flow (and LB idle) timeout
  uint32_t tcp_fin_timeout_s = dataplane::kDefaultTcpFinTimeoutS;      ///< a flow lingers this long after both FINs
  uint32_t tcp_rst_timeout_s = dataplane::kDefaultTcpRstTimeoutS;      ///< and this long after an RST
  uint32_t flow_table_size = 262144;                                   ///< flows per worker (Azure: 500,000 per NIC)
  uint32_t mtu = 1500;                                                 ///< IPv4 MTU of every port (Azure VNets: 1500)
};

/// [l2] (extension): real hosts on the ports. With `arp`, the fabric answers
/// ARP and resolves next hops' MACs (dataplane L2Spec).
struct L2 {
  bool arp = false;
  std::optional<uint32_t> internet_next_hop, onprem_next_hop;  ///< a router on that side
  std::optional<uint32_t> internet_fabric_ip, onprem_fabric_ip,
      vnet_fabric_ip;  ///< sender of the fabric's ARP requests
  uint32_t neighbor_timeout_s = 300;
};

struct Topology {
  std::string file;  ///< the path it was loaded from, for messages
  Emulator emulator;
  L2 l2;
  std::string vnet_name;
  std::vector<Cidr> address_space;
  std::vector<Subnet> subnets;
  std::vector<Ase> ases;
  std::vector<Host> hosts;
  std::vector<Nsg> nsgs;
  std::vector<RouteTable> route_tables;
  bool has_gateway = false;
  std::vector<Cidr> gateway_bgp_routes;
  std::map<std::string, std::vector<Cidr>> service_tags;  ///< user-defined, by name
  PortsConfig ports;
  std::vector<std::string> warnings;  ///< accepted but suspicious, as `file:line:col: path: message`

  [[nodiscard]] const Subnet* find_subnet(const std::string& name) const;
  [[nodiscard]] const Nsg* find_nsg(const std::string& name) const;
  [[nodiscard]] const RouteTable* find_route_table(const std::string& name) const;
  [[nodiscard]] bool in_vnet(uint32_t ip) const;
};

/// Reads, parses and validates a topology file. Throws TopologyError on any
/// problem (the first one found); never returns a half-valid model.
Topology load_topology(const std::string& path);
/// Same, from text (tests); `file` is used in messages.
Topology load_topology_text(const std::string& text, const std::string& file);

/// Names as printed by messages and the CLI.
const char* to_string(Direction d);
const char* to_string(Access a);
const char* to_string(Protocol p);
const char* to_string(NextHopKind k);
const char* to_string(IlbMode m);
const char* to_string(LoadDistribution d);

}  // namespace asenet::control

// asenetctl bench --topology: traffic from the user's own topology. For each
// path the topology has (the Internet to each VIP's served ports, on-premises
// to each ILB, instances to the Internet and to the VNet's hosts) and each NSG
// rule that allows something on it, a connection template the rule admits
// (computed exactly, control/analysis), kept only when the whole path admits
// it; or the frames of a capture (--pcap), replayed from memory.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/model/topology.hpp"
#include "dataplane/core/fabric.hpp"
#include "dataplane/tables/table_spec.hpp"

struct rte_mbuf;

namespace asenet::control::bench {

/// Connections of one template: connection k varies the source port over
/// sport_n ports, then the source (src_n addresses) or the destination (dst_n).
struct UserFlow {
  uint8_t proto = 6;
  uint32_t src = 0, src_n = 1;
  uint32_t dst = 0, dst_n = 1;
  uint16_t sport = 1024;
  uint32_t sport_n = 1;
  uint16_t dport = 0;
  dataplane::Port side = dataplane::Port::kInternet;
  std::string path;  ///< "Internet -> VIP 192.23.1.2:443", for the report
  std::string rule;  ///< the rule that admits it, "NSG securityRules/X"
};

struct UserTraffic {
  std::vector<UserFlow> flows;
  size_t refused = 0;  ///< templates a later NSG on the path denies (left out)
  /// --pcap: the capture's frames and the side each enters on.
  std::vector<std::vector<uint8_t>> frames;
  std::vector<dataplane::Port> frame_sides;
  uint64_t capture_flows = 0;
};

/// Templates for every allowing rule on every path of `topo`.
UserTraffic traffic_from_topology(const Topology& topo, const dataplane::TableSpec& spec);
/// The IPv4 frames of a capture (Ethernet), with the side each enters on: from
/// the VNet, from on-premises (the gateway's prefixes), else the Internet.
bool traffic_from_pcap(const std::string& path, const Topology& topo, UserTraffic& t, std::string& why);

/// Connection i (established: an ACK, new: a SYN; UDP has no flags).
void write_user_flow(rte_mbuf* m, const UserTraffic& t, uint64_t i, uint8_t flags, dataplane::Port& side);
/// Frame i of the capture (modulo its length).
void write_user_frame(rte_mbuf* m, const UserTraffic& t, uint64_t i, dataplane::Port& side);

}  // namespace asenet::control::bench

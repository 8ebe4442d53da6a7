// compile(): Topology -> TableSpec, the plain-data tables the data plane builds
// its DPDK structures from. Pure function, no EAL, control thread only.
#pragma once

#include <cstdint>

#include "control/model/topology.hpp"
#include "dataplane/tables/table_spec.hpp"

namespace asenet::control {

/// Effective routes of the fabric as seen by the data path at this stage: system
/// routes (VNet ranges -> VnetLocal, 0.0.0.0/0 -> Internet, era "current": the
/// RFC 1918 and 100.64/10 None routes outside the VNet), gateway BGP prefixes ->
/// VirtualNetworkGateway (BGP beats an equal system prefix; VNet ranges beat any
/// BGP prefix inside them), and the fabric's own addresses (VIPs, ILBs) as Local.
dataplane::TableSpec compile(const Topology& topo, uint64_t generation);

/// Rebuilds an ASE's Maglev table over the instances whose `up` is set (empty
/// when none is). Used by compile() and by live health changes.
void rebuild_maglev(dataplane::AseSpec& ase);

/// Route origin ranks: on equal prefixes the higher wins (user > BGP > system).
inline constexpr int kRankSystem = 0, kRankBgp = 1, kRankUser = 2;
/// The fabric's own VIP / ILB /32s: routes of the data path, not Azure routes.
inline constexpr int kRankFabric = 3;

/// One route a subnet could use, as Azure's effective-routes view lists it.
struct RouteCandidate {
  Cidr prefix;
  dataplane::NextHop hop;
  int rank = 0;         ///< 0 system, 1 BGP, 2 user, 3 the fabric's own addresses
  std::string source;   ///< "Default" | "VirtualNetworkGateway" | "User"
  std::string name;     ///< the user route's name (or what a fabric /32 is)
  bool valid = true;    ///< false: can never be active (the note says why)
  bool active = false;  ///< the route its prefix resolves to
  std::string note;
  /// Shown by effective-routes and next-hop (the fabric's own /32s are not).
  [[nodiscard]] bool is_azure_route() const noexcept { return rank != kRankFabric; }
};

/// The route Azure's next hop reports for `dst`: the longest active prefix
/// among Azure routes, or nullptr.
const RouteCandidate* effective_route(const std::vector<RouteCandidate>& routes, uint32_t dst);

/// Every route of a subnet's effective route set, active or not: system
/// routes, gateway BGP prefixes (unless its route table disables propagation),
/// its route table's routes, the fabric's VIPs and ILBs. `subnet` nullptr:
/// traffic not leaving a subnet with a route table.
std::vector<RouteCandidate> route_candidates(const Topology& topo, const Subnet* subnet);

/// The smallest list of prefixes covering exactly the union of `in`.
std::vector<Cidr> normalize_prefixes(const std::vector<Cidr>& in);
/// The smallest list of prefixes covering every address not in `in`.
std::vector<Cidr> complement_prefixes(const std::vector<Cidr>& in);
/// The addresses a service tag stands for in this topology (contract section 2):
/// VirtualNetwork = VNet ranges + gateway BGP prefixes + UDR prefixes +
/// 168.63.129.16; AzureLoadBalancer = 168.63.129.16/32; Internet = the rest;
/// others from [service_tags]. Normalised.
std::vector<Cidr> expand_service_tag(const Topology& topo, const std::string& tag);

/// One NSG rule as compiled data: tags expanded, ports as spans.
dataplane::NsgRuleSpec compile_rule(const Topology& topo, const NsgRule& rule, uint32_t nsg_index);
/// Azure's six default rules for an NSG (azure-semantics 6.2), compiled.
std::vector<dataplane::NsgRuleSpec> default_rules(const Topology& topo, uint32_t nsg_index);

}  // namespace asenet::control

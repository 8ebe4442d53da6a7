// compile(): Topology -> TableSpec, the plain-data tables the data plane builds
// its DPDK structures from. Pure function, no EAL, control thread only.
#pragma once

#include <cstdint>

#include "control/topology.hpp"
#include "dataplane/tables/table_spec.hpp"

namespace asenet::control {

/// Effective routes of the fabric as seen by the data path at this stage: system
/// routes (VNet ranges -> VnetLocal, 0.0.0.0/0 -> Internet, era "current": the
/// RFC 1918 and 100.64/10 None routes outside the VNet), gateway BGP prefixes ->
/// VirtualNetworkGateway (BGP beats an equal system prefix; VNet ranges beat any
/// BGP prefix inside them), and the fabric's own addresses (VIPs, ILBs) as Local.
dataplane::TableSpec compile(const Topology& topo, uint64_t generation);

}  // namespace asenet::control

// asenetctl graph: a picture of a topology in Graphviz DOT (issue 7): the
// VNet and its subnets, ASEs with VIP / ILB and instances, hosts, NSGs and
// route tables where they are attached, the gateway with its BGP prefixes,
// and the data plane's three ports.
#pragma once

#include <string>

#include "control/model/topology.hpp"

namespace asenet::control {

std::string topology_dot(const Topology& t);

}  // namespace asenet::control

// The three sides' devices: vdevs asenetd probes itself, devices EAL
// already probed, tap:NAME; with the checks that make a mistake one line
// (a TAP without CAP_NET_ADMIN, net_null without no-rx=1, one device twice).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "control/model/topology.hpp"
#include "dataplane/core/fabric.hpp"

namespace asenet::daemon {

/// Finds or probes the device for one side; returns its port id or -1.
int attach_port(const std::string& spec, std::string& error);

/// Every side of the topology's [ports]: false with a `file: ports.SIDE: why`
/// line in `error` when one is missing, cannot be attached or repeats another.
bool attach_ports(const control::Topology& topo, std::array<uint16_t, dataplane::kNumPorts>& ids, std::string& error);

}  // namespace asenet::daemon

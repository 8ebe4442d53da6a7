// DPDK telemetry commands /asenet/stats, /ports, /drops, /rule_hits, /snat:
// answered on DPDK's telemetry thread from the agent's mutex-guarded copy of
// the last snapshot, never from worker state.
#pragma once

#include <string>
#include <string_view>

#include "daemon/agent.hpp"

namespace asenet::daemon {

/// Telemetry names may hold letters, digits, '_' and '/' only: every other
/// character becomes '_', cut below 128 bytes.
std::string tel_name(std::string_view in);

/// Registers the commands over `live` (until unregister_telemetry()).
void register_telemetry(control::LiveDataplane& live);
/// The commands answer nothing after this (asenetd is stopping).
void unregister_telemetry();

}  // namespace asenet::daemon

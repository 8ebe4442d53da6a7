// Counters as JSON, shared by replay's summary.json and asenetd's --summary.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/pipeline/pipeline.hpp"

namespace asenet::control {

/// Sums every worker's counters. Read after the workers stopped.
dataplane::WorkerCounters sum_counters(const std::vector<std::unique_ptr<dataplane::WorkerContext>>& ctxs);

/// {"internet":N,"vnet":N,"onprem":N}
std::string per_port_json(const std::array<uint64_t, dataplane::kNumPorts>& v);
/// {"REASON":N,...}: the non-zero reasons, in the enum's order.
std::string drops_json(const dataplane::WorkerCounters& c);
/// {"INSTANCE_IP":N,...}: snat_exhausted drops per instance (non-zero only).
std::string snat_exhausted_json(const dataplane::WorkerCounters& c, const dataplane::TableSpec& spec);
/// {"NSG/RULE":N,...}: the non-zero rule counters, sorted by name.
std::string rule_hits_json(const dataplane::TableSet& ts);

}  // namespace asenet::control

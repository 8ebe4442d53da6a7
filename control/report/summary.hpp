// Counters as JSON, shared by replay's summary.json and asenetd's --summary.
#pragma once

#include <array>
#include <map>
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
/// Rule hits by "NSG/RULE", sorted (stable output). Generations come and go;
/// names are what stays comparable across them.
using RuleHits = std::map<std::string, uint64_t>;
/// Adds a generation's non-zero counters into `into`.
void add_rule_hits(const dataplane::TableSet& ts, RuleHits& into);
/// {"NSG/RULE":N,...}: the non-zero rule counters, sorted by name.
std::string rule_hits_json(const RuleHits& hits);
std::string rule_hits_json(const dataplane::TableSet& ts);

/// One trace.jsonl line (contract: replay --trace). `live`: also the packet's
/// time, worker and 5-tuple (asenetctl trace). Rule and route names come from
/// `spec`; a record from an older generation prints what still resolves.
std::string trace_line(uint64_t index, const dataplane::TraceRecord& r, const dataplane::TableSpec& spec,
                       bool live = false);

}  // namespace asenet::control

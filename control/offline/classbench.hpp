// ClassBench rule sets and traces (the format dpdk-test-acl reads) through the
// NSG classifier's rte_acl path: same key layout, same builder, same classify.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/tables/acl.hpp"

namespace asenet::control {

/// Parses a ClassBench filter file; line order = priority (first line wins).
/// Throws std::runtime_error("file:line: message") on a bad line.
std::vector<dataplane::AclRule> load_classbench_rules(const std::string& path);
/// Parses a trace: `src dst sport dport proto [flags] id`, decimal.
std::vector<dataplane::FiveTuple> load_classbench_trace(const std::string& path);

/// First-match by plain scan (the oracle): 0-based index or UINT32_MAX.
uint32_t classbench_reference(const std::vector<dataplane::AclRule>& rules, const dataplane::FiveTuple& t);

}  // namespace asenet::control

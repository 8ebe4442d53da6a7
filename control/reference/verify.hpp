// IP flow verify (Network Watcher, azure-semantics 9.1), offline, through the
// reference evaluator over the compiled rules.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dataplane/tables/table_spec.hpp"

namespace asenet::control {

struct VerifyQuery {
  dataplane::NsgDirection direction = dataplane::NsgDirection::kInbound;
  uint8_t proto = 6;
  uint32_t local_ip = 0;
  uint16_t local_port = 0;
  uint32_t remote_ip = 0;
  uint16_t remote_port = 0;
};

struct VerifyStep {
  std::string nsg;
  std::string rule_name;  ///< "securityRules/X" or "defaultSecurityRules/X"
  bool allow = false;
  std::string level;  ///< "subnet" or "nic"
};

struct VerifyResult {
  bool allow = true;
  std::vector<VerifyStep> steps;  ///< in evaluation order; the last one decided
};

/// Walks the NSGs on the local endpoint's path in Azure's order (inbound:
/// subnet then NIC; outbound: NIC then subnet; a deny ends it). nullopt when the
/// local address is in no subnet of the topology.
std::optional<VerifyResult> verify_flow(const dataplane::TableSpec& spec, const VerifyQuery& q);

/// Evaluates one NSG (index into spec.nsgs) alone.
VerifyResult verify_one(const dataplane::TableSpec& spec, uint32_t nsg, const VerifyQuery& q);

/// The JSON document of the contract: {"access","ruleName","nsg","evaluations"}.
std::string verify_json(const VerifyResult& r);

}  // namespace asenet::control

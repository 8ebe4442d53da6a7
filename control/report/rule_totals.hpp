// Bytes and packets per NSG rule, the control side of the data plane's rule
// sets (dataplane/flow/rule_tally.hpp): which rules each epoch's ids name,
// and what the sets the workers gave back had counted.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "dataplane/flow/rule_tally.hpp"
#include "dataplane/tables/table_spec.hpp"

namespace asenet::control {

/// What the flows a rule allowed carried: [0] initiator to responder, [1] back.
struct RuleTraffic {
  std::array<uint64_t, 2> packets{};
  std::array<uint64_t, 2> bytes{};
};
using RuleTrafficMap = std::map<std::string, RuleTraffic>;  ///< "NSG/RULE" -> traffic

/// Control thread only.
class RuleTotals {
 public:
  /// The rules epoch for tables built from `spec`, about to be published:
  /// the current one when they name the same rules in the same order (a
  /// health change, a push that changed no NSG), else a new one.
  uint64_t epoch_for(const dataplane::TableSpec& spec);
  /// Every rule's traffic so far: what drained sets left (folded here, and
  /// the sets given back to their workers) plus the sets still counting.
  /// Epochs no set names any more lose their names.
  [[nodiscard]] RuleTrafficMap collect(const std::vector<dataplane::RuleTally*>& tallies);

 private:
  void add(const dataplane::RuleSet& s, RuleTrafficMap& into) const;
  uint64_t epoch_ = 0;
  std::map<uint64_t, std::vector<std::string>> names_;  ///< epoch -> "NSG/RULE" per rule id
  RuleTrafficMap folded_;
};

}  // namespace asenet::control

#include "control/report/rule_totals.hpp"

#include <set>

namespace asenet::control {

using namespace asenet::dataplane;

uint64_t RuleTotals::epoch_for(const TableSpec& spec) {
  std::vector<std::string> names;
  names.reserve(spec.nsg_rules.size());
  for (const auto& r : spec.nsg_rules) names.push_back(spec.nsgs[r.nsg].name + "/" + r.name);
  const auto cur = names_.find(epoch_);
  if (cur != names_.end() && cur->second == names) return epoch_;
  names_[++epoch_] = std::move(names);
  return epoch_;
}

void RuleTotals::add(const RuleSet& s, RuleTrafficMap& into) const {
  const auto it = names_.find(s.epoch);
  if (it == names_.end()) return;  // cannot happen: an epoch is named until no set holds it
  for (uint8_t i = 0; i < s.nrules && i < s.rule.size(); ++i) {
    if (s.rule[i] >= it->second.size()) continue;
    RuleTraffic& t = into[it->second[s.rule[i]]];
    for (unsigned d = 0; d < 2; ++d) {
      t.packets[d] += s.packets[d].load(std::memory_order_relaxed);
      t.bytes[d] += s.bytes[d].load(std::memory_order_relaxed);
    }
  }
}

RuleTrafficMap RuleTotals::collect(const std::vector<RuleTally*>& tallies) {
  RuleTrafficMap live;
  std::set<uint64_t> held = {epoch_};
  for (RuleTally* t : tallies) {
    if (t == nullptr) continue;
    t->collect([&](const RuleSet& s, bool drained) {
      add(s, drained ? folded_ : live);
      if (!drained) held.insert(s.epoch);
    });
  }
  for (auto it = names_.begin(); it != names_.end();) it = held.count(it->first) ? std::next(it) : names_.erase(it);
  for (const auto& [k, v] : folded_) {
    RuleTraffic& t = live[k];
    for (unsigned d = 0; d < 2; ++d) {
      t.packets[d] += v.packets[d];
      t.bytes[d] += v.bytes[d];
    }
  }
  return live;
}

}  // namespace asenet::control

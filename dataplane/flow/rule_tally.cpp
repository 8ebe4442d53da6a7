#include "dataplane/flow/rule_tally.hpp"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

#include <algorithm>
#include <cstring>

namespace asenet::dataplane {

RuleTally::~RuleTally() { rte_hash_free(index_); }

bool RuleTally::init(const std::string& name, uint32_t sets, std::string& error) {
  if (sets == 0 || sets > UINT16_MAX) {
    error = "rule tally " + name + ": between 1 and 65535 sets";
    return false;
  }
  rte_hash_parameters p{};
  p.name = name.c_str();
  p.entries = std::max<uint32_t>(sets, 64);  // rte_hash wants at least a bucket's worth
  p.key_len = sizeof(Key);
  p.hash_func = rte_hash_crc;
  p.socket_id = SOCKET_ID_ANY;
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;  // single writer, the worker; no bucket-collision failures
  index_ = rte_hash_create(&p);
  if (index_ == nullptr) {
    error = "rte_hash_create " + name + ": " + rte_strerror(rte_errno);
    return false;
  }
  sets_ = std::vector<RuleSet>(static_cast<size_t>(sets) + 1);
  free_.reserve(sets);
  for (uint32_t id = sets; id >= 1; --id) free_.push_back(static_cast<uint16_t>(id));  // 1 is taken first
  return true;
}

RuleTally::Key RuleTally::key_of(uint64_t epoch, const NsgVerdicts& v) noexcept {
  Key k;
  k.epoch = epoch;
  k.nrules = v.count;
  for (uint8_t i = 0; i < v.count && i < k.rule.size(); ++i) k.rule[i] = v.rule[i];
  return k;
}

uint16_t RuleTally::intern(uint64_t epoch, const NsgVerdicts& v) noexcept {
  if (v.count == 0 || index_ == nullptr) return 0;
  if (epoch != epoch_) {
    epoch_ = epoch;
    sweep();  // sets of older epochs nobody holds any more go back
  }
  const Key k = key_of(epoch, v);
  // The recent verdicts first, a slot per hash: a slot holds an id only, the
  // set itself says whether it still is this verdict (no invalidation).
  uint16_t& slot = recent_[rte_hash_crc(&k, sizeof k, 0) % recent_.size()];
  uint16_t id = slot;
  if (id == 0 || !holds(sets_[id], k)) {
    void* data = nullptr;
    if (rte_hash_lookup_data(index_, &k, &data) >= 0) {
      id = static_cast<uint16_t>(reinterpret_cast<uintptr_t>(data));
    } else {
      id = take_set();
      if (id == 0 || !fill(id, k)) {
        uncounted_.store(uncounted_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
        return 0;
      }
    }
    slot = id;
  }
  sets_[id].live++;
  return id;
}

bool RuleTally::holds(const RuleSet& s, const Key& k) noexcept {
  return s.state.load(std::memory_order_relaxed) == RuleSet::kActive && s.epoch == k.epoch && s.nrules == k.nrules &&
         s.rule == k.rule;
}

bool RuleTally::fill(uint16_t id, const Key& k) noexcept {
  RuleSet& s = sets_[id];
  s.epoch = k.epoch;
  s.nrules = static_cast<uint8_t>(k.nrules);
  s.rule = k.rule;
  s.live = 0;
  for (unsigned d = 0; d < 2; ++d) {
    s.packets[d].store(0, std::memory_order_relaxed);
    s.bytes[d].store(0, std::memory_order_relaxed);
  }
  if (rte_hash_add_key_data(index_, &k, reinterpret_cast<void*>(uintptr_t{id})) != 0) {
    free_.push_back(id);
    return false;
  }
  s.state.store(RuleSet::kActive, std::memory_order_release);  // its fields are there before it is seen
  if (id >= high_water_.load(std::memory_order_relaxed)) high_water_.store(id + 1u, std::memory_order_release);
  return true;
}

uint16_t RuleTally::take_set() noexcept {
  if (free_.empty() && drained_ > 0) {
    // Sets the control thread has folded come back: one pass over the sets
    // taken so far (a rare event: only after pushes that changed rules).
    const uint32_t hw = high_water_.load(std::memory_order_relaxed);
    for (uint32_t id = 1; id < hw; ++id) {
      if (sets_[id].state.load(std::memory_order_acquire) != RuleSet::kFolded) continue;
      sets_[id].state.store(RuleSet::kFree, std::memory_order_relaxed);
      free_.push_back(static_cast<uint16_t>(id));
      --drained_;
    }
  }
  if (free_.empty()) return 0;
  const uint16_t id = free_.back();
  free_.pop_back();
  return id;
}

void RuleTally::release(uint16_t id) noexcept {
  RuleSet& s = sets_[id];
  if (s.live > 0) --s.live;
  // A set of the epoch now interned stays: its next flow is likely soon.
  if (s.live == 0 && s.epoch != epoch_) drain(id);
}

void RuleTally::drain(uint16_t id) noexcept {
  RuleSet& s = sets_[id];
  const Key k{s.epoch, s.rule, s.nrules, 0};
  rte_hash_del_key(index_, &k);
  ++drained_;
  s.state.store(RuleSet::kDrained, std::memory_order_release);  // after its last count
}

void RuleTally::sweep() noexcept {
  const uint32_t hw = high_water_.load(std::memory_order_relaxed);
  for (uint32_t id = 1; id < hw; ++id) {
    RuleSet& s = sets_[id];
    if (s.state.load(std::memory_order_relaxed) == RuleSet::kActive && s.live == 0 && s.epoch != epoch_)
      drain(static_cast<uint16_t>(id));
  }
}

}  // namespace asenet::dataplane

// Bytes and packets per NSG rule, for every NSG (issue 19): what Traffic
// Analytics derives from flow logs, counted in the data plane whether flow
// logs are on or not.
//
// A flow's NSG verdict is the rule each level decided (NsgVerdicts: up to
// four). Flows judged alike share one RuleSet: the worker interns the
// (rules epoch, verdict) pair when it installs the flow, keeps the set's id in
// the flow (Flow::rule_set, 2 bytes) and adds every packet of the flow to
// the set's counters: one add to a line that stays in the cache (a few sets
// take every flow), no lookup per packet. The control thread reads the sets
// and names their rules with the epoch's rule names.
//
// Rules epoch: rule ids index one generation's TableSpec::nsg_rules. A push
// that changes no rule (a health change) keeps the epoch; one that does gives
// a new one, while flows established before it go on counting against the
// rules that allowed them (azure-semantics: established flows survive a rule
// change), named with the old epoch's names.
//
// Sets are recycled: when the last flow of a set from an older epoch ends,
// the worker hands the set to the control thread (kDrained), which folds its
// counts into its totals and gives it back (kFolded); the worker takes it
// again when it needs a set. Only the worker writes a set's counters; the
// control thread reads them with relaxed loads (a moment's figure, like
// every other live counter). When every set is taken a new flow is counted
// in no set (uncounted()), never dropped.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/core/packet.hpp"

struct rte_hash;

namespace asenet::dataplane {

struct alignas(64) RuleSet {
  enum State : uint8_t { kFree, kActive, kDrained, kFolded };
  std::array<std::atomic<uint64_t>, 2> packets{};  ///< [0] initiator -> responder, [1] back
  std::array<std::atomic<uint64_t>, 2> bytes{};    ///< IP bytes (total length), as flow logs count them
  std::atomic<uint8_t> state{kFree};
  uint8_t nrules = 0;
  uint32_t live = 0;  ///< flows that point at it (worker only)
  uint64_t epoch = 0;
  std::array<uint32_t, 4> rule{};  ///< global rule ids of `epoch`, in evaluation order
};
static_assert(sizeof(RuleSet) == 64, "one set, one cache line");

class RuleTally {
 public:
  /// Sets per worker (id 0 means none): 1 MiB of counters.
  static constexpr uint32_t kDefaultSets = 16384;
  RuleTally() = default;
  ~RuleTally();
  RuleTally(const RuleTally&) = delete;
  RuleTally& operator=(const RuleTally&) = delete;

  /// Control thread, before the worker starts.
  bool init(const std::string& name, uint32_t sets, std::string& error);

  // --- the worker --------------------------------------------------------
  /// The set for a flow allowed under `epoch` by `v`, with the flow counted
  /// in it; 0 when v names no rule or every set is taken (uncounted()).
  /// Slow path: a CRC of the verdict and one compare for a recent one, else a hash lookup.
  uint16_t intern(uint64_t epoch, const NsgVerdicts& v) noexcept;
  /// One packet of a flow in set `id` (id != 0), in direction `dir`.
  void count(uint16_t id, unsigned dir, uint32_t ip_bytes) noexcept { count_in(sets_[id], dir, ip_bytes); }
  static void count_in(RuleSet& s, unsigned dir, uint32_t ip_bytes) noexcept {
    s.packets[dir].store(s.packets[dir].load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    s.bytes[dir].store(s.bytes[dir].load(std::memory_order_relaxed) + ip_bytes, std::memory_order_relaxed);
  }
  /// The sets, indexed by id: the hot path counts through this pointer
  /// (WorkerContext::rule_sets), one load fewer than through the tally.
  [[nodiscard]] RuleSet* sets() noexcept { return sets_.data(); }
  /// A flow of set `id` ended (FlowTable::remove).
  void release(uint16_t id) noexcept;

  // --- the control thread ------------------------------------------------
  /// fn(set) for every set that holds counts: active ones as they stand,
  /// drained ones for the last time (each is given back after fn returned:
  /// the caller folds it into its totals). `drained` says which.
  template <typename Fn>
  void collect(Fn&& fn) {
    const uint32_t hw = high_water_.load(std::memory_order_acquire);
    for (uint32_t id = 1; id < hw; ++id) {
      RuleSet& s = sets_[id];
      const auto st = s.state.load(std::memory_order_acquire);
      if (st == RuleSet::kActive) {
        fn(static_cast<const RuleSet&>(s), false);
      } else if (st == RuleSet::kDrained) {
        fn(static_cast<const RuleSet&>(s), true);
        s.state.store(RuleSet::kFolded, std::memory_order_release);
      }
    }
  }
  /// Flows no set could take (every set held by live flows).
  [[nodiscard]] uint64_t uncounted() const noexcept { return uncounted_.load(std::memory_order_relaxed); }
  [[nodiscard]] uint32_t capacity() const noexcept { return static_cast<uint32_t>(sets_.size()) - 1; }

 private:
  struct Key {
    uint64_t epoch = 0;
    std::array<uint32_t, 4> rule{};
    uint32_t nrules = 0;
    uint32_t pad = 0;
  };
  static_assert(sizeof(Key) == 32, "hash key without holes");
  static Key key_of(uint64_t epoch, const NsgVerdicts& v) noexcept;
  static bool holds(const RuleSet& s, const Key& k) noexcept;
  bool fill(uint16_t id, const Key& k) noexcept;
  uint16_t take_set() noexcept;
  void drain(uint16_t id) noexcept;
  void sweep() noexcept;

  std::vector<RuleSet> sets_;
  std::vector<uint16_t> free_;         ///< sets the worker may fill (kFree)
  rte_hash* index_ = nullptr;          ///< Key -> set id, the worker's only
  uint64_t epoch_ = 0;                 ///< the newest epoch the worker interned under
  std::array<uint16_t, 64> recent_{};  ///< recently interned set ids, by the key's hash
  uint32_t drained_ = 0;               ///< sets handed to the control thread and not yet taken back
  std::atomic<uint32_t> high_water_{1};
  std::atomic<uint64_t> uncounted_{0};
};

}  // namespace asenet::dataplane

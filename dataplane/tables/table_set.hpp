// TableSet: one immutable generation of the data plane's lookup structures.
// Built on the control thread (never on a worker), published through
// TableHandover, read lock-free by every worker until RCU says it may go.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/core/time.hpp"
#include "dataplane/tables/acl.hpp"
#include "dataplane/tables/pool_map.hpp"
#include "dataplane/tables/table_spec.hpp"

struct rte_fib;

namespace asenet::dataplane {

struct FibDeleter {
  void operator()(rte_fib* fib) const noexcept;
};
using FibPtr = std::unique_ptr<rte_fib, FibDeleter>;

class TableSet {
 public:
  /// Control thread only, EAL initialised. Returns nullptr and sets `error` when
  /// DPDK cannot build a structure (out of memory, too many routes). `workers`
  /// sizes the per-worker rule counters.
  static std::unique_ptr<TableSet> build(const TableSpec& spec, unsigned workers, std::string& error);

  [[nodiscard]] uint64_t generation() const noexcept { return spec_.generation; }
  [[nodiscard]] const TableSpec& spec() const noexcept { return spec_; }
  /// Which rule ids the flows' rule sets name (rule_tally.hpp): tables whose
  /// NSG rules are the same share one epoch. Set before the tables are
  /// published (asenetd: LiveDataplane::install); 0 unless set.
  [[nodiscard]] uint64_t rules_epoch() const noexcept { return rules_epoch_; }
  void set_rules_epoch(uint64_t e) noexcept { rules_epoch_ = e; }
  /// The fabric's own addresses, sorted (VIPs, ILB addresses, instances): how
  /// packets are steered to workers (steer_worker).
  [[nodiscard]] const std::vector<uint32_t>& fabric_addresses() const noexcept { return fabric_; }
  /// DIR-24-8 FIB with 2-byte next hops (32 MiB per table; docs/design/table-handover.md),
  /// one per effective route set (TableSpec::route_sets).
  [[nodiscard]] rte_fib* fib(uint16_t set = 0) const noexcept { return fibs_[set].get(); }
  [[nodiscard]] uint16_t route_set_count() const noexcept { return static_cast<uint16_t>(fibs_.size()); }
  /// What the FIB returns when no route matches (the 0.0.0.0/0 route is its
  /// default next hop when the spec has one).
  static constexpr uint64_t kNoRoute = 0x7fff;
  /// The NSG classifier (4 categories, acl.hpp), or nullptr when no NSG is
  /// attached. When one rte_acl context cannot hold every level (rte_acl stops
  /// at 8 tries), the levels are split over up to four contexts:
  /// nsg_acl_parts() lists them with the categories each one answers.
  [[nodiscard]] const rte_acl_ctx* nsg_acl() const noexcept { return nsg_parts_ == 0 ? nullptr : nsg_acl_[0].get(); }
  struct AclPart {
    const rte_acl_ctx* ctx;
    uint32_t categories;  ///< bit c set: this context answers category c
  };
  [[nodiscard]] uint32_t nsg_acl_part_count() const noexcept { return nsg_parts_; }
  [[nodiscard]] AclPart nsg_acl_part(uint32_t i) const noexcept { return {nsg_acl_[i].get(), nsg_part_cats_[i]}; }
  /// How many rte_acl rules the NSG rules expanded to.
  [[nodiscard]] size_t acl_rule_count() const noexcept { return acl_rules_; }
  /// This worker's hit counter per NSG rule (indexed by global rule id). Only
  /// that worker writes its row; readers sum rows after the workers stopped or
  /// tolerate torn-free 64-bit reads.
  [[nodiscard]] uint64_t* rule_hits(unsigned worker) const noexcept {
    return rule_hits_.data() + static_cast<size_t>(worker) * hits_stride_;
  }
  [[nodiscard]] uint64_t rule_hits_total(uint32_t rule) const noexcept {
    uint64_t n = 0;
    for (unsigned w = 0; w < workers_; ++w) n += rule_hits_[static_cast<size_t>(w) * hits_stride_ + rule];
    return n;
  }
  [[nodiscard]] FlowTimers timers() const noexcept { return timers_; }
  /// Some NSG has flow logs on.
  [[nodiscard]] bool flow_logs() const noexcept { return flow_logs_; }
  /// Rule `id` belongs to an NSG with flow logs on.
  [[nodiscard]] bool rule_logged(uint32_t id) const noexcept {
    return id < rule_logged_.size() && rule_logged_[id] != 0;
  }
  /// In a pool: which node and worker own each connection (pool_map.hpp),
  /// set before the tables are published (asenetd: LiveDataplane::install);
  /// null for one node.
  [[nodiscard]] const PoolMap* pool_map() const noexcept { return pool_map_.get(); }
  void set_pool_map(std::shared_ptr<const PoolMap> m) noexcept { pool_map_ = std::move(m); }
  [[nodiscard]] const NextHop* next_hops() const noexcept { return spec_.next_hops.data(); }
  [[nodiscard]] uint32_t next_hop_count() const noexcept { return static_cast<uint32_t>(spec_.next_hops.size()); }

 private:
  explicit TableSet(TableSpec spec) : spec_(std::move(spec)) {}
  /// The NSG classifier: one rte_acl context for all four levels, or split by
  /// direction, then by level, when rte_acl cannot build one that big.
  bool build_nsg_acl(std::string& error);
  TableSpec spec_;
  std::vector<uint32_t> fabric_;
  std::vector<FibPtr> fibs_;
  FlowTimers timers_{};
  std::array<AclCtxPtr, 4> nsg_acl_;
  std::array<uint32_t, 4> nsg_part_cats_{};
  uint32_t nsg_parts_ = 0;
  size_t acl_rules_ = 0;
  bool flow_logs_ = false;
  std::vector<uint8_t> rule_logged_;
  unsigned workers_ = 1;
  uint64_t rules_epoch_ = 0;
  std::shared_ptr<const PoolMap> pool_map_;
  size_t hits_stride_ = 0;  ///< rules rounded up to a cache line of counters
  mutable std::vector<uint64_t> rule_hits_;
};

}  // namespace asenet::dataplane

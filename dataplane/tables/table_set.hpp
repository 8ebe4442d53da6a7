// TableSet: one immutable generation of the data plane's lookup structures.
// Built on the control thread (never on a worker), published through
// TableHandover, read lock-free by every worker until RCU says it may go.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/tables/table_spec.hpp"

struct rte_lpm;

namespace asenet::dataplane {

struct LpmDeleter {
  void operator()(rte_lpm* lpm) const noexcept;
};
using LpmPtr = std::unique_ptr<rte_lpm, LpmDeleter>;

class TableSet {
 public:
  /// Control thread only, EAL initialised. Returns nullptr and sets `error` when
  /// DPDK cannot build a structure (out of memory, too many routes).
  static std::unique_ptr<TableSet> build(const TableSpec& spec, std::string& error);

  [[nodiscard]] uint64_t generation() const noexcept { return spec_.generation; }
  [[nodiscard]] const TableSpec& spec() const noexcept { return spec_; }
  [[nodiscard]] rte_lpm* lpm() const noexcept { return lpm_.get(); }
  /// Next hop of 0.0.0.0/0 (rte_lpm has no depth 0), or kNoDefault.
  [[nodiscard]] uint32_t default_hop() const noexcept { return default_hop_; }
  static constexpr uint32_t kNoDefault = UINT32_MAX;
  [[nodiscard]] const NextHop* next_hops() const noexcept { return spec_.next_hops.data(); }
  [[nodiscard]] uint32_t next_hop_count() const noexcept {
    return static_cast<uint32_t>(spec_.next_hops.size());
  }

 private:
  explicit TableSet(TableSpec spec) : spec_(std::move(spec)) {}
  TableSpec spec_;
  LpmPtr lpm_;
  uint32_t default_hop_ = kNoDefault;
};

}  // namespace asenet::dataplane

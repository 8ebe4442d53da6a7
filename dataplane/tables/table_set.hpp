// TableSet: one immutable generation of the data plane's lookup structures.
// Built on the control thread (never on a worker), published through
// TableHandover, read lock-free by every worker until RCU says it may go.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

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
  /// DPDK cannot build a structure (out of memory, too many routes).
  static std::unique_ptr<TableSet> build(const TableSpec& spec, std::string& error);

  [[nodiscard]] uint64_t generation() const noexcept { return spec_.generation; }
  [[nodiscard]] const TableSpec& spec() const noexcept { return spec_; }
  /// DIR-24-8 FIB with 2-byte next hops (32 MiB per table; docs/design/table-handover.md).
  [[nodiscard]] rte_fib* fib() const noexcept { return fib_.get(); }
  /// What the FIB returns when no route matches (the 0.0.0.0/0 route is its
  /// default next hop when the spec has one).
  static constexpr uint64_t kNoRoute = 0x7fff;
  [[nodiscard]] const NextHop* next_hops() const noexcept { return spec_.next_hops.data(); }
  [[nodiscard]] uint32_t next_hop_count() const noexcept {
    return static_cast<uint32_t>(spec_.next_hops.size());
  }

 private:
  explicit TableSet(TableSpec spec) : spec_(std::move(spec)) {}
  TableSpec spec_;
  FibPtr fib_;
};

}  // namespace asenet::dataplane

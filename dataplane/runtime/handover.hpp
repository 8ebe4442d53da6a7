// TableHandover: how a new TableSet reaches the workers without a lock.
// The control thread publishes with a release store; workers load-acquire once
// per loop iteration and report a quiescent state (rte_rcu_qsbr) when they hold
// no pointer into the tables. The old generation is freed only after every
// registered worker has passed a quiescent point.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "dataplane/tables/table_set.hpp"

struct rte_rcu_qsbr;

namespace asenet::dataplane {

class TableHandover {
 public:
  /// Control thread, EAL initialised. `max_workers` bounds worker ids.
  explicit TableHandover(unsigned max_workers);
  ~TableHandover();
  TableHandover(const TableHandover&) = delete;
  TableHandover& operator=(const TableHandover&) = delete;

  /// Control thread only: makes `next` current and waits for every online
  /// worker to pass a quiescent state. Returns the previous generation, which
  /// no worker can still be reading (the caller reads its counters, then frees it).
  std::unique_ptr<TableSet> publish(std::unique_ptr<TableSet> next);

  /// Any worker, lock-free: the current generation (never null after the first publish).
  [[nodiscard]] const TableSet* acquire() const noexcept { return current_.load(std::memory_order_acquire); }
  [[nodiscard]] uint64_t generation() const noexcept {
    const TableSet* t = acquire();
    return t != nullptr ? t->generation() : 0;
  }

  /// Control thread: returns once every online worker has passed a quiescent
  /// point, i.e. finished whatever burst it was in when this was called.
  void synchronize() noexcept;

  /// Worker thread: call once before its loop / after it.
  void worker_online(unsigned worker_id) noexcept;
  void worker_offline(unsigned worker_id) noexcept;
  /// Worker thread: "I hold no TableSet pointer now". Cheap (one store).
  void quiescent(unsigned worker_id) noexcept;

 private:
  std::atomic<const TableSet*> current_{nullptr};
  rte_rcu_qsbr* qsv_ = nullptr;
  unsigned max_workers_;
};

}  // namespace asenet::dataplane

#include "dataplane/runtime/handover.hpp"

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <stdexcept>

namespace asenet::dataplane {

TableHandover::TableHandover(unsigned max_workers) : max_workers_(max_workers) {
  const size_t sz = rte_rcu_qsbr_get_memsize(max_workers);
  qsv_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("asenet_qsbr", sz, RTE_CACHE_LINE_SIZE));
  if (qsv_ == nullptr || rte_rcu_qsbr_init(qsv_, max_workers) != 0) {
    rte_free(qsv_);
    throw std::runtime_error("cannot allocate the RCU quiescent-state variable");
  }
}

TableHandover::~TableHandover() {
  delete current_.exchange(nullptr);
  rte_free(qsv_);
}

std::unique_ptr<TableSet> TableHandover::publish(std::unique_ptr<TableSet> next) {
  const TableSet* old = current_.exchange(next.release(), std::memory_order_acq_rel);
  if (old == nullptr) return nullptr;
  // Blocks until every online worker has reported a quiescent state after the
  // exchange above, so none can still be reading `old`.
  rte_rcu_qsbr_synchronize(qsv_, RTE_QSBR_THRID_INVALID);
  return std::unique_ptr<TableSet>(const_cast<TableSet*>(old));
}

void TableHandover::synchronize() noexcept { rte_rcu_qsbr_synchronize(qsv_, RTE_QSBR_THRID_INVALID); }

void TableHandover::worker_online(unsigned worker_id) noexcept {
  rte_rcu_qsbr_thread_register(qsv_, worker_id);
  rte_rcu_qsbr_thread_online(qsv_, worker_id);
}

void TableHandover::worker_offline(unsigned worker_id) noexcept {
  rte_rcu_qsbr_thread_offline(qsv_, worker_id);
  rte_rcu_qsbr_thread_unregister(qsv_, worker_id);
}

void TableHandover::quiescent(unsigned worker_id) noexcept { rte_rcu_qsbr_quiescent(qsv_, worker_id); }

}  // namespace asenet::dataplane

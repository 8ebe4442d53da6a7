

#include "dataplane/pipeline/context.hpp"

#include "dataplane/pipeline/fabric_frames.hpp"

namespace asenet::dataplane {

void attach_worker_tables(WorkerContext& ctx, WorkerTables& tables, rte_mempool* pool) noexcept {
  ctx.flows = tables.flows.get();
  ctx.snat = tables.snat.get();
  ctx.rules = tables.rules.get();
  ctx.rule_sets = tables.rules ? tables.rules->sets() : nullptr;
  ctx.neighbors = tables.neighbors.get();
  ctx.neighbor_copy = tables.neighbor_copy.get();
  ctx.pool = pool;
  tables.flows->set_idle_hook(send_idle_resets, &ctx);
}

void set_flow_log(WorkerContext& ctx, WorkerTables& tables, FlowLogSink* sink) noexcept {
  ctx.flow_log = sink;
  tables.end->log = sink;
  tables.end->worker = static_cast<uint16_t>(ctx.worker_id);
}

}  // namespace asenet::dataplane

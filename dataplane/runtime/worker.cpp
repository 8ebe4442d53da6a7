#include "dataplane/runtime/worker.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include <sched.h>

namespace asenet::dataplane {

int worker_main(void* arg) {
  auto& setup = *static_cast<WorkerSetup*>(arg);
  WorkerContext& ctx = *setup.ctx;
  setup.tables->worker_online(ctx.worker_id);
  Burst burst;
  std::array<Port, kBurstSize> sides{};
  unsigned idle = 0;
  while (!setup.stop->load(std::memory_order_relaxed)) {
    const TableSet* ts = setup.tables->acquire();
    bool got = false;
    for (const RxSource& src : setup.sources) {
      const uint16_t n = rte_eth_rx_burst(src.port_id, src.queue, burst.pkts.data(), kBurstSize);
      if (n == 0) continue;
      got = true;
      uint16_t kept = 0;
      for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = burst.pkts[i];
        if (src.side_in_mbuf && m->port == kTickSide) {
          // Packets before the tick first: timers must not run ahead of them.
          if (kept > 0) {
            burst.count = kept;
            stamp_burst(burst, ctx, sides.data());
            process_burst(burst, *ts, ctx);
            kept = 0;
          }
          const uint64_t seq = *RTE_MBUF_DYNFIELD(m, ctx.seq_dynfield, uint64_t*);
          run_timers(ctx, *ts, *RTE_MBUF_DYNFIELD(m, ctx.ts_dynfield, uint64_t*), seq);
          rte_pktmbuf_free(m);
          // The reader orders output by each worker's progress: a tick is progress too.
          ctx.done_seq.store(seq, std::memory_order_release);
          ctx.done_any.store(true, std::memory_order_release);
          continue;
        }
        burst.pkts[kept] = m;
        sides[kept++] = src.side_in_mbuf ? static_cast<Port>(m->port) : src.side;
      }
      if (kept == 0) continue;
      burst.count = kept;
      stamp_burst(burst, ctx, sides.data());
      process_burst(burst, *ts, ctx);
    }
    if (!got && ctx.clock == ClockMode::kTsc && ((idle + 1) & 0x3fff) == 0) {
      // Live: time passes without packets too. Timers (idle flows, SNAT
      // ports, the LB's resets) run on the TSC every ~16K empty polls, while
      // this worker still holds the tables (before its quiescent report).
      run_timers(ctx, *ts, tsc_to_ns(rte_rdtsc(), ctx.tsc_hz), ctx.next_seq);
    }
    if (ctx.control_tx != nullptr) {
      // Frames the control thread made (health probes): sent on this worker's queue.
      rte_mbuf* out[8];
      const unsigned n = rte_ring_sc_dequeue_burst(ctx.control_tx, reinterpret_cast<void**>(out), 8, nullptr);
      for (unsigned k = 0; k < n; ++k) {
        const size_t side = out[k]->port < kNumPorts ? out[k]->port : 0;
        if (rte_eth_tx_burst(ctx.tx_port_id[side], ctx.tx_queue, &out[k], 1) == 1) ctx.counters.tx[side]++;
        else rte_pktmbuf_free(out[k]);
      }
    }
    setup.tables->quiescent(ctx.worker_id);
    if (got) {
      idle = 0;
    } else if (++idle > 64) {
      if (setup.yield_when_idle) {
        sched_yield();  // replay only: never on a live worker
      } else {
        rte_pause();
      }
    }
  }
  setup.tables->worker_offline(ctx.worker_id);
  return 0;
}

}  // namespace asenet::dataplane

#include "dataplane/runtime/worker.hpp"

#include <rte_ethdev.h>
#include <rte_pause.h>

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
      burst.count = n;
      for (uint16_t i = 0; i < n; ++i) {
        sides[i] = src.side_in_mbuf ? static_cast<Port>(burst.pkts[i]->port) : src.side;
      }
      stamp_burst(burst, ctx, sides.data());
      process_burst(burst, *ts, ctx);
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

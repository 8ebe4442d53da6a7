// RCU table hand-over (dataplane/runtime/handover): a hundred generations under traffic lose nothing and free the old
// tables.
#include <gtest/gtest.h>
#include <rte_acl.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "dataplane/core/checksum.hpp"
#include "dataplane/pipeline/pipeline.hpp"
#include "dataplane/ports/ports.hpp"
#include "dataplane/runtime/handover.hpp"
#include "dataplane/runtime/worker.hpp"
#include "dataplane/tables/acl.hpp"
#include "tests/eal/support/eal_rig.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::dataplane;
using namespace asenet::eal_test;

TEST(Handover, HundredGenerationsUnderTrafficLoseNothingAndFreeOldTables) {
  Rig rig;
  TableHandover handover(1);
  std::string err;
  // Generation 1 has the same shape as the later ones, so the heap comparison
  // below measures leaks, not a different table size.
  auto with_gen_route = [](uint64_t gen) {
    std::string t = kTopo;
    t.replace(t.find("[\"172.16.0.0/12\"]"), 17, "[\"172.16.0.0/12\", \"203.0." + std::to_string(gen) + ".0/24\"]");
    return t;
  };
  auto first = TableSet::build(spec_of(with_gen_route(1), 1), 1, err);
  ASSERT_TRUE(first) << err;
  handover.publish(std::move(first));
  rte_malloc_socket_stats before{};
  rte_malloc_get_socket_stats(rte_socket_id(), &before);

  std::atomic<bool> stop{false};
  rig.ctx.clock = ClockMode::kTsc;
  rig.ctx.tsc_hz = rte_get_tsc_hz();
  WorkerSetup setup;
  setup.ctx = &rig.ctx;
  setup.sources = {RxSource{rig.ports.in_port, 0, Port::kVnet, false}};
  setup.tables = &handover;
  setup.stop = &stop;
  const unsigned lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
  ASSERT_LT(lcore, RTE_MAX_LCORE) << "needs a worker lcore";
  ASSERT_EQ(rte_eal_remote_launch(worker_main, &setup, lcore), 0);

  uint64_t sent = 0, received = 0;
  const auto frame = udp_frame("10.0.1.4", "10.0.2.4");
  for (uint64_t gen = 2; gen <= 101; ++gen) {
    // Each generation routes differently, so a stale table would show.
    auto next = TableSet::build(spec_of(with_gen_route(gen), gen), 1, err);
    ASSERT_TRUE(next) << err;
    for (int i = 0; i < 64; ++i) {
      rte_mbuf* m = mbuf_of(frame);
      while (rte_ring_enqueue(rig.ports.in_rings[0], m) != 0) {}
      ++sent;
    }
    handover.publish(std::move(next));
    EXPECT_EQ(handover.generation(), gen);
    // The live tables are this generation's: its own /24 goes on-premises.
    const auto& live = handover.acquire()->spec();
    const auto h = live.lookup_reference(*parse_ipv4(("203.0." + std::to_string(gen) + ".1").c_str()));
    ASSERT_TRUE(h.has_value());
    EXPECT_EQ(live.next_hops[*h].type, NextHopType::kVirtualNetworkGateway);
    for (auto* m : rig.drain(Port::kVnet)) {
      ++received;
      rte_pktmbuf_free(m);
    }
  }
  while (received < sent) {
    for (auto* m : rig.drain(Port::kVnet)) {
      ++received;
      rte_pktmbuf_free(m);
    }
  }
  stop.store(true);
  rte_eal_wait_lcore(lcore);
  EXPECT_EQ(received, sent);
  EXPECT_EQ(rig.ctx.counters.forwarded, sent);
  rte_malloc_socket_stats after{};
  rte_malloc_get_socket_stats(rte_socket_id(), &after);
  // 100 generations were built and 99 freed: the heap is where it was with one.
  EXPECT_EQ(after.heap_allocsz_bytes, before.heap_allocsz_bytes);
}

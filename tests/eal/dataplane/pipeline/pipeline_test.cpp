// The whole pipeline on real mbufs and ring-PMD ports: forwarding, NAT rewriting, counting, garbage.
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

TEST(Pipeline, ForwardsRewritesAndCountsOnRealMbufs) {
  Rig rig;
  std::string err;
  auto ts = TableSet::build(spec_of(kTopo, 1), 1, err);
  ASSERT_TRUE(ts) << err;
  const unsigned avail_before = rte_mempool_avail_count(g_pool);
  rig.ctx.fake_now_ns = 123456789;
  Burst b;
  const std::vector<std::pair<std::vector<uint8_t>, Port>> in = {
      {udp_frame("10.0.1.4", "10.0.2.4"), Port::kVnet},            // VNet -> vnet
      {udp_frame("10.0.1.4", "172.16.5.10"), Port::kVnet},         // BGP -> onprem
      {udp_frame("172.16.5.10", "8.8.8.8"), Port::kOnprem},        // default -> internet
      {udp_frame("10.0.1.4", "10.0.2.4", 1), Port::kVnet},         // TTL 1 -> dropped
      {udp_frame("198.51.100.1", "192.23.1.2"), Port::kInternet},  // VIP, no frontend
  };
  std::array<Port, kBurstSize> sides{};
  for (const auto& [bytes, side] : in) {
    sides[b.count] = side;
    b.pkts[b.count++] = mbuf_of(bytes);
  }
  stamp_burst(b, rig.ctx, sides.data());
  EXPECT_EQ(b.meta[0].now_ns, 123456789u);  // the injected clock
  process_burst(b, *ts, rig.ctx);

  auto vnet = rig.drain(Port::kVnet), onprem = rig.drain(Port::kOnprem), inet = rig.drain(Port::kInternet);
  ASSERT_EQ(vnet.size(), 1u);
  ASSERT_EQ(onprem.size(), 1u);
  ASSERT_EQ(inet.size(), 1u);
  const uint8_t* f = rte_pktmbuf_mtod(vnet[0], const uint8_t*);
  EXPECT_EQ(f[14 + 8], 63);                 // TTL decremented
  EXPECT_EQ(ones_sum(f + 14, 20), 0xffff);  // header checksum still right
  EXPECT_EQ(std::memcmp(f + 6, kFabricMac.bytes.data(), 6), 0);
  EXPECT_EQ(std::memcmp(f, kDefaultPeerMacs[1].bytes.data(), 6), 0);
  EXPECT_EQ(rig.ctx.counters.forwarded, 3u);
  EXPECT_EQ(rig.ctx.counters.drops[static_cast<size_t>(DropReason::kTtlExceeded)], 1u);
  EXPECT_EQ(rig.ctx.counters.drops[static_cast<size_t>(DropReason::kNoFrontend)], 1u);
  EXPECT_EQ(rig.ctx.counters.rx[static_cast<size_t>(Port::kVnet)], 3u);
  for (auto* m : {vnet[0], onprem[0], inet[0]}) rte_pktmbuf_free(m);
  EXPECT_EQ(rte_mempool_avail_count(g_pool), avail_before + 0u) << "mbuf leak";
}

TEST(Pipeline, GarbageNeverCrashesAndIsAlwaysCounted) {
  Rig rig;
  std::string err;
  auto ts = TableSet::build(spec_of(kTopo, 1), 1, err);
  ASSERT_TRUE(ts) << err;
  const unsigned avail_before = rte_mempool_avail_count(g_pool);
  std::mt19937 rng(9);
  uint64_t sent = 0;
  for (int round = 0; round < 2000; ++round) {
    Burst b;
    std::array<Port, kBurstSize> sides{};
    b.count = kBurstSize;
    for (uint16_t i = 0; i < b.count; ++i) {
      auto bytes = udp_frame("10.0.1.4", "10.0.2.4");
      bytes.resize(rng() % 80);
      for (auto& x : bytes)
        if (rng() % 4 == 0) x = static_cast<uint8_t>(rng());
      b.pkts[i] = mbuf_of(bytes);
      sides[i] = static_cast<Port>(rng() % 3);
    }
    stamp_burst(b, rig.ctx, sides.data());
    process_burst(b, *ts, rig.ctx);
    sent += kBurstSize;
    for (Port p : {Port::kInternet, Port::kVnet, Port::kOnprem})
      for (auto* m : rig.drain(p)) rte_pktmbuf_free(m);
  }
  uint64_t drops = 0;
  for (auto d : rig.ctx.counters.drops) drops += d;
  EXPECT_EQ(rig.ctx.counters.forwarded + drops, sent);
  EXPECT_GT(drops, 0u);
  EXPECT_EQ(rte_mempool_avail_count(g_pool), avail_before) << "mbuf leak";
}

// EAL suite: the pipeline on real mbufs and ring-PMD ports, rte_fib against the
// reference lookup, and RCU table swaps under traffic (--no-huge).
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "dataplane/core/checksum.hpp"
#include "dataplane/pipeline/pipeline.hpp"
#include "dataplane/ports/ports.hpp"
#include "dataplane/runtime/handover.hpp"
#include "dataplane/runtime/worker.hpp"

using namespace asenet;
using namespace asenet::dataplane;

namespace {}  // namespace
rte_mempool* g_pool = nullptr;
namespace {
constexpr unsigned kPoolSize = 8191;

const char* kTopo = R"(
[vnet]
name = "vvnet"
address_space = ["10.0.0.0/16"]
[[subnets]]
name = "ase"
prefix = "10.0.1.0/26"
[[ases]]
name = "ase"
subnet = "ase"
public_vip = "192.23.1.2"
instances = ["10.0.1.4", "10.0.1.5"]
[gateway]
bgp_routes = ["172.16.0.0/12"]
)";

TableSpec spec_of(const std::string& toml, uint64_t gen) {
  return control::compile(control::load_topology_text(toml, "t.toml"), gen);
}

std::vector<uint8_t> udp_frame(const char* src, const char* dst, uint8_t ttl = 64) {
  std::vector<uint8_t> f(14 + 20 + 8 + 4, 0);
  f[12] = 0x08;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  store_be16(ip + 2, 20 + 8 + 4);
  ip[8] = ttl;
  ip[9] = kIpProtoUdp;
  const uint32_t s = *parse_ipv4(src), d = *parse_ipv4(dst);
  for (int i = 0; i < 4; ++i) {
    ip[12 + i] = static_cast<uint8_t>(s >> (24 - 8 * i));
    ip[16 + i] = static_cast<uint8_t>(d >> (24 - 8 * i));
  }
  store_be16(ip + 10, static_cast<uint16_t>(~ones_sum(ip, 20)));
  store_be16(ip + 20, 1234);
  store_be16(ip + 22, 53);
  store_be16(ip + 24, 12);
  return f;
}

rte_mbuf* mbuf_of(const std::vector<uint8_t>& bytes) {
  rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
  EXPECT_NE(m, nullptr);
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(bytes.size()));
  std::memcpy(p, bytes.data(), bytes.size());
  return m;
}

struct Rig {
  ReplayPorts ports;
  WorkerContext ctx;
  explicit Rig(unsigned workers = 1) {
    std::string err;
    EXPECT_TRUE(create_replay_ports(workers, 8192, g_pool, ports, err)) << err;
    for (size_t s = 0; s < kNumPorts; ++s) ctx.tx_port_id[s] = ports.out_port[s];
    ctx.clock = ClockMode::kFake;
  }
  ~Rig() { destroy_replay_ports(ports); }
  std::vector<rte_mbuf*> drain(Port side, unsigned w = 0) {
    std::vector<rte_mbuf*> out;
    void* buf[64];
    unsigned n;
    while ((n = rte_ring_dequeue_burst(ports.out_rings[static_cast<size_t>(side)][w], buf, 64, nullptr)) > 0)
      for (unsigned i = 0; i < n; ++i) out.push_back(static_cast<rte_mbuf*>(buf[i]));
    return out;
  }
};

}  // namespace

TEST(Fib, RouteStageAgreesWithReferenceOnRandomAndEdgeAddresses) {
  // Many BGP prefixes of every length, so the FIB's tbl24 and tbl8 both matter.
  std::mt19937 rng(42);
  std::string bgp;
  for (int i = 0; i < 300; ++i) {
    const uint8_t len = static_cast<uint8_t>(1 + rng() % 32);
    Cidr c{static_cast<uint32_t>(rng()) & Cidr{0, len}.mask(), len};
    if (Cidr{*parse_ipv4("10.0.0.0"), 16}.overlaps(c) || c.contains(*parse_ipv4("192.23.1.2"))) continue;
    bgp += (bgp.empty() ? "\"" : ", \"") + format_cidr(c) + "\"";
  }
  const TableSpec spec =
      spec_of(std::string(kTopo).replace(std::string(kTopo).find("[\"172.16.0.0/12\"]"), 17, "[" + bgp + "]"), 1);
  std::string err;
  auto ts = TableSet::build(spec, 1, err);
  ASSERT_TRUE(ts) << err;
  std::vector<uint32_t> probes;
  for (const auto& r : spec.route_sets[0]) {
    probes.push_back(r.prefix.addr);
    probes.push_back(r.prefix.last());
    probes.push_back(r.prefix.addr - 1);
    probes.push_back(r.prefix.last() + 1);
  }
  for (int i = 0; i < 200000; ++i) probes.push_back(static_cast<uint32_t>(rng()));
  WorkerContext ctx;
  Burst b;
  size_t checked = 0;
  for (size_t base = 0; base < probes.size(); base += kBurstSize) {
    b.count = static_cast<uint16_t>(std::min<size_t>(kBurstSize, probes.size() - base));
    for (uint16_t i = 0; i < b.count; ++i) {
      b.meta[i] = PacketMeta{};
      b.meta[i].dst_ip = probes[base + i];
      b.meta[i].slow = true;              // as the flow stage leaves a miss
      b.meta[i].in_port = Port::kOnprem;  // route set 0, no Internet-ingress filter
    }
    route_stage(b, *ts, ctx);
    for (uint16_t i = 0; i < b.count; ++i) {
      const auto want = spec.lookup_reference(probes[base + i]);
      ASSERT_TRUE(want.has_value());
      ASSERT_TRUE(b.meta[i].routed);
      if (!(spec.next_hops[b.meta[i].next_hop] == spec.next_hops[*want])) {
        for (const auto& r : spec.route_sets[0])
          if (r.prefix.contains(probes[base + i]))
            std::printf("  route %s -> hop %u type %d\n", format_cidr(r.prefix).c_str(), r.next_hop,
                        static_cast<int>(spec.next_hops[r.next_hop].type));
      }
      ASSERT_EQ(spec.next_hops[b.meta[i].next_hop], spec.next_hops[*want]) << format_ipv4(probes[base + i]);
      ++checked;
    }
  }
  EXPECT_GT(checked, 200000u);
}

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

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  std::string err;
  const std::string prefix = "asenet-eal-test-" + std::to_string(getpid());
  if (eal_init({"eal_tests", "--no-huge", "--no-shconf", "-m", "512", "--no-pci", "--no-telemetry", "--log-level=error",
                "--lcores", floating_lcores(2), "--file-prefix", prefix},
               err) < 0) {
    std::cerr << err << "\n";
    return 1;
  }
  g_pool = rte_pktmbuf_pool_create("test_pool", kPoolSize, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (g_pool == nullptr) return 1;
  const int rc = RUN_ALL_TESTS();
  const std::string dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return rc;
}

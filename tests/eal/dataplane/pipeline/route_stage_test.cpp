// route_stage against the reference lookup (rte_fib tbl24 and tbl8) on random and edge addresses.
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

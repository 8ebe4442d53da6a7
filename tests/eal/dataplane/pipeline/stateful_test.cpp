// Statefulness through process_burst (flow_stage and install_stage): a reply in the same burst as its SYN,
// and every packet of a flow counted against the NSG rules that allowed it.
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
#include "control/report/rule_totals.hpp"
#include "dataplane/flow/snat.hpp"
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

namespace {

/// A subnet whose NSG (no flow logs) denies the branch inbound; the branch
/// (172.16.0.0/12) is on-premises, behind the gateway.
constexpr const char* kBranchTopo = R"(
[vnet]
name = "vvnet"
address_space = "10.0.0.0/16"
[[subnets]]
name = "s"
prefix = "10.0.1.0/24"
nsg = "n"
[[nsgs]]
name = "n"
[[nsgs.rules]]
name = "DenyBranch"
priority = 100
direction = "Inbound"
access = "Deny"
protocol = "*"
source_address_prefixes = "172.16.0.0/12"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "*"
[gateway]
bgp_routes = "172.16.0.0/12"
)";

}  // namespace

TEST(Stateful, ReplyInTheSameBurstAsItsSynPasses) {
  // The branch may not open anything inbound; the instance opens to it, and the
  // SYN-ACK arrives in the very burst that carries the SYN.
  std::string err;
  auto ts = TableSet::build(compile(load_topology_text(kBranchTopo, "t.toml"), 1), 1, err);
  ASSERT_TRUE(ts) << err;
  ReplayPorts ports;
  ASSERT_TRUE(create_replay_ports(1, 1024, g_pool, ports, err)) << err;
  FlowTable ft;
  ASSERT_TRUE(ft.init("ft_burst", 1024, err)) << err;
  WorkerContext ctx;
  ctx.flows = &ft;
  ctx.clock = ClockMode::kFake;
  for (size_t s = 0; s < kNumPorts; ++s) ctx.tx_port_id[s] = ports.out_port[s];

  const std::vector<std::pair<std::vector<uint8_t>, Port>> in = {
      {tcp_frame("10.0.1.4", "172.16.5.10", 50000, 443, 0x02), Port::kVnet},    // SYN out: allowed
      {tcp_frame("172.16.5.10", "10.0.1.4", 443, 50000, 0x12), Port::kOnprem},  // its SYN-ACK: a reply
      {tcp_frame("10.0.1.4", "172.16.5.10", 50000, 443, 0x10), Port::kVnet},    // ACK: established
      {tcp_frame("172.16.5.10", "10.0.1.4", 443, 50001, 0x12), Port::kOnprem},  // no flow: denied
  };
  Burst b;
  std::array<Port, kBurstSize> sides{};
  for (const auto& [bytes, side] : in) {
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(bytes.size())), bytes.data(), bytes.size());
    sides[b.count] = side;
    b.pkts[b.count++] = m;
  }
  TraceRecord slots[4];
  TraceSink sink{slots, 3};
  ctx.trace = &sink;
  stamp_burst(b, ctx, sides.data());
  process_burst(b, *ts, ctx);
  EXPECT_EQ(slots[0].flow, FlowState::kNew);
  EXPECT_EQ(slots[1].flow, FlowState::kReply);
  EXPECT_EQ(slots[1].verdict, Verdict::kForward);
  EXPECT_EQ(slots[2].flow, FlowState::kEstablished);
  EXPECT_EQ(slots[3].verdict, Verdict::kDrop);
  EXPECT_EQ(slots[3].reason, DropReason::kNsgDeny);
  EXPECT_EQ(ctx.counters.forwarded, 3u);
  EXPECT_EQ(ctx.counters.flows_created, 1u);
  void* out[8];
  for (size_t s = 0; s < kNumPorts; ++s) {
    unsigned n;
    while ((n = rte_ring_dequeue_burst(ports.out_rings[s][0], out, 8, nullptr)) > 0)
      for (unsigned i = 0; i < n; ++i) rte_pktmbuf_free(static_cast<rte_mbuf*>(out[i]));
  }
  destroy_replay_ports(ports);
}

// Bytes per rule for an NSG without flow logs (issue 19): the first packet
// and every later one, each way, count against the rule that allowed the
// flow (the branch is in the VirtualNetwork tag: AllowVnetOutBound); a
// denied packet counts against no rule's bytes.
TEST(Stateful, EveryPacketOfAnAllowedFlowCountsAgainstItsRule) {
  std::string err;
  auto ts = TableSet::build(compile(load_topology_text(kBranchTopo, "t.toml"), 1), 1, err);
  ASSERT_TRUE(ts) << err;
  RuleTotals totals;
  ts->set_rules_epoch(totals.epoch_for(ts->spec()));
  Rig rig;
  WorkerTables tables;
  ASSERT_TRUE(make_worker_tables("rule_bytes", 1024, tables, err)) << err;
  attach_worker_tables(rig.ctx, tables, g_pool);
  EXPECT_EQ(one_packet(*ts, rig.ctx, Port::kVnet, "10.0.1.4", "172.16.5.10", 50000, 443, 0x02).flow, FlowState::kNew);
  EXPECT_EQ(one_packet(*ts, rig.ctx, Port::kOnprem, "172.16.5.10", "10.0.1.4", 443, 50000, 0x12).flow,
            FlowState::kReply);
  EXPECT_EQ(one_packet(*ts, rig.ctx, Port::kVnet, "10.0.1.4", "172.16.5.10", 50000, 443, 0x10).flow,
            FlowState::kEstablished);
  EXPECT_EQ(one_packet(*ts, rig.ctx, Port::kOnprem, "172.16.5.10", "10.0.1.4", 443, 50001, 0x02).reason,
            DropReason::kNsgDeny);
  const RuleTrafficMap m = totals.collect({tables.rules.get()});
  ASSERT_EQ(m.size(), 1u) << "one rule allowed a flow";
  const RuleTraffic& t = m.at("n/AllowVnetOutBound");
  EXPECT_EQ(t.packets[0], 2u);
  EXPECT_EQ(t.packets[1], 1u);
  EXPECT_EQ(t.bytes[0], 80u) << "IP bytes, as flow logs count them";
  EXPECT_EQ(t.bytes[1], 40u);
  for (Port p : {Port::kOnprem, Port::kVnet})
    for (rte_mbuf* mb : rig.drain(p)) rte_pktmbuf_free(mb);
}

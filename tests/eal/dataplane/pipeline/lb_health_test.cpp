// The load balancer with every instance down (lb_stage, flow_stage): Basic ends TCP flows, Standard keeps them.
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

TEST(LbHealth, AllInstancesDownEndsTcpFlowsOnlyOnBasic) {
  for (const char* era : {"2016", "current"}) {
    auto topo = [&](bool down) {
      return compile(load_topology_text(std::string("[emulator]\nera = \"") + era +
                                            "\"\n[vnet]\nname = \"vvnet\"\naddress_space = \"10.0.0.0/16\"\n"
                                            "[[subnets]]\nname = \"s\"\nprefix = \"10.0.1.0/26\"\n"
                                            "[[ases]]\nname = \"a\"\nsubnet = \"s\"\npublic_vip = \"192.23.1.2\"\n"
                                            "instances = [\"10.0.1.4\", \"10.0.1.5\"]\n" +
                                            (down ? "down = [\"10.0.1.4\", \"10.0.1.5\"]\n" : ""),
                                        "t.toml"),
                     1);
    };
    std::string err;
    auto up = TableSet::build(topo(false), 1, err);
    auto all_down = TableSet::build(topo(true), 1, err);
    ASSERT_TRUE(up && all_down) << err;
    ReplayPorts ports;
    ASSERT_TRUE(create_replay_ports(1, 1024, g_pool, ports, err)) << err;
    FlowTable ft;
    ASSERT_TRUE(ft.init(std::string("ft_health_") + era, 1024, err)) << err;
    WorkerContext ctx;
    ctx.flows = &ft;
    ctx.clock = ClockMode::kFake;
    for (size_t s = 0; s < kNumPorts; ++s) ctx.tx_port_id[s] = ports.out_port[s];
    auto syn = one_packet(*up, ctx, Port::kInternet, "203.0.113.7", "192.23.1.2", 50000, 443, 0x02);
    ASSERT_EQ(syn.verdict, Verdict::kForward);
    // The instances' probes fail: a new generation with both down.
    auto after = one_packet(*all_down, ctx, Port::kInternet, "203.0.113.7", "192.23.1.2", 50000, 443, 0x10);
    auto fresh = one_packet(*all_down, ctx, Port::kInternet, "203.0.113.8", "192.23.1.2", 50001, 443, 0x02);
    EXPECT_EQ(fresh.reason, DropReason::kNoBackend) << era << ": no new flows";
    if (std::string(era) == "2016") {
      EXPECT_EQ(after.reason, DropReason::kNoBackend) << "Basic ends established TCP flows";
    } else {
      EXPECT_EQ(after.verdict, Verdict::kForward) << "Standard keeps established TCP flows";
    }
    void* out[8];
    for (size_t s = 0; s < kNumPorts; ++s) {
      unsigned n;
      while ((n = rte_ring_dequeue_burst(ports.out_rings[s][0], out, 8, nullptr)) > 0)
        for (unsigned i = 0; i < n; ++i) rte_pktmbuf_free(static_cast<rte_mbuf*>(out[i]));
    }
    destroy_replay_ports(ports);
  }
}

// SNAT ports (dataplane/flow/snat): reuse per destination, exhaustion and release.
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

TEST(Snat, PortsArePerDestinationAndRunOut) {
  SnatTable st;
  std::string err;
  ASSERT_TRUE(st.init("snat_unit", 8192, err)) << err;
  std::vector<uint16_t> ports;
  for (uint16_t p = 1024; p < 2048; ++p) ports.push_back(p);
  const uint32_t inst = 0x0a000104, vip = 0xc0170102, d1 = 0x0d6b0432, d2 = 0x0d6b0433;
  for (uint16_t i = 0; i < 1024; ++i) ASSERT_EQ(st.allocate(ports, inst, vip, 6, d1, 443), 1024 + i) << i;
  EXPECT_EQ(st.allocate(ports, inst, vip, 6, d1, 443), 0) << "the 1,025th to one destination fails";
  EXPECT_EQ(st.allocate(ports, inst, vip, 6, d2, 443), 1024) << "another destination reuses the port";
  EXPECT_EQ(st.allocate(ports, inst, vip, 6, d1, 8443), 1024) << "another destination port too";
  st.release(vip, 1500, 6, d1, 443, inst);
  EXPECT_EQ(st.allocate(ports, inst, vip, 6, d1, 443), 1500) << "a released port comes back";
  EXPECT_EQ(st.in_use(), 1026u);
}

// Destinations per instance (issue 19): the first port to a destination adds
// one, the last port released takes it away.
TEST(Snat, CountsTheDestinationsOfEachInstance) {
  SnatTable st;
  std::string err;
  ASSERT_TRUE(st.init("snat_dests", 1024, err)) << err;
  const std::vector<uint16_t> ports = {1024, 1025, 1026};
  const uint32_t inst = 0x0a000104, vip = 0xc0170102, d1 = 0x0d6b0432, d2 = 0x0d6b0433;
  auto dests = [&] {
    for (const auto& u : st.by_instance())
      if (u.ip == inst) return u.destinations;
    return ~0u;
  };
  ASSERT_EQ(st.allocate(ports, inst, vip, 6, d1, 443), 1024);
  ASSERT_EQ(st.allocate(ports, inst, vip, 6, d1, 443), 1025);
  EXPECT_EQ(dests(), 1u) << "two ports, one destination";
  ASSERT_EQ(st.allocate(ports, inst, vip, 6, d2, 443), 1024);
  ASSERT_EQ(st.allocate(ports, inst, vip, 17, d2, 443), 1024);
  EXPECT_EQ(dests(), 3u) << "another address, and another protocol, are other destinations";
  st.release(vip, 1024, 6, d1, 443, inst);
  EXPECT_EQ(dests(), 3u) << "d1 still holds a port";
  st.release(vip, 1025, 6, d1, 443, inst);
  EXPECT_EQ(dests(), 2u);
}

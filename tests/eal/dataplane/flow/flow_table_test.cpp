// The connection table (dataplane/flow/flow_table): insert, lookup of both directions, expiry and a full table.
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

namespace {

/// A TCP flow's key, 1:3 -> 2:4.
FlowKey tcp_key() {
  FlowKey k{};
  k.src = 1;
  k.dst = 2;
  k.sport = 3;
  k.dport = 4;
  k.proto = 6;
  return k;
}

}  // namespace

TEST(FlowTable, InsertLookupReplyExpireAndFull) {
  FlowTable ft;
  std::string err;
  ASSERT_TRUE(ft.init("ft_test", 1024, err)) << err;
  const FlowKey k = tcp_key();
  Flow* f = ft.insert(k, 100);
  ASSERT_NE(f, nullptr);
  f->expires_ns = 500ull * 1000000000ull;
  ft.schedule(f);
  FlowKey keys[3] = {k, k.reversed(), k};
  keys[2].dport = 5;
  Flow* found[3];
  bool reply[3];
  EXPECT_EQ(ft.lookup_bulk(keys, 3, found, reply), 2u);
  EXPECT_EQ(found[0], f);
  EXPECT_FALSE(reply[0]);
  EXPECT_EQ(found[1], f);
  EXPECT_TRUE(reply[1]);
  EXPECT_EQ(found[2], nullptr);
  ft.advance(100ull * 1000000000ull);  // starts the wheel's clock
  ft.advance(500ull * 1000000000ull);  // second 500 is not over yet
  EXPECT_EQ(ft.size(), 1u);
  ft.advance(501ull * 1000000000ull);
  EXPECT_EQ(ft.size(), 0u);
  EXPECT_EQ(ft.lookup_bulk(keys, 2, found, reply), 0u);
  for (uint32_t i = 0; i < 1024; ++i) {
    FlowKey x = k;
    x.sport = static_cast<uint16_t>(i);
    x.src = 1000 + i;
    ASSERT_NE(ft.insert(x, 1), nullptr) << i;
  }
  FlowKey extra = k;
  extra.src = 99999;
  EXPECT_EQ(ft.insert(extra, 1), nullptr) << "a full table refuses, it does not overwrite";
  EXPECT_EQ(ft.size(), 1024u);
}

// Flows by TCP state (issue 19): a handshake moves one flow through the states,
// and a removed flow leaves its state's count.
TEST(FlowTable, CountsFlowsByTcpState) {
  FlowTable ft;
  std::string err;
  ASSERT_TRUE(ft.init("ft_states", 64, err)) << err;
  auto count = [&](TcpState s) { return ft.by_tcp_state()[static_cast<size_t>(s)]; };
  const FlowKey k = tcp_key();
  Flow* f = ft.insert(k, 0);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(count(TcpState::kNone), 1u);  // installed, no TCP flags applied yet
  uint8_t fin = 0;
  ft.set_tcp(f, tcp_next(f->tcp, kTcpSyn, false, fin));
  EXPECT_EQ(count(TcpState::kNone), 0u);
  EXPECT_EQ(count(TcpState::kSynSent), 1u);
  ft.set_tcp(f, tcp_next(f->tcp, kTcpSyn | kTcpAck, true, fin));
  ft.set_tcp(f, tcp_next(f->tcp, kTcpAck, false, fin));
  EXPECT_EQ(count(TcpState::kEstablished), 1u);
  EXPECT_EQ(count(TcpState::kSynSent) + count(TcpState::kSynRecv), 0u);
  FlowKey u = k;
  u.proto = 17;
  ASSERT_NE(ft.insert(u, 0), nullptr);
  EXPECT_EQ(count(TcpState::kNone), 1u);  // UDP: not TCP
  ft.remove(f, 1);
  EXPECT_EQ(count(TcpState::kEstablished), 0u);
  uint32_t total = 0;
  for (auto n : ft.by_tcp_state()) total += n;
  EXPECT_EQ(total, ft.size());
}

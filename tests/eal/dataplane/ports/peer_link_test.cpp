// Peer links of a pool (dataplane/ports/peer_link, steer_unit): a frame goes
// to another node and comes back out as it went in, with the side it entered
// on; frames of another pool's shape or no peer frame at all are refused; and
// the owner of a connection is one (node, worker) for both directions of a
// NATed flow, and the worker steer_worker names when there is one node.
#include <gtest/gtest.h>

#include "dataplane/ports/peer_link.hpp"
#include "tests/eal/support/eal_rig.hpp"

namespace asenet::eal_test {
namespace {

PoolMembership member(unsigned node, unsigned nodes) {
  PoolMembership p;
  p.node = node;
  p.nodes = nodes;
  return p;
}

TEST(PeerLink, AFrameCrossesUntouchedWithItsSide) {
  const auto bytes = tcp_frame("198.51.100.7", "192.23.1.2", 40000, 443, 0x02);
  rte_mbuf* m = mbuf_of(bytes);
  ASSERT_NE(m, nullptr);
  ASSERT_TRUE(peer_encapsulate(m, Port::kVnet, member(0, 2), 2));
  EXPECT_EQ(m->data_len, bytes.size() + sizeof(PeerHeader));
  const auto* h = rte_pktmbuf_mtod(m, const uint8_t*);
  EXPECT_EQ(load_be16(h + 12), kPeerEtherType);
  Port side = Port::kInternet;
  ASSERT_EQ(peer_decapsulate(m, member(1, 2), 2, side), PeerRefusal::kNone);
  EXPECT_EQ(side, Port::kVnet);
  ASSERT_EQ(m->data_len, bytes.size());
  EXPECT_EQ(std::memcmp(rte_pktmbuf_mtod(m, const uint8_t*), bytes.data(), bytes.size()), 0);
  rte_pktmbuf_free(m);
}

TEST(PeerLink, FramesOfAnotherPoolOrNoPeerFrameAreRefused) {
  const auto bytes = tcp_frame("198.51.100.7", "192.23.1.2", 40000, 443, 0x02);
  Port side = Port::kInternet;
  // Two nodes that disagree on the pool's size or its workers would disagree on owners.
  rte_mbuf* m = mbuf_of(bytes);
  ASSERT_TRUE(peer_encapsulate(m, Port::kInternet, member(0, 3), 1));
  EXPECT_EQ(peer_decapsulate(m, member(1, 2), 1, side), PeerRefusal::kMismatch);
  rte_pktmbuf_free(m);
  m = mbuf_of(bytes);
  ASSERT_TRUE(peer_encapsulate(m, Port::kInternet, member(0, 2), 2));
  EXPECT_EQ(peer_decapsulate(m, member(1, 2), 1, side), PeerRefusal::kMismatch);
  rte_pktmbuf_free(m);
  // A frame from this node itself (a loop) and a plain frame.
  m = mbuf_of(bytes);
  ASSERT_TRUE(peer_encapsulate(m, Port::kInternet, member(1, 2), 1));
  EXPECT_EQ(peer_decapsulate(m, member(1, 2), 1, side), PeerRefusal::kMalformed);
  rte_pktmbuf_free(m);
  m = mbuf_of(bytes);
  EXPECT_EQ(peer_decapsulate(m, member(1, 2), 1, side), PeerRefusal::kMalformed);
  EXPECT_EQ(m->data_len, bytes.size()) << "a refused frame is left as it was";
  rte_pktmbuf_free(m);
}

TEST(PeerLink, BothDirectionsOfANatedFlowHaveOneOwnerAcrossThePool) {
  std::string err;
  auto ts = TableSet::build(spec_of(kTopo, 1), 1, err);
  ASSERT_NE(ts, nullptr) << err;
  const auto& fabric = ts->fabric_addresses();
  std::array<unsigned, 4> per_unit{};
  for (unsigned i = 0; i < 400; ++i) {
    const std::string client = "198.51." + std::to_string(100 + i / 200) + "." + std::to_string(1 + i % 200);
    const auto in = tcp_frame(client.c_str(), "192.23.1.2", static_cast<uint16_t>(40000 + i), 443, 0x02);
    // The reply leaves the instance, before the fabric turns its source back into the VIP.
    const auto back = tcp_frame("10.0.1.5", client.c_str(), 443, static_cast<uint16_t>(40000 + i), 0x12);
    const unsigned u = steer_unit(in.data(), static_cast<uint32_t>(in.size()), 4, fabric);
    ASSERT_LT(u, 4u);
    EXPECT_EQ(steer_unit(back.data(), static_cast<uint32_t>(back.size()), 4, fabric), u) << client;
    // One node of two workers: the worker is the one steer_worker names.
    EXPECT_EQ(steer_unit(in.data(), static_cast<uint32_t>(in.size()), 2, fabric),
              steer_worker(in.data(), static_cast<uint32_t>(in.size()), 2, fabric));
    per_unit[u]++;
  }
  for (unsigned u = 0; u < 4; ++u) EXPECT_GT(per_unit[u], 60u) << "unit " << u << " of 2 nodes x 2 workers";
  // Outbound SNAT: every connection of the instances to one destination has one owner.
  const auto a = tcp_frame("10.0.1.4", "13.107.4.50", 20000, 443, 0x02);
  const auto b = tcp_frame("10.0.1.5", "13.107.4.50", 31000, 443, 0x02);
  EXPECT_EQ(steer_unit(a.data(), static_cast<uint32_t>(a.size()), 4, fabric),
            steer_unit(b.data(), static_cast<uint32_t>(b.size()), 4, fabric));
}

}  // namespace
}  // namespace asenet::eal_test

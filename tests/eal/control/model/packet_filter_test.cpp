// tcpdump filters (control/model/packet_filter): hand-built frames against
// expressions whose answer follows from pcap-filter(7), checked the two ways
// they are used: on the bytes (replay --trace-filter) and on mbufs by the
// data plane's stamp_burst under a live trace sink (asenetd's trace --filter),
// which must mark exactly the matching frames of a burst.
#include <gtest/gtest.h>
#include <rte_mbuf.h>

#include <cstring>
#include <string>
#include <vector>

#include "control/model/packet_filter.hpp"
#include "dataplane/core/checksum.hpp"
#include "dataplane/pipeline/pipeline.hpp"
#include "tests/eal/support/eal_rig.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::dataplane;
using namespace asenet::eal_test;

namespace {

/// A UDP frame 10.0.1.4:5000 -> 8.8.8.8:53 with 8 bytes of payload.
std::vector<uint8_t> udp_frame() {
  std::vector<uint8_t> f = tcp_frame("10.0.1.4", "8.8.8.8", 5000, 53, 0);
  f.resize(14 + 20 + 8 + 8);
  uint8_t* ip = f.data() + 14;
  ip[9] = 17;
  store_be16(ip + 2, 36);
  store_be16(ip + 10, 0);
  store_be16(ip + 10, static_cast<uint16_t>(~ones_sum(ip, 20)));
  store_be16(ip + 24, 16);  // UDP length
  return f;
}

/// An ARP request for 10.0.1.1 from 10.0.1.4.
std::vector<uint8_t> arp_frame() {
  std::vector<uint8_t> f(42, 0);
  std::memset(f.data(), 0xff, 6);
  f[12] = 0x08;
  f[13] = 0x06;
  const uint8_t arp[] = {0, 1, 8, 0, 6, 4, 0, 1};
  std::memcpy(f.data() + 14, arp, sizeof arp);
  store_be32(f.data() + 28, *parse_ipv4("10.0.1.4"));
  store_be32(f.data() + 38, *parse_ipv4("10.0.1.1"));
  return f;
}

struct Case {
  const char* expr;
  bool syn, synack, udp, arp;  ///< the expected answer for each frame
};

// Frames: a SYN from the Internet to the VIP's 443; the instance's SYN-ACK
// to it (after DNAT: from 10.0.1.5); a DNS query; an ARP request.
const Case kCases[] = {
    {"tcp", true, true, false, false},
    {"udp port 53", false, false, true, false},
    {"dst host 192.23.1.2 and tcp dst port 443", true, false, false, false},
    {"tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack = 0", true, false, false, false},
    {"tcp[tcpflags] & (tcp-syn|tcp-ack) = (tcp-syn|tcp-ack)", false, true, false, false},
    {"net 10.0.0.0/16", false, true, true, true},  // net: ip, arp or rarp
    {"ip net 10.0.0.0/16", false, true, true, false},
    {"host 198.51.100.1", true, true, false, false},
    {"arp", false, false, false, true},
    {"not ip", false, false, false, true},
    {"ether proto 0x0806 or port 53", false, false, true, true},
    {"less 50", false, false, true, true},  // the UDP frame is 50 bytes, the ARP 42
    {"icmp", false, false, false, false},
};

/// The frames as one burst through stamp_burst with `f` armed: which it marked.
std::vector<bool> stamped(const PacketFilter& f, const std::vector<std::vector<uint8_t>>& frames) {
  Burst b;
  for (const auto& fr : frames) {
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    EXPECT_NE(m, nullptr);
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(fr.size())), fr.data(), fr.size());
    b.pkts[b.count++] = m;
  }
  std::array<Port, kBurstSize> sides{};
  TraceRecord slot[1];
  TraceSink sink{slot, 0};
  sink.live = true;
  sink.frame_filter = &PacketFilter::match_frame;
  sink.frame_filter_state = &f;
  WorkerContext ctx;
  ctx.clock = ClockMode::kFake;
  ctx.trace = &sink;
  stamp_burst(b, ctx, sides.data());
  std::vector<bool> out;
  for (uint16_t i = 0; i < b.count; ++i) out.push_back(b.meta[i].trace_hit);
  rte_pktmbuf_free_bulk(b.pkts.data(), b.count);
  return out;
}

}  // namespace

TEST(PacketFilter, MatchesHandBuiltFramesOnBytesAndInTheDataPlane) {
  const std::vector<std::vector<uint8_t>> frames = {
      tcp_frame("198.51.100.1", "192.23.1.2", 40000, 443, 0x02),
      tcp_frame("10.0.1.5", "198.51.100.1", 443, 40000, 0x12),
      udp_frame(),
      arp_frame(),
  };
  for (const Case& c : kCases) {
    std::string why;
    auto f = PacketFilter::compile(c.expr, why);
    ASSERT_TRUE(f.has_value()) << c.expr << ": " << why;
    const bool want[] = {c.syn, c.synack, c.udp, c.arp};
    const std::vector<bool> marked = stamped(*f, frames);
    for (size_t i = 0; i < frames.size(); ++i) {
      const auto& fr = frames[i];
      const auto len = static_cast<uint32_t>(fr.size());
      EXPECT_EQ(f->matches(fr.data(), len, len), want[i]) << c.expr << ", frame " << i << " (bytes)";
      EXPECT_EQ(marked[i], want[i]) << c.expr << ", frame " << i << " (stamp_burst)";
    }
  }
}

TEST(PacketFilter, RefusesWhatIsNotAFilter) {
  std::string why;
  EXPECT_FALSE(PacketFilter::compile("tcp port", why).has_value());
  EXPECT_NE(why.find("not a valid filter"), std::string::npos) << why;
  EXPECT_FALSE(PacketFilter::compile("host 300.1.1.1", why).has_value());
  EXPECT_FALSE(PacketFilter::compile("  ", why).has_value());
  EXPECT_NE(why.find("empty"), std::string::npos) << why;
}

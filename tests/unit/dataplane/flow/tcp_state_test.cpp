// The flow table's TCP state machine (dataplane/flow/flow_table.hpp: tcp_next, flow_expiry).
#include <gtest/gtest.h>

#include "dataplane/flow/flow_table.hpp"

using namespace asenet::dataplane;

TEST(TcpState, HandshakeCloseAndReset) {
  uint8_t fin = 0;
  TcpState s = tcp_next(TcpState::kNone, 0x02, false, fin);
  EXPECT_EQ(s, TcpState::kSynSent);
  s = tcp_next(s, 0x12, true, fin);
  EXPECT_EQ(s, TcpState::kSynRecv);
  s = tcp_next(s, 0x10, false, fin);
  EXPECT_EQ(s, TcpState::kEstablished);
  s = tcp_next(s, 0x11, false, fin);
  EXPECT_EQ(s, TcpState::kFinWait);
  s = tcp_next(s, 0x10, true, fin);
  EXPECT_EQ(s, TcpState::kFinWait);
  s = tcp_next(s, 0x11, true, fin);
  EXPECT_EQ(s, TcpState::kClosing);
  fin = 0;
  EXPECT_EQ(tcp_next(TcpState::kEstablished, 0x14, true, fin), TcpState::kClosed);
  EXPECT_EQ(tcp_next(TcpState::kNone, 0x10, false, fin), TcpState::kEstablished);  // picked up mid-stream
  const FlowTimers t;
  EXPECT_EQ(flow_expiry(TcpState::kEstablished, 1000, t), 1000 + 240ull * 1000000000ull);
  EXPECT_EQ(flow_expiry(TcpState::kClosing, 1000, t), 1000 + 240ull * 1000000000ull);
  EXPECT_EQ(flow_expiry(TcpState::kClosed, 1000, t), 1000 + 15ull * 1000000000ull);
}

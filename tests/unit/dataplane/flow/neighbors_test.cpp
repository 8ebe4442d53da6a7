// The L2 neighbour table ([l2] arp): what a learned MAC is good for, how long,
// and how often the fabric may ask (docs/design/live-control.md).
#include <gtest/gtest.h>

#include "dataplane/flow/neighbors.hpp"

using namespace asenet::dataplane;

namespace {
constexpr uint64_t kSec = 1000000000ull;
MacAddr mac(uint8_t last) { return MacAddr{{0x02, 0, 0, 0, 0, last}}; }
}  // namespace

TEST(Neighbors, LearnedMacIsFoundOnItsSideOnlyAndExpires) {
  NeighborTable t;
  t.learn(Port::kVnet, 0x0a000104, mac(4), 10 * kSec);
  const MacAddr* m = t.lookup(Port::kVnet, 0x0a000104, 11 * kSec, 300 * kSec);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(*m, mac(4));
  EXPECT_EQ(t.lookup(Port::kInternet, 0x0a000104, 11 * kSec, 300 * kSec), nullptr);  // another side
  EXPECT_EQ(t.lookup(Port::kVnet, 0x0a000105, 11 * kSec, 300 * kSec), nullptr);
  EXPECT_EQ(t.lookup(Port::kVnet, 0x0a000104, 310 * kSec, 300 * kSec), nullptr);  // timed out
  t.learn(Port::kVnet, 0x0a000104, mac(9), 311 * kSec);                           // moved: the newest MAC wins
  EXPECT_EQ(*t.lookup(Port::kVnet, 0x0a000104, 312 * kSec, 300 * kSec), mac(9));
}

TEST(Neighbors, TheFabricAsksAtMostOnceASecondPerAddress) {
  NeighborTable t;
  EXPECT_TRUE(t.should_request(Port::kVnet, 0x0a000104, 5 * kSec));
  EXPECT_FALSE(t.should_request(Port::kVnet, 0x0a000104, 5 * kSec + kSec / 2));
  EXPECT_TRUE(t.should_request(Port::kVnet, 0x0a000105, 5 * kSec + kSec / 2));  // another address
  EXPECT_TRUE(t.should_request(Port::kVnet, 0x0a000104, 6 * kSec + 1));
  // Asking is not knowing: an unanswered request resolves nothing.
  EXPECT_EQ(t.lookup(Port::kVnet, 0x0a000104, 6 * kSec + 2, 300 * kSec), nullptr);
}

TEST(Neighbors, AFullProbeWindowReplacesTheLeastRecentlyUsed) {
  NeighborTable t;
  // Far more addresses than slots: every lookup stays bounded and the most
  // recent ones are kept.
  for (uint32_t i = 0; i < 3 * NeighborTable::kSlots; ++i) t.learn(Port::kVnet, 0x0b000000 + i, mac(1), i);
  size_t found = 0;
  for (uint32_t i = 3 * NeighborTable::kSlots - 100; i < 3 * NeighborTable::kSlots; ++i)
    found += t.lookup(Port::kVnet, 0x0b000000 + i, 3 * NeighborTable::kSlots, 300 * kSec) != nullptr;
  EXPECT_EQ(found, 100u);
}

// Issue 15: the control thread never reads a worker's table in place; it asks,
// the worker copies at the end of a loop iteration, and the copy is its own.
TEST(Neighbors, TheControlThreadGetsAHandedOverCopy) {
  NeighborTable t;
  NeighborHandoff h;
  const MacAddr a{{0x02, 0, 0, 0, 0, 0x0a}}, b{{0x02, 0, 0, 0, 0, 0x0b}};
  t.learn(Port::kVnet, 0x0a000104, a, 1000);
  std::vector<Neighbor> copy;
  h.serve(t);  // nobody asked: nothing copied
  EXPECT_FALSE(h.take(copy));
  h.request();
  EXPECT_FALSE(h.take(copy));  // asked, not served yet
  h.serve(t);
  t.learn(Port::kVnet, 0x0a000104, b, 2000);  // the worker moves on; the copy is not touched
  ASSERT_TRUE(h.take(copy));
  ASSERT_EQ(copy.size(), 1u);
  EXPECT_EQ(copy[0].ip, 0x0a000104u);
  EXPECT_EQ(copy[0].mac, a);
  EXPECT_FALSE(h.take(copy));  // taken once; the next copy needs a new request
  h.request();
  h.serve(t);
  ASSERT_TRUE(h.take(copy));
  EXPECT_EQ(copy[0].mac, b);
}

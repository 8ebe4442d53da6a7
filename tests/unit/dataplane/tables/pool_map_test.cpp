// Owners of a pool's connections across membership changes
// (dataplane/tables/pool_map.hpp; docs/design/scale-out.md, section 5): a full
// pool steers as hash % (nodes x workers) always did, a node that leaves
// gives up only its own slots, one that joins takes back exactly its own, and
// the previous owners are asked only in the window and only while members.
#include <gtest/gtest.h>

#include <random>

#include "dataplane/tables/pool_map.hpp"

using namespace asenet::dataplane;

namespace {

constexpr uint64_t kNow = 1'000'000'000'000ull;
constexpr uint64_t kWindow = 240'000'000'000ull;

unsigned node_of(const PoolMap& m, unsigned s) { return m.cur[s] / m.workers; }

}  // namespace

TEST(PoolMap, FullPoolIsHashModuloUnits) {
  for (const auto& [nodes, workers] : {std::pair{2u, 1u}, {3u, 1u}, {2u, 2u}, {3u, 4u}, {8u, 16u}}) {
    const PoolMap m = PoolMap::full(nodes, workers);
    EXPECT_EQ(m.slots % (nodes * workers), 0u);
    EXPECT_GE(m.slots, PoolMap::kMinSlots);
    EXPECT_LE(m.slots, PoolMap::kMaxSlots);
    std::mt19937_64 rng(nodes * 100 + workers);
    for (int i = 0; i < 20000; ++i) {
      const uint64_t h = rng() >> 17;  // steer_hash's range
      ASSERT_EQ(m.owner(h), h % (nodes * workers)) << nodes << "x" << workers << " hash " << h;
    }
    EXPECT_EQ(m.ask_first(0, kNow), -1);  // never changed: nobody to ask
  }
}

TEST(PoolMap, LeavingMovesOnlyTheLeaversSlotsAndSpreadsThem) {
  const PoolMap full = PoolMap::full(3, 2);
  const PoolMap two = PoolMap::with_members(full, 0b011, kNow, kWindow);  // node 2 leaves
  std::array<unsigned, 3> got{};
  for (unsigned s = 0; s < full.slots; ++s) {
    if (node_of(full, s) != 2) {
      EXPECT_EQ(two.cur[s], full.cur[s]) << "slot " << s << " of a node that stays moved";
    } else {
      EXPECT_NE(node_of(two, s), 2u) << "slot " << s << " still on the node that left";
      ++got[node_of(two, s)];
    }
    EXPECT_EQ(two.cur[s] % 2, full.cur[s] % 2) << "a slot keeps its worker number";  // both ends meet one worker
  }
  const unsigned moved = got[0] + got[1];
  EXPECT_EQ(moved, full.slots_of(2));
  EXPECT_GT(got[0], moved * 3 / 10);  // rendezvous hashing: about half each
  EXPECT_GT(got[1], moved * 3 / 10);
  EXPECT_EQ(two.slots_of(2), 0u);
  EXPECT_EQ(two.changes, 1u);
  EXPECT_EQ(two.prev_until_ns, 0u) << "only the leaver had the moved slots: nobody to ask";
}

TEST(PoolMap, ASecondLeaverMovesOnlyWhatItHeld) {
  const PoolMap full = PoolMap::full(4, 1);
  const PoolMap three = PoolMap::with_members(full, 0b0111, kNow, kWindow);
  const PoolMap two = PoolMap::with_members(three, 0b0101, kNow, kWindow);
  for (unsigned s = 0; s < full.slots; ++s) {
    if (node_of(three, s) == 1) continue;
    EXPECT_EQ(two.cur[s], three.cur[s]) << "slot " << s;
  }
}

TEST(PoolMap, JoiningTakesBackExactlyItsOwnSlots) {
  const PoolMap full = PoolMap::full(3, 1);
  const PoolMap two = PoolMap::with_members(full, 0b011, kNow, kWindow);
  const PoolMap back = PoolMap::with_members(two, 0b111, kNow + 1, kWindow);
  EXPECT_EQ(back.cur, full.cur);
  unsigned moved = 0;
  for (unsigned s = 0; s < full.slots; ++s) {
    if (back.cur[s] == two.cur[s]) continue;
    ++moved;
    EXPECT_EQ(node_of(back, s), 2u) << "only the joiner takes slots";
  }
  EXPECT_EQ(moved, full.slots / 3);
}

TEST(PoolMap, PreviousOwnersAskedInTheWindowWhileMembers) {
  const PoolMap full = PoolMap::full(3, 1);
  const PoolMap two = PoolMap::with_members(full, 0b011, kNow, kWindow);
  const PoolMap back = PoolMap::with_members(two, 0b111, kNow, kWindow);
  for (unsigned s = 0; s < full.slots; ++s) {
    // Node 2 left: its slots' previous owner is gone, nobody is asked.
    EXPECT_EQ(two.ask_first(s, kNow + 1), -1) << "slot " << s;
    // Node 2 came back: its slots are asked of the member that held them meanwhile.
    if (back.cur[s] != two.cur[s]) {
      EXPECT_EQ(back.ask_first(s, kNow + 1), two.cur[s]) << "slot " << s;
      EXPECT_EQ(back.ask_first(s, kNow + kWindow), -1) << "the window is over";
    } else {
      EXPECT_EQ(back.ask_first(s, kNow + 1), -1) << "slot " << s << " did not move";
    }
  }
}

TEST(PoolMap, SameMembersChangeNothing) {
  const PoolMap full = PoolMap::full(2, 1);
  const PoolMap same = PoolMap::with_members(full, 0b11, kNow, kWindow);
  EXPECT_EQ(same.cur, full.cur);
  EXPECT_EQ(same.prev_until_ns, 0u);
  EXPECT_EQ(same.changes, 0u);
}

TEST(PoolMap, AJoinerBuildsTheMapTheOthersBuild) {
  // Node 1 left and came back as a fresh process: it ran the full map, the
  // others ran {0, 2}; given the same two sets, all build one map.
  const PoolMap full = PoolMap::full(3, 2);
  const PoolMap stayed = PoolMap::with_members(full, 0b101, kNow, kWindow);
  const PoolMap a = PoolMap::changed(stayed, 0b111, 0b101, kNow, kWindow);
  const PoolMap b = PoolMap::changed(full, 0b111, 0b101, kNow, kWindow);
  EXPECT_EQ(a.cur, b.cur);
  EXPECT_EQ(a.prev, b.prev);
  EXPECT_EQ(a.prev, stayed.cur);
  EXPECT_EQ(a.prev_until_ns, kNow + kWindow);
}

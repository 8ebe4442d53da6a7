// The flow table's key index (dataplane/flow/flow_index.hpp): exact finds,
// overflow past full buckets and back, removal, and a random run against a
// std::unordered_map as the model.
#include <gtest/gtest.h>

#include <random>
#include <unordered_map>
#include <vector>

#include "dataplane/flow/flow_index.hpp"

using namespace asenet::dataplane;

namespace {

struct Index {
  std::vector<IndexBucket> mem;
  FlowIndex ix;
  explicit Index(uint32_t keys) : mem(FlowIndex::buckets_for(keys)) {
    ix.init(mem.data(), static_cast<uint32_t>(mem.size()));
  }
  /// Values stand for keys here: key k's value is k, its hash hash_of(k).
  [[nodiscard]] uint32_t find(uint32_t hash, uint32_t key) const {
    return ix.find(hash, [&](uint32_t v) { return v == key; });
  }
};

}  // namespace

TEST(FlowIndex, SizedAtMostFourKeysABucket) {
  EXPECT_EQ(FlowIndex::buckets_for(200000), 65536u);
  EXPECT_EQ(FlowIndex::buckets_for(2000000), 524288u);
  EXPECT_EQ(FlowIndex::buckets_for(2), 1u);
  EXPECT_EQ(FlowIndex::sig_of(0x0000ffff), 1u);  // 0 marks a free way
}

TEST(FlowIndex, OverflowsPastAFullBucketAndComesBack) {
  Index t(64);
  ASSERT_EQ(t.ix.buckets(), 32u);
  // Twenty keys with the same home bucket (3): eight there, the rest further on.
  const uint32_t home = 3;
  for (uint32_t k = 0; k < 20; ++k) ASSERT_TRUE(t.ix.add((k << 16) | home, k));
  EXPECT_EQ(t.ix.home(home).overflow, 12u);
  EXPECT_EQ(t.ix.home(home + 1).overflow, 4u);
  for (uint32_t k = 0; k < 20; ++k) EXPECT_EQ(t.find((k << 16) | home, k), k);
  EXPECT_EQ(t.find((99u << 16) | home, 99), FlowIndex::kNone);
  // A key homed in bucket 4 lands behind those that overflowed into it.
  ASSERT_TRUE(t.ix.add((7u << 16) | 4, 100));
  EXPECT_EQ(t.find((7u << 16) | 4, 100), 100u);
  // Removing the far ones clears the counts on the way: a miss is one bucket again.
  for (uint32_t k = 8; k < 20; ++k) ASSERT_TRUE(t.ix.remove((k << 16) | home, k));
  EXPECT_EQ(t.ix.home(home).overflow, 0u);
  EXPECT_EQ(t.ix.home(home + 1).overflow, 1u);  // key 100 still lies past bucket 4
  EXPECT_FALSE(t.ix.remove((8u << 16) | home, 8));
  for (uint32_t k = 0; k < 8; ++k) EXPECT_EQ(t.find((k << 16) | home, k), k);
  EXPECT_EQ(t.find((7u << 16) | 4, 100), 100u);
  EXPECT_EQ(t.ix.size(), 9u);
}

TEST(FlowIndex, FullOnlyWhenEveryWayIsTaken) {
  Index t(4);  // two buckets, 16 ways
  const uint32_t ways = t.ix.buckets() * FlowIndex::kWays;
  for (uint32_t k = 0; k < ways; ++k) ASSERT_TRUE(t.ix.add(k << 16, k)) << k;  // all homed in bucket 0
  EXPECT_FALSE(t.ix.add(1u << 16, 999));
  for (uint32_t k = 0; k < ways; ++k) EXPECT_EQ(t.find(k << 16, k), k);
  ASSERT_TRUE(t.ix.remove(3u << 16, 3));
  EXPECT_TRUE(t.ix.add(1u << 16, 999));
  EXPECT_EQ(t.find(1u << 16, 999), 999u);
}

TEST(FlowIndex, RandomRunAgainstAModel) {
  // Few buckets for the keys (a small mask): many overflows and wrap-arounds.
  Index t(4096);
  std::mt19937 rng(7);
  std::unordered_map<uint32_t, uint32_t> model;                                // key -> hash
  auto hash_of = [&](uint32_t k) { return (k * 2654435761u) & 0x1fff03ffu; };  // signatures collide often too
  for (int step = 0; step < 200000; ++step) {
    const uint32_t k = rng() % 6000;
    const uint32_t h = hash_of(k);
    if (model.count(k) != 0) {
      if (rng() % 2 == 0) {
        ASSERT_TRUE(t.ix.remove(h, k));
        model.erase(k);
      } else {
        ASSERT_EQ(t.find(h, k), k);
      }
    } else if (model.size() < 4000) {
      ASSERT_EQ(t.find(h, k), FlowIndex::kNone);
      ASSERT_TRUE(t.ix.add(h, k));
      model[k] = h;
    }
  }
  ASSERT_EQ(t.ix.size(), model.size());
  for (const auto& [k, h] : model) ASSERT_EQ(t.find(h, k), k);
  for (const auto& [k, h] : model) ASSERT_TRUE(t.ix.remove(h, k));
  for (uint32_t b = 0; b < t.ix.buckets(); ++b) EXPECT_EQ(t.ix.home(b).overflow, 0u) << b;
}

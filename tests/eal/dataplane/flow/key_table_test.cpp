// The exact-match table under SNAT's bookkeeping (dataplane/flow/key_table):
// keys that differ in one byte stay apart, a full table refuses, and a
// random run of inserts and erases agrees with std::map.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <utility>

#include "dataplane/flow/key_table.hpp"

using namespace asenet::dataplane;

namespace {

KeyTable::Key key(uint64_t a, uint64_t b) {
  KeyTable::Key k;
  k.w[0] = a;
  k.w[1] = b;
  return k;
}

}  // namespace

TEST(KeyTable, ExactKeysValuesAndAFullTable) {
  KeyTable t;
  std::string err;
  ASSERT_TRUE(t.init("key_table_unit", 4, err)) << err;
  ASSERT_NE(nullptr, t.insert(key(1, 2), 10));
  EXPECT_EQ(nullptr, t.insert(key(1, 2), 11)) << "a key is in once";
  ASSERT_NE(nullptr, t.insert(key(1, 3), 20));
  ASSERT_NE(nullptr, t.insert(key(2, 2), 30));
  ASSERT_NE(nullptr, t.insert(key(1ull << 56, 2), 40));
  EXPECT_EQ(nullptr, t.insert(key(9, 9), 50)) << "four keys fill a table of four";
  ASSERT_NE(t.find(key(1, 2)), nullptr);
  EXPECT_EQ(*t.find(key(1, 2)), 10u);
  EXPECT_EQ(*t.find(key(1, 3)), 20u);
  EXPECT_EQ(*t.find(key(2, 2)), 30u);
  EXPECT_EQ(*t.find(key(1ull << 56, 2)), 40u);
  EXPECT_EQ(t.find(key(1, 4)), nullptr);
  *t.find(key(1, 3)) = 21;
  EXPECT_EQ(*t.find(key(1, 3)), 21u);
  EXPECT_TRUE(t.erase(key(1, 2)));
  EXPECT_FALSE(t.erase(key(1, 2)));
  EXPECT_FALSE(t.contains(key(1, 2)));
  EXPECT_NE(nullptr, t.insert(key(9, 9), 50)) << "an erased key's slot is free again";
  EXPECT_EQ(t.size(), 4u);
}

TEST(KeyTable, RandomRunAgainstAMap) {
  KeyTable t;
  std::string err;
  ASSERT_TRUE(t.init("key_table_random", 20000, err)) << err;
  std::map<std::pair<uint64_t, uint64_t>, uint32_t> model;
  std::mt19937_64 rng(11);
  for (int step = 0; step < 300000; ++step) {
    const uint64_t a = rng() % 97, b = rng() % 331;  // keys collide in all but one word often
    const auto k = key(a, b);
    const auto it = model.find({a, b});
    switch (rng() % 3) {
      case 0:
        ASSERT_EQ(t.insert(k, static_cast<uint32_t>(step)) != nullptr, it == model.end() && model.size() < 20000);
        if (it == model.end() && model.size() < 20000) model[{a, b}] = static_cast<uint32_t>(step);
        break;
      case 1:
        ASSERT_EQ(t.erase(k), it != model.end());
        if (it != model.end()) model.erase(it);
        break;
      default:
        if (it == model.end()) {
          ASSERT_EQ(t.find(k), nullptr);
        } else {
          ASSERT_NE(t.find(k), nullptr);
          ASSERT_EQ(*t.find(k), it->second);
        }
    }
  }
  EXPECT_EQ(t.size(), model.size());
}

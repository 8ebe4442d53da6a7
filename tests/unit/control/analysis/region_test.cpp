// The region algebra under nsg analyze and nsg diff (control/analysis/region):
// intersection, union and difference of random box sets, checked point by
// point over a small grid against plain set logic.
#include "control/analysis/region.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace asenet;
using namespace asenet::control::analysis;

namespace {

constexpr uint32_t kGrid = 6;  // coordinates 0-5 in every dimension: 7,776 points

Box random_box(std::mt19937& rng) {
  Box b;
  for (auto& s : b.d) {
    uint32_t a = rng() % kGrid, c = rng() % kGrid;
    s = {std::min(a, c), std::max(a, c)};
  }
  return b;
}

Region random_region(std::mt19937& rng) {
  Region r;
  const int n = 1 + static_cast<int>(rng() % 5);
  for (int i = 0; i < n; ++i) r.add(Region({random_box(rng)}));
  return r;
}

template <typename F>
void for_each_point(F f) {
  Packet p;
  for (uint32_t a = 0; a < kGrid; ++a)
    for (uint32_t b = 0; b < kGrid; ++b)
      for (uint32_t c = 0; c < kGrid; ++c)
        for (uint32_t d = 0; d < kGrid; ++d)
          for (uint32_t e = 0; e < kGrid; ++e) {
            p.proto = static_cast<uint8_t>(a);
            p.src = b;
            p.dst = c;
            p.sport = static_cast<uint16_t>(d);
            p.dport = static_cast<uint16_t>(e);
            f(p);
          }
}

/// Boxes of a region never overlap: every point is in at most one.
bool disjoint(const Region& r) {
  bool ok = true;
  for_each_point([&](const Packet& p) {
    int n = 0;
    for (const auto& b : r.boxes()) n += Region({b}).contains(p) ? 1 : 0;
    ok &= n <= 1;
  });
  return ok;
}

}  // namespace

TEST(Region, IntersectUnionAndDifferenceAgreeWithSetLogicPointByPoint) {
  std::mt19937 rng(17);
  for (int round = 0; round < 40; ++round) {
    const Region a = random_region(rng), b = random_region(rng);
    const Region both = a.intersect(b);
    Region either = a;
    either.add(b);
    Region only_a = a;
    only_a.subtract(b);
    int mismatches = 0;
    for_each_point([&](const Packet& p) {
      const bool in_a = a.contains(p), in_b = b.contains(p);
      mismatches += both.contains(p) != (in_a && in_b);
      mismatches += either.contains(p) != (in_a || in_b);
      mismatches += only_a.contains(p) != (in_a && !in_b);
    });
    ASSERT_EQ(mismatches, 0) << "round " << round;
    ASSERT_TRUE(disjoint(either) && disjoint(only_a) && disjoint(both)) << "round " << round;
  }
}

TEST(Region, CoalesceKeepsEveryPointAndMergesTouchingBoxes) {
  Region r({Box{{Span{6, 6}, Span{0, 9}, Span{0, 0}, Span{0, 0}, Span{80, 80}}},
            Box{{Span{6, 6}, Span{10, 19}, Span{0, 0}, Span{0, 0}, Span{80, 80}}}});
  r.coalesce();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r.boxes()[0].d[kSrc], (Span{0, 19}));
  std::mt19937 rng(5);
  for (int round = 0; round < 20; ++round) {
    Region a = random_region(rng);
    Region before = a;
    a.coalesce();
    int mismatches = 0;
    for_each_point([&](const Packet& p) { mismatches += a.contains(p) != before.contains(p); });
    ASSERT_EQ(mismatches, 0);
    EXPECT_LE(a.size(), before.size());
  }
}

// The packet space is the evaluator's: TCP and UDP have ports, nothing else does.
TEST(Region, UniverseGivesPortsToTcpAndUdpOnly) {
  const Region u = universe(dataplane::NsgDirection::kInbound, {Span{0x0a000100, 0x0a0001ff}});
  EXPECT_TRUE(u.contains({6, 0x01020304, 0x0a000104, 50000, 443}));
  EXPECT_TRUE(u.contains({17, 0x01020304, 0x0a000104, 53, 53}));
  EXPECT_TRUE(u.contains({1, 0x01020304, 0x0a000104, 0, 0}));
  EXPECT_FALSE(u.contains({1, 0x01020304, 0x0a000104, 0, 8}));        // ICMP has no ports
  EXPECT_FALSE(u.contains({6, 0x01020304, 0x0a000204, 50000, 443}));  // outside the scope
}

TEST(Region, RuleRegionIsExactlyWhatTheReferenceEvaluatorMatches) {
  dataplane::NsgRuleSpec r;
  r.proto = dataplane::kProtoAny;
  r.src = {Cidr{0x01020300, 24}};
  r.dports = {{443, 443}, {1000, 2000}};
  const Region g = rule_region(r);
  std::mt19937 rng(3);
  const uint16_t ports[] = {0, 442, 443, 444, 999, 1000, 2000, 2001};
  const uint8_t protos[] = {6, 17, 1, 47};
  for (int i = 0; i < 5000; ++i) {
    dataplane::FiveTuple t;
    t.proto = protos[rng() % 4];
    t.src = rng() % 2 ? 0x01020300 + rng() % 512 : static_cast<uint32_t>(rng());
    t.dst = static_cast<uint32_t>(rng());
    if (t.proto == 6 || t.proto == 17) {
      t.sport = static_cast<uint16_t>(rng());
      t.dport = ports[rng() % 8];
    }
    ASSERT_EQ(g.contains({t.proto, t.src, t.dst, t.sport, t.dport}), r.matches(t)) << i;
  }
  r.never = true;
  EXPECT_TRUE(rule_region(r).empty());
}

TEST(Region, ExamplePrefersTcpAndReadableAddresses) {
  const Region r(
      {Box{{Span{0, 255}, Span{0, 0xffffffffu}, Span{0x0a000100, 0x0a0001ff}, Span{0, 65535}, Span{0, 65535}}}});
  const Packet p = r.example();
  EXPECT_EQ(p.proto, 6);
  EXPECT_EQ(format_ipv4(p.src), "203.0.113.10");
  EXPECT_EQ(format_ipv4(p.dst), "10.0.1.1");
  EXPECT_EQ(p.dport, 443);
  EXPECT_TRUE(r.contains(p));
}

TEST(Region, BudgetStopsRunawayFragmentationWithAnError) {
  Region::set_budget(100);
  Region u = universe(dataplane::NsgDirection::kInbound, {});
  std::mt19937 rng(9);
  auto fragment = [&] {
    for (int i = 0; i < 200; ++i) {
      const uint32_t a = static_cast<uint32_t>(rng()), p = rng() % 65536;
      u.subtract(Region({Box{{Span{6, 6}, Span{a, a}, Span{0, 0xffffffffu}, Span{0, 65535}, Span{p, p}}}}));
    }
  };
  EXPECT_THROW(fragment(), TooComplex);
  Region::set_budget(size_t{4} << 20);
}

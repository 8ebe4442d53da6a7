// nsg diff (control/analysis/nsg_diff): the planted change between
// nsg-review.toml and nsg-review-proposed.toml is found exactly, and for
// random pairs of rule sets a packet changes verdict if and only if it lies in
// a reported region (checked with the reference evaluator on both sides).
#include "control/analysis/nsg_diff.hpp"

#include <gtest/gtest.h>

#include <random>

#include "control/compiler/compile.hpp"
#include "tests/unit/support/random_nsg.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::control::analysis;
using dataplane::NsgDirection;

namespace {

bool allows(const dataplane::TableSpec& s, const std::string& nsg, NsgDirection d, const dataplane::FiveTuple& t) {
  for (const auto& n : s.nsgs)
    if (n.name == nsg) {
      const auto r = dataplane::nsg_first_match(s.nsg_rules, n, d, t);
      return r && s.nsg_rules[*r].allow;
    }
  return true;
}

std::string rule_for(const dataplane::TableSpec& s, NsgDirection d, const Packet& p) {
  const auto r = dataplane::nsg_first_match(s.nsg_rules, s.nsgs[0], d, p.tuple());
  return r ? s.nsg_rules[*r].arm_name() : "";
}

const DiffRegion* region_of(const DiffReport& r, NsgDirection d, const dataplane::FiveTuple& t) {
  for (const auto& x : r.regions)
    if (x.direction == d && x.region.contains({t.proto, t.src, t.dst, t.sport, t.dport})) return &x;
  return nullptr;
}

}  // namespace

TEST(NsgDiff, ThePlantedChangeIsExactlyTwoRegions) {
  const auto a = compile(load_topology(ASENET_CONFIG_DIR "/examples/nsg-review.toml"), 1);
  const auto b = compile(load_topology(ASENET_CONFIG_DIR "/examples/nsg-review-proposed.toml"), 1);
  const DiffReport r = nsg_diff(a, b);
  ASSERT_EQ(r.regions.size(), 2u);
  const DiffRegion* https = region_of(r, NsgDirection::kInbound, {0x08080808, 0x0a000104, 50000, 443, 6});
  ASSERT_NE(https, nullptr);
  EXPECT_TRUE(https->allow_a && !https->allow_b);
  EXPECT_EQ(https->rule_a, "securityRules/AllowHttps");
  EXPECT_EQ(https->rule_b, "defaultSecurityRules/DenyAllInBound");
  const DiffRegion* http = region_of(r, NsgDirection::kInbound, {0xcb00710a, 0x0a000104, 50000, 80, 6});
  ASSERT_NE(http, nullptr);
  EXPECT_TRUE(!http->allow_a && http->allow_b);
  EXPECT_EQ(http->rule_a, "securityRules/DenyBadNet");
  // The partner range keeps HTTPS; the Internet keeps HTTP; the VNet is untouched.
  EXPECT_EQ(region_of(r, NsgDirection::kInbound, {0xc633640a, 0x0a000104, 50000, 443, 6}), nullptr);
  EXPECT_EQ(region_of(r, NsgDirection::kInbound, {0x08080808, 0x0a000104, 50000, 80, 6}), nullptr);
  EXPECT_EQ(region_of(r, NsgDirection::kInbound, {0x0a000204, 0x0a000104, 50000, 22, 6}), nullptr);
  EXPECT_TRUE(r.only_a.empty() && r.only_b.empty());
}

TEST(NsgDiff, SameRuleSetsHaveNoRegions) {
  const auto a = compile(load_topology(ASENET_CONFIG_DIR "/examples/nsg-review.toml"), 1);
  EXPECT_TRUE(nsg_diff(a, a).regions.empty());
}

// Property: random A, B = A with random edits. Every region's example has the
// stated verdict and rule on each side; a random packet's verdict differs
// between A and B exactly when it lies in some region.
TEST(NsgDiffProperty, VerdictsDifferExactlyInsideTheRegions) {
  std::mt19937 rng(99);
  size_t regions = 0, inside = 0, outside = 0;
  for (int round = 0; round < 150; ++round) {
    auto ra = asenet::testing::random_rules(rng, 3 + rng() % 8);
    auto rb = ra;
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t i = rng() % rb.size();
      switch (rng() % 4) {
        case 0: rb[i].access = rb[i].access == "Allow" ? "Deny" : "Allow"; break;
        case 1: rb[i].src = asenet::testing::address_pool()[rng() % asenet::testing::address_pool().size()]; break;
        case 2: rb[i].dport = asenet::testing::port_pool()[rng() % asenet::testing::port_pool().size()]; break;
        default:
          if (rb.size() > 1) rb.erase(rb.begin() + static_cast<long>(i));
      }
    }
    const auto a = compile(load_topology_text(asenet::testing::random_topology(ra), "a.toml"), 1);
    const auto b = compile(load_topology_text(asenet::testing::random_topology(rb), "b.toml"), 1);
    const DiffReport r = nsg_diff(a, b, "n");
    ASSERT_TRUE(r.incomplete.empty());
    for (const auto& x : r.regions) {
      ++regions;
      const auto t = x.example_a.packet.tuple();
      ASSERT_EQ(allows(a, "n", x.direction, t), x.allow_a);
      ASSERT_EQ(allows(b, "n", x.direction, t), x.allow_b);
      ASSERT_EQ(rule_for(a, x.direction, x.example_a.packet), x.rule_a);
      ASSERT_EQ(rule_for(b, x.direction, x.example_b.packet), x.rule_b);
    }
    for (int i = 0; i < 2000; ++i) {
      const NsgDirection d = rng() % 3 == 0 ? NsgDirection::kOutbound : NsgDirection::kInbound;
      const auto t = asenet::testing::random_packet(rng, d);
      const bool differs = allows(a, "n", d, t) != allows(b, "n", d, t);
      const DiffRegion* in = region_of(r, d, t);
      ASSERT_EQ(differs, in != nullptr) << "round " << round << " packet " << i;
      (differs ? inside : outside)++;
    }
  }
  EXPECT_GT(regions, 100u);
  EXPECT_GT(inside, 2000u);
  EXPECT_GT(outside, 100000u);
}

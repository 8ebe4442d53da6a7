// Bytes and packets per NSG rule (dataplane/flow/rule_tally, control/report/
// rule_totals): flows judged alike share a set, every packet counts in it, a
// flow established before a push counts against the rule that allowed it,
// sets of old epochs come back once their flows end, and a full tally counts
// the flows it could not take instead of losing them silently.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "control/report/rule_totals.hpp"
#include "dataplane/flow/rule_tally.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::dataplane;

namespace {

NsgVerdicts verdict(std::initializer_list<uint32_t> rules) {
  NsgVerdicts v;
  for (uint32_t r : rules) v.rule[v.count++] = r;
  return v;
}

/// Two NSGs: "out" with rules Web (id 0) and Db (id 1), "in" with rule Any (id 2).
TableSpec two_nsgs(const char* second_rule = "Db") {
  TableSpec s;
  s.nsgs.resize(2);
  s.nsgs[0].name = "out";
  s.nsgs[1].name = "in";
  s.nsg_rules.resize(3);
  s.nsg_rules[0].name = "Web";
  s.nsg_rules[1].name = second_rule;
  s.nsg_rules[2].name = "Any";
  s.nsg_rules[2].nsg = 1;
  return s;
}

}  // namespace

TEST(RuleTally, FlowsJudgedAlikeShareASetAndEveryRuleOfItCounts) {
  RuleTally t;
  std::string err;
  ASSERT_TRUE(t.init("rt_share", 8, err)) << err;
  RuleTotals totals;
  const uint64_t e = totals.epoch_for(two_nsgs());
  const uint16_t a = t.intern(e, verdict({0, 2}));
  const uint16_t b = t.intern(e, verdict({0, 2}));
  const uint16_t c = t.intern(e, verdict({1, 2}));
  ASSERT_NE(a, 0);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(t.intern(e, verdict({})), 0) << "a flow no NSG judged counts nowhere";
  t.count(a, 0, 100);
  t.count(b, 1, 1500);
  t.count(c, 0, 60);
  const RuleTrafficMap m = totals.collect({&t});
  EXPECT_EQ(m.at("out/Web").bytes[0], 100u);
  EXPECT_EQ(m.at("out/Web").bytes[1], 1500u);
  EXPECT_EQ(m.at("out/Db").bytes[0], 60u);
  EXPECT_EQ(m.at("in/Any").bytes[0], 160u) << "both levels' rules get the flow's bytes";
  EXPECT_EQ(m.at("in/Any").packets[0], 2u);
  EXPECT_EQ(m.at("in/Any").packets[1], 1u);
  // Counting is not reading: a second collect gives the same totals.
  EXPECT_EQ(totals.collect({&t}).at("in/Any").bytes[0], 160u);
}

TEST(RuleTally, APushKeepsOldFlowsOnTheRuleThatAllowedThemAndTheirSetComesBack) {
  RuleTally t;
  std::string err;
  ASSERT_TRUE(t.init("rt_push", 2, err)) << err;
  RuleTotals totals;
  const uint64_t e1 = totals.epoch_for(two_nsgs());
  EXPECT_EQ(totals.epoch_for(two_nsgs()), e1) << "the same rules (a health change): the same epoch";
  const uint16_t old_flow = t.intern(e1, verdict({1}));
  t.count(old_flow, 0, 40);
  // A push renames rule 1: the same id now means another rule.
  const uint64_t e2 = totals.epoch_for(two_nsgs("Cache"));
  ASSERT_NE(e2, e1);
  const uint16_t new_flow = t.intern(e2, verdict({1}));
  ASSERT_NE(new_flow, 0);
  ASSERT_NE(new_flow, old_flow);
  t.count(old_flow, 1, 1000);  // the established flow goes on, counted where it began
  t.count(new_flow, 0, 7);
  RuleTrafficMap m = totals.collect({&t});
  EXPECT_EQ(m.at("out/Db").bytes[0], 40u);
  EXPECT_EQ(m.at("out/Db").bytes[1], 1000u);
  EXPECT_EQ(m.at("out/Cache").bytes[0], 7u);
  // Both sets are taken: a third verdict finds none and is counted as such.
  EXPECT_EQ(t.intern(e2, verdict({0})), 0);
  EXPECT_EQ(t.uncounted(), 1u);
  // The old flow ends: its set goes to the control thread, which keeps its
  // counts and gives it back; then the third verdict gets a set.
  t.release(old_flow);
  EXPECT_EQ(t.intern(e2, verdict({0})), 0) << "not back before the control thread folded it";
  m = totals.collect({&t});
  EXPECT_EQ(m.at("out/Db").bytes[1], 1000u) << "folded, not lost";
  const uint16_t third = t.intern(e2, verdict({0}));
  EXPECT_EQ(third, old_flow) << "the folded set is reused";
  t.count(third, 0, 5);
  m = totals.collect({&t});
  EXPECT_EQ(m.at("out/Web").bytes[0], 5u) << "a reused set starts from zero";
  EXPECT_EQ(m.at("out/Db").bytes[0], 40u);
  EXPECT_EQ(m.at("out/Db").bytes[1], 1000u);
  EXPECT_EQ(m.at("out/Cache").bytes[0], 7u);
}

TEST(RuleTally, ASetOfTheCurrentEpochStaysWhenItsLastFlowEnds) {
  RuleTally t;
  std::string err;
  ASSERT_TRUE(t.init("rt_stay", 4, err)) << err;
  RuleTotals totals;
  const uint64_t e = totals.epoch_for(two_nsgs());
  const uint16_t a = t.intern(e, verdict({0}));
  t.count(a, 0, 10);
  t.release(a);
  const uint16_t again = t.intern(e, verdict({0}));
  EXPECT_EQ(again, a);
  t.count(again, 0, 10);
  EXPECT_EQ(totals.collect({&t}).at("out/Web").bytes[0], 20u);
  // An epoch change sweeps it back once nobody holds it.
  t.release(again);
  const uint64_t e2 = totals.epoch_for(two_nsgs("Other"));
  ASSERT_NE(t.intern(e2, verdict({2})), 0);
  const RuleTrafficMap m = totals.collect({&t});
  EXPECT_EQ(m.at("out/Web").bytes[0], 20u);
  EXPECT_EQ(m.count("out/Other"), 0u);
}

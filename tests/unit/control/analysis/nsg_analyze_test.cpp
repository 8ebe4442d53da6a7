// nsg analyze (control/analysis/nsg_analyze): the planted findings of
// config/examples/nsg-review.toml are found, and for random rule sets every
// finding holds when checked the slow way (verify on its example packet, and
// brute force over packets drawn at rule edges).
#include "control/analysis/nsg_analyze.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "control/compiler/compile.hpp"
#include "control/reference/verify.hpp"
#include "tests/unit/support/random_nsg.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::control::analysis;
using dataplane::NsgDirection;

namespace {

const Finding* find(const AnalysisReport& r, const std::string& kind, const std::string& rule) {
  for (const auto& f : r.findings)
    if (f.kind == kind && f.rule == "securityRules/" + rule) return &f;
  return nullptr;
}

VerifyQuery query_of(const VerifyHint& h) {
  VerifyQuery q;
  q.direction = h.direction;
  q.proto = h.packet.proto;
  const bool in = h.direction == NsgDirection::kInbound;
  q.local_ip = in ? h.packet.dst : h.packet.src;
  q.local_port = in ? h.packet.dport : h.packet.sport;
  q.remote_ip = in ? h.packet.src : h.packet.dst;
  q.remote_port = in ? h.packet.sport : h.packet.dport;
  return q;
}

/// What verify answers on a hint: "Allow NSG securityRules/X".
std::string verify_answer(const dataplane::TableSpec& spec, const VerifyHint& h) {
  VerifyResult r;
  if (h.nsg.empty()) {
    r = verify_flow(spec, query_of(h)).value_or(VerifyResult{});
  } else {
    for (uint32_t i = 0; i < spec.nsgs.size(); ++i)
      if (spec.nsgs[i].name == h.nsg) r = verify_one(spec, i, query_of(h));
  }
  if (r.steps.empty()) return "no NSG";
  return std::string(r.allow ? "Allow " : "Deny ") + r.steps.back().nsg + " " + r.steps.back().rule_name;
}

std::string hint_answer(const VerifyHint& h) {
  return std::string(h.allow ? "Allow " : "Deny ") + h.rule_nsg + " " + h.rule;
}

uint32_t nsg_index(const dataplane::TableSpec& spec, const std::string& name) {
  for (uint32_t i = 0; i < spec.nsgs.size(); ++i)
    if (spec.nsgs[i].name == name) return i;
  return 0;
}

/// The first rule of NSG `n` matching t, as the reference evaluator finds it.
std::optional<uint32_t> first(const dataplane::TableSpec& s, uint32_t n, NsgDirection d,
                              const dataplane::FiveTuple& t) {
  return dataplane::nsg_first_match(s.nsg_rules, s.nsgs[n], d, t);
}

}  // namespace

class PlantedFindings : public ::testing::Test {
 protected:
  Topology topo = load_topology(ASENET_CONFIG_DIR "/examples/nsg-review.toml");
  dataplane::TableSpec spec = compile(topo, 1);
  AnalysisReport report = analyze(topo, spec);
};

TEST_F(PlantedFindings, EachPlantedRuleIsFoundWithTheRulesThatExplainIt) {
  const Finding* f = find(report, "shadowed", "AllowHttpsToSubnet");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->related, std::vector<std::string>{"securityRules/AllowHttps"});
  f = find(report, "conflicting", "DenyBadNet");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->related, std::vector<std::string>{"securityRules/AllowHttps"});
  EXPECT_EQ(f->example->packet.dport, 443);
  f = find(report, "conflicting", "AllowHttp");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->related, std::vector<std::string>{"securityRules/DenyBadNet"});
  f = find(report, "redundant", "AllowVnet");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->related, std::vector<std::string>{"defaultSecurityRules/AllowVnetInBound"});
  EXPECT_NE(find(report, "never-matches", "AllowLegacyApp"), nullptr);
  f = find(report, "masked", "AllowRdpFromInternet");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->nsg, "db-nic-nsg");
  EXPECT_EQ(f->example->rule_nsg, "data-nsg");
  // Rules written to do their job are not findings.
  EXPECT_EQ(find(report, "redundant", "AllowMgmt"), nullptr);
  EXPECT_EQ(find(report, "redundant", "AllowSqlFromAse"), nullptr);
  EXPECT_EQ(find(report, "shadowed", "AllowHttp"), nullptr);
}

TEST_F(PlantedFindings, EveryExampleGetsTheVerdictVerifyGives) {
  size_t checked = 0;
  for (const auto& f : report.findings) {
    if (!f.example) continue;
    EXPECT_EQ(verify_answer(spec, *f.example), hint_answer(*f.example)) << f.kind << " " << f.rule;
    ++checked;
  }
  EXPECT_GE(checked, 7u);
}

TEST_F(PlantedFindings, ExposureIsWhatTheRulesOpenToTheInternet) {
  ASSERT_EQ(report.exposure.size(), 1u);
  const Exposure& x = report.exposure[0];
  auto port = [&](uint32_t p) -> const ExposedPorts* {
    for (const auto& e : x.ports)
      if (e.protocol == "TCP" && e.ports.lo <= p && p <= e.ports.hi) return &e;
    return nullptr;
  };
  ASSERT_NE(port(443), nullptr);
  EXPECT_TRUE(port(443)->every_source);
  EXPECT_TRUE(port(443)->served);
  EXPECT_EQ(port(443)->instances.size(), 2u);
  ASSERT_NE(port(80), nullptr);
  EXPECT_EQ(port(80)->internet - port(80)->sources, 256u);  // all but DenyBadNet's /24
  ASSERT_NE(port(454), nullptr);
  EXPECT_EQ(port(454)->sources, 2u);  // the two AppServiceManagement addresses
  EXPECT_EQ(port(8080), nullptr);     // AllowLegacyApp opens nothing
  EXPECT_EQ(port(22), nullptr);
  ASSERT_FALSE(x.management.empty());
  EXPECT_TRUE(std::all_of(x.management.begin(), x.management.end(), [](auto& m) { return m.first; }));
}

TEST_F(PlantedFindings, LimitsCountRulesAndRteAclExpansion) {
  ASSERT_EQ(report.limits.size(), 3u);
  EXPECT_EQ(report.limits[0].nsg, "ase-nsg");
  EXPECT_EQ(report.limits[0].rules, 7u);
  EXPECT_EQ(report.limits[0].rule_limit, 1000u);  // era current
  EXPECT_TRUE(report.limits[0].exceeded.empty());
  EXPECT_EQ(report.limits[0].expansion.size(), 7u + 6u);  // user rules and the six defaults
  size_t sum = 0;
  for (const auto& e : report.limits[0].expansion) sum += e.acl_rules;
  EXPECT_EQ(sum, report.limits[0].acl_rules);
  // AllowMgmt lists two AppServiceManagement prefixes: two rte_acl rules.
  const auto it = std::find_if(report.limits[0].expansion.begin(), report.limits[0].expansion.end(),
                               [](auto& e) { return e.rule == "securityRules/AllowMgmt"; });
  ASSERT_NE(it, report.limits[0].expansion.end());
  EXPECT_EQ(it->acl_rules, 2u);
}

// Property: for random rule sets, every finding is confirmed independently.
TEST(AnalyzeProperty, EveryFindingHoldsOnRandomRuleSets) {
  std::mt19937 rng(2026);
  size_t findings = 0, packets = 0;
  for (int round = 0; round < 150; ++round) {
    auto rules = asenet::testing::random_rules(rng, 3 + rng() % 10);
    auto nic = asenet::testing::random_rules(rng, rng() % 4);
    for (auto& r : nic) r.name = "nic" + r.name;
    const Topology topo = load_topology_text(asenet::testing::random_topology(rules, nic), "random.toml");
    const auto spec = compile(topo, 1);
    const auto report = analyze(topo, spec);
    ASSERT_TRUE(report.incomplete.empty());
    for (const auto& f : report.findings) {
      ++findings;
      const uint32_t n = nsg_index(spec, f.nsg);
      uint32_t id = 0;
      for (uint32_t i : f.direction == NsgDirection::kInbound ? spec.nsgs[n].inbound : spec.nsgs[n].outbound)
        if (spec.nsg_rules[i].arm_name() == f.rule) id = i;
      const auto& rule = spec.nsg_rules[id];
      if (f.example) {
        ASSERT_EQ(verify_answer(spec, *f.example), hint_answer(*f.example)) << round << " " << f.kind;
      }
      if (f.kind == "shadowed" || f.kind == "conflicting") {
        const auto t = f.example->packet.tuple();
        ASSERT_TRUE(rule.matches(t)) << round;
        ASSERT_NE(*first(spec, n, f.direction, t), id) << round;
        if (f.kind == "conflicting") {
          ASSERT_NE(spec.nsg_rules[*first(spec, n, f.direction, t)].allow, rule.allow);
        }
      }
      // Brute force over packets this NSG sees.
      const std::string local = f.nsg == "n" ? "10.0.1." : "10.0.1.4";
      for (int i = 0; i < 400; ++i) {
        auto t = asenet::testing::random_packet(rng, f.direction);
        if (f.nsg == "nic") (f.direction == NsgDirection::kInbound ? t.dst : t.src) = 0x0a000104;
        ++packets;
        const auto fm = first(spec, n, f.direction, t);
        if (f.kind == "never-matches") {
          ASSERT_FALSE(rule.matches(t)) << round;
        }
        if (f.kind == "shadowed") {
          ASSERT_NE(*fm, id) << round;
        }
        if (f.kind == "redundant" && *fm == id) {
          // Without the rule, the rules after it give the same access.
          std::optional<uint32_t> next;
          for (uint32_t j : f.direction == NsgDirection::kInbound ? spec.nsgs[n].inbound : spec.nsgs[n].outbound)
            if (spec.nsg_rules[j].priority > rule.priority && spec.nsg_rules[j].matches(t)) {
              next = j;
              break;
            }
          ASSERT_TRUE(next && spec.nsg_rules[*next].allow == rule.allow) << round << " " << f.rule;
        }
      }
    }
  }
  EXPECT_GT(findings, 150u);
  EXPECT_GT(packets, 50000u);
}

// Property, the other way: a rule the analysis does not call shadowed or
// never-matching decides some packet, and its example is one.
TEST(AnalyzeProperty, UnflaggedRulesDecideTheirOwnPackets) {
  std::mt19937 rng(7);
  for (int round = 0; round < 100; ++round) {
    auto rules = asenet::testing::random_rules(rng, 3 + rng() % 8);
    const Topology topo = load_topology_text(asenet::testing::random_topology(rules), "random.toml");
    const auto spec = compile(topo, 1);
    const auto report = analyze(topo, spec, "n");
    const uint32_t n = nsg_index(spec, "n");
    for (NsgDirection dir : {NsgDirection::kInbound, NsgDirection::kOutbound}) {
      const Evaluation e = evaluate(spec, n, dir, universe(dir, nsg_scope(spec, n)));
      for (size_t i = 0; i < e.ids.size(); ++i) {
        if (e.reach[i].empty()) continue;
        const Packet p = e.reach[i].example();
        ASSERT_EQ(*first(spec, n, dir, p.tuple()), e.ids[i]) << round;
      }
    }
  }
}

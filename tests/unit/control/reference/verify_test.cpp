// IP flow verify (control/reference/verify): which NSG rule decides a flow, in Azure's order.
#include <gtest/gtest.h>

#include <string>

#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "control/reference/verify.hpp"
#include "tests/unit/support/ase_v1_topology.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::dataplane;

namespace {

struct Flow {
  const char* dir;
  const char* proto;
  const char* local;
  uint16_t lport;
  const char* remote;
  uint16_t rport;
};

VerifyResult run(const TableSpec& spec, const Flow& f) {
  VerifyQuery q;
  q.direction = std::string(f.dir) == "in" ? NsgDirection::kInbound : NsgDirection::kOutbound;
  q.proto = std::string(f.proto) == "tcp" ? 6 : std::string(f.proto) == "udp" ? 17 : 1;
  q.local_ip = *parse_ipv4(f.local);
  q.local_port = f.lport;
  q.remote_ip = *parse_ipv4(f.remote);
  q.remote_port = f.rport;
  auto r = verify_flow(spec, q);
  EXPECT_TRUE(r.has_value());
  return r.value_or(VerifyResult{});
}

class Verify : public ::testing::Test {
 protected:
  TableSpec spec = compile(load_topology_text(asenet::testing::kAseV1Topology, "t.toml"), 1);
  std::string decided(const Flow& f) {
    auto r = run(spec, f);
    if (r.steps.empty()) return std::string(r.allow ? "Allow" : "Deny") + " (no NSG)";
    return std::string(r.allow ? "Allow " : "Deny ") + r.steps.back().nsg + " " + r.steps.back().rule_name;
  }
};

}  // namespace

// 11.9: ascending priority, the first match decides.
TEST_F(Verify, FirstMatchInPriorityOrderDecides) {
  EXPECT_EQ(decided({"in", "tcp", "10.0.1.4", 443, "1.2.3.4", 50000}), "Allow ase-nsg securityRules/RESTRICT_HTTPS");
  EXPECT_EQ(decided({"in", "tcp", "10.0.1.4", 443, "1.2.3.5", 50000}), "Deny ase-nsg securityRules/DenyAllHttps");
  EXPECT_EQ(decided({"in", "tcp", "10.0.1.4", 454, "70.37.57.58", 50000}),
            "Allow ase-nsg securityRules/ALLOW_AzureMngmt");
}

// 11.10: the default rules with no matching user rule.
TEST_F(Verify, DefaultRulesDecideWhenNoUserRuleMatches) {
  EXPECT_EQ(decided({"in", "tcp", "10.0.1.4", 8080, "10.0.3.9", 50000}),
            "Allow ase-nsg defaultSecurityRules/AllowVnetInBound");
  EXPECT_EQ(decided({"in", "tcp", "10.0.1.4", 8080, "8.8.8.8", 50000}),
            "Deny ase-nsg defaultSecurityRules/DenyAllInBound");
  EXPECT_EQ(decided({"out", "tcp", "10.0.1.4", 50000, "13.107.4.50", 443}),
            "Allow ase-nsg defaultSecurityRules/AllowInternetOutBound");
  EXPECT_EQ(decided({"out", "udp", "10.0.1.4", 50000, "10.0.3.9", 53}),
            "Allow ase-nsg defaultSecurityRules/AllowVnetOutBound");
  // No NSG on the subnet: allowed, no rule named.
  EXPECT_EQ(decided({"in", "tcp", "10.0.3.5", 22, "8.8.8.8", 50000}), "Allow (no NSG)");
}

// 11.13: inbound subnet then NIC, outbound NIC then subnet; a deny ends it.
TEST_F(Verify, SubnetThenNicInboundNicThenSubnetOutbound) {
  auto r = run(spec, {"in", "tcp", "10.0.2.4", 3389, "10.0.1.4", 50000});
  ASSERT_EQ(r.steps.size(), 2u);
  EXPECT_EQ(r.steps[0].nsg, "data-nsg");
  EXPECT_EQ(r.steps[0].rule_name, "defaultSecurityRules/AllowVnetInBound");
  EXPECT_EQ(r.steps[1].nsg, "sql-nic");
  EXPECT_EQ(r.steps[1].rule_name, "securityRules/DenyRdp");
  EXPECT_FALSE(r.allow);
  r = run(spec, {"out", "tcp", "10.0.2.4", 50000, "10.0.1.4", 25});
  ASSERT_EQ(r.steps.size(), 1u);  // the NIC denies first; the subnet is not consulted
  EXPECT_EQ(r.steps[0].nsg, "sql-nic");
  r = run(spec, {"out", "tcp", "10.0.2.4", 50000, "10.0.1.4", 80});
  ASSERT_EQ(r.steps.size(), 2u);
  EXPECT_EQ(r.steps[0].nsg, "sql-nic");
  EXPECT_EQ(r.steps[1].nsg, "data-nsg");
  EXPECT_EQ(r.steps[1].rule_name, "securityRules/DenyOutWeb");
  EXPECT_EQ(verify_json(r),
            R"({"access":"Deny","ruleName":"securityRules/DenyOutWeb","nsg":"data-nsg","evaluations":[)"
            R"({"nsg":"sql-nic","level":"nic","ruleName":"defaultSecurityRules/AllowVnetOutBound","access":"Allow"},)"
            R"({"nsg":"data-nsg","level":"subnet","ruleName":"securityRules/DenyOutWeb","access":"Deny"}]})");
}

// 11.15: a user deny covering 168.63.129.16 above the defaults blocks probes.
TEST_F(Verify, UserDenyOfThePlatformAddressBlocksProbes) {
  EXPECT_EQ(decided({"in", "tcp", "10.0.1.4", 80, "168.63.129.16", 50000}), "Deny ase-nsg securityRules/DenyProbes");
}

// 11.16: an augmented rule matches each of its elements and nothing else.
TEST_F(Verify, AugmentedRuleMatchesEachElement) {
  for (const char* src : {"203.0.113.1", "203.0.113.254", "198.51.100.7"})
    for (uint16_t port : {21, 10001, 10010, 10020})
      EXPECT_EQ(decided({"in", "tcp", "10.0.1.5", port, src, 40000}), "Allow ase-nsg securityRules/FtpDev")
          << src << ":" << port;
  for (uint16_t port : {20, 22, 10000, 10021})
    EXPECT_NE(decided({"in", "tcp", "10.0.1.5", port, "203.0.113.1", 40000}), "Allow ase-nsg securityRules/FtpDev")
        << port;
  EXPECT_NE(decided({"in", "tcp", "10.0.1.5", 21, "198.51.100.8", 40000}), "Allow ase-nsg securityRules/FtpDev");
}

TEST_F(Verify, IcmpIgnoresPortsAndUdpIsNotTcp) {
  // A TCP-only rule does not match ICMP or UDP; the defaults decide.
  EXPECT_EQ(decided({"in", "icmp", "10.0.1.4", 0, "8.8.8.8", 0}), "Deny ase-nsg defaultSecurityRules/DenyAllInBound");
  EXPECT_EQ(decided({"in", "udp", "10.0.1.4", 454, "70.37.57.58", 1}),
            "Deny ase-nsg defaultSecurityRules/DenyAllInBound");
}

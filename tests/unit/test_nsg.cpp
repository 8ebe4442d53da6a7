// NSG semantics without EAL: compilation (tags, defaults), the reference
// evaluator through `verify` (azure-semantics 11.9-11.17), the Azure JSON
// importer, the TCP state machine and the ClassBench oracle.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "control/model/azure_nsg.hpp"
#include "control/offline/classbench.hpp"
#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "control/reference/verify.hpp"
#include "dataplane/flow/flow_table.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::dataplane;

namespace {

const std::string kData = ASENET_TEST_DATA;
const std::string kShared = ASENET_SHARED_TESTDATA;

// The ASEv1 example policy (azure-semantics 5.1) plus a SQL VM with a NIC NSG.
const char* kTopo = R"(
[vnet]
name = "corp-vnet"
address_space = ["10.0.0.0/16"]
[[subnets]]
name = "ase-one"
prefix = "10.0.1.0/26"
nsg = "ase-nsg"
[[subnets]]
name = "data"
prefix = "10.0.2.0/24"
nsg = "data-nsg"
[[subnets]]
name = "bare"
prefix = "10.0.3.0/24"
[[ases]]
name = "ase-one"
subnet = "ase-one"
public_vip = "192.23.1.2"
instances = ["10.0.1.4", "10.0.1.5"]
[[hosts]]
name = "sql-vm"
ip = "10.0.2.4"
nsg = "sql-nic"
[[nsgs]]
name = "ase-nsg"
[[nsgs.rules]]
name = "ALLOW_AzureMngmt"
priority = 100
direction = "Inbound"
access = "Allow"
protocol = "Tcp"
source_address_prefixes = "INTERNET"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "454-455"
[[nsgs.rules]]
name = "RESTRICT_HTTPS"
priority = 300
direction = "Inbound"
access = "Allow"
protocol = "Tcp"
source_address_prefixes = "1.2.3.4/32"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "443"
[[nsgs.rules]]
name = "DenyAllHttps"
priority = 400
direction = "Inbound"
access = "Deny"
protocol = "Tcp"
source_address_prefixes = "*"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "443"
[[nsgs.rules]]
name = "DenyProbes"
priority = 500
direction = "Inbound"
access = "Deny"
protocol = "*"
source_address_prefixes = "168.63.129.16"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "*"
[[nsgs.rules]]
name = "FtpDev"
priority = 600
direction = "Inbound"
access = "Allow"
protocol = "Tcp"
source_address_prefixes = ["203.0.113.0/24", "198.51.100.7"]
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "21,10001-10020"
[[nsgs]]
name = "data-nsg"
[[nsgs.rules]]
name = "DenyOutWeb"
priority = 100
direction = "Outbound"
access = "Deny"
protocol = "Tcp"
source_address_prefixes = "*"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "80"
[[nsgs]]
name = "sql-nic"
[[nsgs.rules]]
name = "DenyRdp"
priority = 100
direction = "Inbound"
access = "Deny"
protocol = "Tcp"
source_address_prefixes = "*"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "3389"
[[nsgs.rules]]
name = "DenySmtpOut"
priority = 100
direction = "Outbound"
access = "Deny"
protocol = "Tcp"
source_address_prefixes = "*"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "25"
)";

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
  TableSpec spec = compile(load_topology_text(kTopo, "t.toml"), 1);
  std::string decided(const Flow& f) {
    auto r = run(spec, f);
    if (r.steps.empty()) return std::string(r.allow ? "Allow" : "Deny") + " (no NSG)";
    return std::string(r.allow ? "Allow " : "Deny ") + r.steps.back().nsg + " " + r.steps.back().rule_name;
  }
};

}  // namespace

TEST(AclPriority, LowerAzurePriorityWinsInRteAcl) {
  for (uint32_t p = 100; p < 4096; ++p) EXPECT_GT(acl_priority(p), acl_priority(p + 1));
  EXPECT_GT(acl_priority(4096), acl_priority(65000));
  EXPECT_GT(acl_priority(65001), acl_priority(65500));
  EXPECT_GE(acl_priority(65500), 1u);  // RTE_ACL_MIN_PRIORITY
}

TEST(Tags, ComplementAndNormalizeAreExact) {
  std::mt19937 rng(3);
  for (int round = 0; round < 50; ++round) {
    std::vector<Cidr> set;
    for (int i = 0; i < 8; ++i) {
      const uint8_t len = static_cast<uint8_t>(rng() % 33);
      set.push_back(Cidr{static_cast<uint32_t>(rng()) & Cidr{0, len}.mask(), len});
    }
    const auto norm = normalize_prefixes(set);
    const auto comp = complement_prefixes(set);
    for (int probe = 0; probe < 2000; ++probe) {
      uint32_t ip = static_cast<uint32_t>(rng());
      if (probe % 2 == 0) {  // near an edge of the set
        const Cidr& c = set[rng() % set.size()];
        ip = (probe % 4 == 0 ? c.addr : c.last()) + static_cast<uint32_t>(rng() % 3) - 1;
      }
      bool in_set = false, in_norm = false, in_comp = false;
      for (const auto& c : set) in_set |= c.contains(ip);
      for (const auto& c : norm) in_norm |= c.contains(ip);
      for (const auto& c : comp) in_comp |= c.contains(ip);
      ASSERT_EQ(in_set, in_norm) << format_ipv4(ip);
      ASSERT_NE(in_set, in_comp) << format_ipv4(ip);
    }
  }
  EXPECT_EQ(complement_prefixes({Cidr{0, 0}}).size(), 0u);
  EXPECT_EQ(complement_prefixes({}), (std::vector<Cidr>{Cidr{0, 0}}));
}

TEST(Tags, VirtualNetworkIsVnetPlusGatewayPlusUdrPlusPlatform) {
  Topology t = load_topology_text(
      "[vnet]\nname = \"vvnet\"\naddress_space = \"10.0.0.0/16\"\n[[subnets]]\nname = \"s\"\nprefix = \"10.0.1.0/24\"\n"
      "route_table = \"rt\"\n[[route_tables]]\nname = \"rt\"\n[[route_tables.routes]]\nname = \"p\"\n"
      "address_prefix = \"192.168.50.0/24\"\nnext_hop_type = \"VirtualNetworkGateway\"\n"
      "[gateway]\nbgp_routes = \"172.16.0.0/12\"\n",
      "t.toml");
  const auto vnet = expand_service_tag(t, "VirtualNetwork");
  auto in = [&](const std::vector<Cidr>& v, const char* ip) {
    for (const auto& c : v)
      if (c.contains(*parse_ipv4(ip))) return true;
    return false;
  };
  for (const char* ip : {"10.0.200.1", "172.31.0.1", "192.168.50.9", "168.63.129.16"}) EXPECT_TRUE(in(vnet, ip)) << ip;
  for (const char* ip : {"8.8.8.8", "192.168.51.1", "168.63.129.17"}) EXPECT_FALSE(in(vnet, ip)) << ip;
  const auto inet = expand_service_tag(t, "Internet");
  EXPECT_TRUE(in(inet, "8.8.8.8"));
  EXPECT_FALSE(in(inet, "172.20.0.1"));
  EXPECT_EQ(expand_service_tag(t, "AzureLoadBalancer"), (std::vector<Cidr>{*parse_cidr("168.63.129.16/32").cidr}));
}

TEST(Tags, UdrForTheDefaultRouteMakesVirtualNetworkEverythingAndInternetNothing) {
  Topology t = load_topology_text(
      "[vnet]\nname = \"vvnet\"\naddress_space = \"10.0.0.0/16\"\n[[subnets]]\nname = \"s\"\nprefix = \"10.0.1.0/24\"\n"
      "nsg = \"n\"\nroute_table = \"rt\"\n[[route_tables]]\nname = \"rt\"\n[[route_tables.routes]]\nname = \"ft\"\n"
      "address_prefix = \"0.0.0.0/0\"\nnext_hop_type = \"VirtualNetworkGateway\"\n[[nsgs]]\nname = \"n\"\n",
      "t.toml");
  EXPECT_TRUE(expand_service_tag(t, "Internet").empty());
  const auto spec = compile(t, 1);
  // AllowInternetOutBound can never match; AllowVnetOutBound matches everything.
  VerifyQuery q;
  q.direction = NsgDirection::kOutbound;
  q.local_ip = *parse_ipv4("10.0.1.9");
  q.remote_ip = *parse_ipv4("8.8.8.8");
  q.remote_port = 443;
  auto r = verify_flow(spec, q);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->allow);
  EXPECT_EQ(r->steps.back().rule_name, "defaultSecurityRules/AllowVnetOutBound");
}

TEST(Defaults, EveryNsgGetsAzuresSixRules) {
  const auto spec = compile(load_topology_text(kTopo, "t.toml"), 1);
  for (const auto& nsg : spec.nsgs) {
    std::vector<std::pair<std::string, uint32_t>> in, out;
    for (uint32_t id : nsg.inbound)
      if (spec.nsg_rules[id].is_default) in.emplace_back(spec.nsg_rules[id].name, spec.nsg_rules[id].priority);
    for (uint32_t id : nsg.outbound)
      if (spec.nsg_rules[id].is_default) out.emplace_back(spec.nsg_rules[id].name, spec.nsg_rules[id].priority);
    EXPECT_EQ(in,
              (std::vector<std::pair<std::string, uint32_t>>{
                  {"AllowVnetInBound", 65000}, {"AllowAzureLoadBalancerInBound", 65001}, {"DenyAllInBound", 65500}}));
    EXPECT_EQ(out, (std::vector<std::pair<std::string, uint32_t>>{
                       {"AllowVnetOutBound", 65000}, {"AllowInternetOutBound", 65001}, {"DenyAllOutBound", 65500}}));
  }
}

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

TEST(AzureJson, AzCliOutputAndArmResourceAndTemplate) {
  Topology t;
  t.address_space = {*parse_cidr("10.0.0.0/16").cidr};
  auto cli = load_nsg_json(kData + "/nsg-az-cli.json", t);
  EXPECT_EQ(cli.name, "web-nsg");
  ASSERT_EQ(cli.rules.size(), 3u);  // defaultSecurityRules are not user rules
  EXPECT_EQ(cli.rules[0].destination_ports, (std::vector<PortRange>{{80, 80}, {443, 443}}));
  EXPECT_EQ(cli.rules[0].source.prefixes.size(), 1u);
  EXPECT_EQ(cli.rules[1].protocol, Protocol::kAny);
  EXPECT_EQ(cli.rules[1].source.prefixes.size(), 2u);
  EXPECT_EQ(cli.rules[1].destination_ports, (std::vector<PortRange>{{21, 21}, {10001, 10020}}));
  EXPECT_EQ(cli.rules[2].direction, Direction::kOutbound);
  EXPECT_EQ(cli.rules[2].destination.tag, "Internet");
  auto arm = load_nsg_json(kData + "/nsg-arm.json", t);
  EXPECT_EQ(arm.name, "ase-nsg");
  ASSERT_EQ(arm.rules.size(), 1u);
  EXPECT_EQ(arm.rules[0].source.tag, "Internet");  // classic INTERNET spelling
  EXPECT_EQ(arm.rules[0].destination_ports, (std::vector<PortRange>{{454, 455}}));
  auto tpl = load_nsg_json(kData + "/nsg-template.json", t);
  EXPECT_EQ(tpl.name, "tpl-nsg");
  ASSERT_EQ(tpl.rules.size(), 1u);
  EXPECT_EQ(tpl.rules[0].priority, 4096u);
}

TEST(AzureJson, BothSingularAndPluralIsRejected) {
  Topology t;
  try {
    load_nsg_json(kData + "/nsg-both-forms.json", t);
    FAIL();
  } catch (const TopologyError& e) {
    EXPECT_NE(std::string(e.what()).find("nsg-both-forms.json:5:7:"), std::string::npos) << e.what();
    EXPECT_NE(e.message().find("Azure takes one"), std::string::npos) << e.what();
  }
}

TEST(AzureJson, BadJsonNamesLineAndColumn) {
  const std::string path = ::testing::TempDir() + "/broken.json";
  std::ofstream(path) << "{\n  \"name\": \"x\",\n  \"securityRules\": [ ,\n}";
  try {
    load_nsg_json(path, Topology{});
    FAIL();
  } catch (const TopologyError& e) {
    EXPECT_EQ(e.loc().line, 3u) << e.what();
    EXPECT_NE(e.message().find("invalid JSON"), std::string::npos);
  }
}

TEST(AzureJson, TopologyLoadsNsgFileRelativeToItself) {
  const std::string dir = ::testing::TempDir() + "/nsgfile";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(kData + "/nsg-arm.json", dir + "/ase.json",
                             std::filesystem::copy_options::overwrite_existing);
  std::ofstream(dir + "/topo.toml")
      << "[vnet]\nname = \"vvnet\"\naddress_space = \"10.0.0.0/16\"\n[[subnets]]\nname = \"s\"\n"
         "prefix = \"10.0.1.0/24\"\nnsg = \"imported\"\n[[nsgs]]\nname = \"imported\"\n"
         "nsg_file = \"ase.json\"\n";
  Topology t = load_topology(dir + "/topo.toml");
  ASSERT_EQ(t.nsgs.size(), 1u);
  EXPECT_EQ(t.nsgs[0].name, "imported");
  ASSERT_EQ(t.nsgs[0].rules.size(), 1u);
  EXPECT_EQ(t.nsgs[0].rules[0].name, "AllowMgmt");
}

// The shared exports use priority 5, which Azure rejects: so must we.
TEST(AzureJson, SharedExportsWithPriorityBelow100AreRejected) {
  const std::string dir = kShared + "/azure/nsg-exports/test-nsg";
  if (!std::filesystem::exists(dir)) GTEST_SKIP() << dir << " is absent";
  for (const char* f : {"nsg-subnet2.json", "nsg-vm2.json"}) {
    try {
      load_nsg_json(dir + "/" + f, Topology{});
      ADD_FAILURE() << f << " accepted";
    } catch (const TopologyError& e) {
      EXPECT_NE(e.message().find("priority 5 is outside 100-4096"), std::string::npos) << e.what();
      EXPECT_GT(e.loc().line, 1u) << "should point at the rule: " << e.what();
    }
  }
  try {
    load_nsg_json(dir + "/vnet.json", Topology{});
    ADD_FAILURE() << "a VNet accepted as an NSG";
  } catch (const TopologyError& e) {
    EXPECT_NE(e.message().find("not Microsoft.Network/networkSecurityGroups"), std::string::npos) << e.what();
  }
}

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

// The plain-scan oracle itself agrees with dpdk-test-acl's expected results.
TEST(ClassBench, ReferenceScanAgreesWithExpectedFiles) {
  const std::string cb = kShared + "/classbench";
  if (!std::filesystem::exists(cb + "/expected")) GTEST_SKIP() << cb << " is absent";
  for (const char* name : {"acl1_1k", "fw1_1k", "ipc1_1k"}) {
    const auto rules = load_classbench_rules(cb + "/rules_1k/" + name);
    const auto trace = load_classbench_trace(cb + "/traces_1k/" + std::string(name) + "_trace");
    std::ifstream exp(cb + "/expected/" + std::string(name) + "_trace.expected");
    size_t i = 0;
    for (uint64_t want; exp >> want; ++i) {
      ASSERT_LT(i, trace.size());
      ASSERT_EQ(classbench_reference(rules, trace[i]), static_cast<uint32_t>(want)) << name << " line " << i + 1;
    }
    EXPECT_EQ(i, trace.size()) << name;
  }
}

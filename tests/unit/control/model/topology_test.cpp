// Topology loader and validation (issue 2, point 3): every rejection names
// file:line:col of the offending token. The marker '@' in a case's TOML shows
// where the error must point; it is removed before parsing.
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "control/compiler/compile.hpp"
#include "control/model/input_file.hpp"
#include "control/model/topology.hpp"

using namespace asenet;
using namespace asenet::control;

namespace {

struct Marked {
  std::string text;
  uint32_t line = 0, col = 0;
};

Marked mark(const std::string& src) {
  Marked m;
  uint32_t line = 1, col = 1;
  for (char c : src) {
    if (c == '@' && m.line == 0) {
      m.line = line;
      m.col = col;
      continue;
    }
    m.text += c;
    if (c == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return m;
}

// A small valid topology the cases below extend.
const std::string kBase = R"([vnet]
name = "corp-vnet"
address_space = ["10.0.0.0/16"]

[[subnets]]
name = "ase-one"
prefix = "10.0.1.0/26"
)";

struct BadCase {
  const char* name;
  std::string toml;     // appended to kBase unless it starts with "!" (then stands alone)
  const char* path;     // expected path in the message
  const char* message;  // expected substring of the message
  bool check_col = true;
};

std::string full(const std::string& t) { return t.rfind('!', 0) == 0 ? t.substr(1) : kBase + t; }

class TopologyRejects : public ::testing::TestWithParam<BadCase> {};

TEST_P(TopologyRejects, WithFileLineColPathAndMessage) {
  const BadCase& c = GetParam();
  Marked m = mark(full(c.toml));
  // The base has no marker: shift the expected line by its length when appended.
  ASSERT_NE(m.line, 0u) << "case has no @ marker";
  try {
    load_topology_text(m.text, "topo.toml");
    FAIL() << "accepted: " << c.name;
  } catch (const TopologyError& e) {
    EXPECT_EQ(e.file(), "topo.toml");
    EXPECT_EQ(e.loc().line, m.line) << e.what();
    if (c.check_col) {
      EXPECT_EQ(e.loc().col, m.col) << e.what();
    }
    EXPECT_EQ(e.path(), c.path) << e.what();
    EXPECT_NE(e.message().find(c.message), std::string::npos) << e.what();
    const std::string prefix = "topo.toml:" + std::to_string(m.line) + ":";
    EXPECT_EQ(std::string(e.what()).rfind(prefix, 0), 0u) << e.what();
  }
}

const std::string kAse = R"(
[[ases]]
name = "ase-one"
subnet = "ase-one"
public_vip = "192.23.1.2"
)";

std::string nsg_rule(const std::string& body) { return "\n[[nsgs]]\nname = \"n\"\n[[nsgs.rules]]\n" + body; }
const std::string kRuleOk =
    "name = \"r\"\npriority = 100\ndirection = \"Inbound\"\naccess = \"Allow\"\nprotocol = \"Tcp\"\n"
    "source_address_prefixes = \"*\"\nsource_port_ranges = \"*\"\n"
    "destination_address_prefixes = \"*\"\ndestination_port_ranges = \"443\"\n";

std::string replace(std::string s, const std::string& from, const std::string& to) {
  auto p = s.find(from);
  if (p == std::string::npos) throw std::logic_error("test bug: no '" + from + "'");
  return s.replace(p, from.size(), to);
}

INSTANTIATE_TEST_SUITE_P(
    Validation, TopologyRejects,
    ::testing::Values(
        BadCase{"malformed_toml", "!@[vnet\nname = 1\n", "", "invalid TOML", false},
        BadCase{"malformed_value", "[[ases]]\nname = @\"unterminated\n", "", "invalid TOML", false},
        BadCase{"bad_ip", kAse + "instances = [@\"10.0.1.300\"]\n", "ases[0].instances[0]", "not an IPv4 address"},
        BadCase{"bad_cidr", "\n[[subnets]]\nname = \"b\"\nprefix = @\"10.0.2.0/33\"\n", "subnets[1].prefix",
                "not an IPv4 address or CIDR"},
        BadCase{"cidr_host_bits", "\n[[subnets]]\nname = \"b\"\nprefix = @\"10.0.2.5/24\"\n", "subnets[1].prefix",
                "host bits set"},
        BadCase{"subnet_outside_vnet", "\n[[subnets]]\nname = \"b\"\nprefix = @\"10.1.0.0/24\"\n", "subnets[1].prefix",
                "outside the VNet address space"},
        BadCase{"subnet_overlap", "\n[[subnets]]\nname = \"b\"\nprefix = @\"10.0.1.32/27\"\n", "subnets[1].prefix",
                "overlaps subnet 'ase-one'"},
        BadCase{"unknown_nsg_ref",
                "!" + replace(kBase, "prefix = \"10.0.1.0/26\"\n", "prefix = \"10.0.1.0/26\"\nnsg = @\"nope\"\n"),
                "subnets[0].nsg", "unknown NSG 'nope'"},
        BadCase{"unknown_route_table_ref",
                "!" + replace(kBase, "prefix = \"10.0.1.0/26\"\n", "prefix = \"10.0.1.0/26\"\nroute_table = @\"rt\"\n"),
                "subnets[0].route_table", "unknown route table 'rt'"},
        BadCase{
            "unknown_subnet_ref",
            "\n[[ases]]\nname = \"a\"\nsubnet = @\"nowhere\"\npublic_vip = \"192.23.1.2\"\ninstances = \"10.0.1.4\"\n",
            "ases[0].subnet", "unknown subnet 'nowhere'"},
        BadCase{"unknown_host_nsg_ref", "\n[[hosts]]\nname = \"h\"\nip = \"10.0.1.20\"\nnsg = @\"missing\"\n",
                "hosts[0].nsg", "unknown NSG 'missing'"},
        BadCase{"instance_outside_subnet", kAse + "instances = [\"10.0.1.4\", @\"10.0.2.9\"]\n", "ases[0].instances[1]",
                "outside subnet 'ase-one'"},
        BadCase{"instance_reserved", kAse + "instances = @\"10.0.1.1\"\n", "ases[0].instances", "reserved by Azure"},
        BadCase{"ilb_outside_subnet", kAse + "ilb_address = @\"10.0.3.11\"\ninstances = \"10.0.1.4\"\n",
                "ases[0].ilb_address", "outside subnet 'ase-one'"},
        BadCase{
            "vip_inside_vnet",
            "\n[[ases]]\nname = \"a\"\nsubnet = \"ase-one\"\npublic_vip = @\"10.0.9.9\"\ninstances = \"10.0.1.4\"\n",
            "ases[0].public_vip", "inside the VNet"},
        BadCase{"priority_low", nsg_rule(replace(kRuleOk, "priority = 100", "priority = @99")),
                "nsgs[0].rules[0].priority", "99 is outside 100-4096"},
        BadCase{"priority_high", nsg_rule(replace(kRuleOk, "priority = 100", "priority = @5000")),
                "nsgs[0].rules[0].priority", "5000 is outside 100-4096"},
        BadCase{"priority_not_int", nsg_rule(replace(kRuleOk, "priority = 100", "priority = @\"100\"")),
                "nsgs[0].rules[0].priority", "expected an integer"},
        BadCase{"priority_duplicate",
                nsg_rule(kRuleOk) + "[[nsgs.rules]]\n" +
                    replace(replace(kRuleOk, "priority = 100", "priority = @100"), "\"r\"", "\"r2\""),
                "nsgs[0].rules[1].priority", "already used by Inbound rule 'r'"},
        BadCase{"two_service_tags",
                nsg_rule(replace(kRuleOk, "source_address_prefixes = \"*\"",
                                 "source_address_prefixes = [\"Internet\", @\"VirtualNetwork\"]")),
                "nsgs[0].rules[0].source_address_prefixes", "more than one service tag"},
        BadCase{"unknown_service_tag",
                nsg_rule(replace(kRuleOk, "source_address_prefixes = \"*\"", "source_address_prefixes = @\"Storage\"")),
                "nsgs[0].rules[0].source_address_prefixes", "unknown service tag 'Storage'"},
        BadCase{"bad_port",
                nsg_rule(replace(kRuleOk, "destination_port_ranges = \"443\"", "destination_port_ranges = @\"70000\"")),
                "nsgs[0].rules[0].destination_port_ranges", "is not a port"},
        BadCase{"unknown_direction", nsg_rule(replace(kRuleOk, "direction = \"Inbound\"", "direction = @\"Sideways\"")),
                "nsgs[0].rules[0].direction", "unknown value 'Sideways' (expected Inbound | Outbound)"},
        BadCase{"unknown_access", nsg_rule(replace(kRuleOk, "access = \"Allow\"", "access = @\"Permit\"")),
                "nsgs[0].rules[0].access", "unknown value 'Permit'"},
        BadCase{"unknown_protocol", nsg_rule(replace(kRuleOk, "protocol = \"Tcp\"", "protocol = @\"Sctp\"")),
                "nsgs[0].rules[0].protocol", "unknown value 'Sctp'"},
        BadCase{"unknown_next_hop_type",
                "\n[[route_tables]]\nname = \"rt\"\n[[route_tables.routes]]\nname = \"x\"\naddress_prefix = "
                "\"0.0.0.0/0\"\nnext_hop_type = @\"Gateway\"\n",
                "route_tables[0].routes[0].next_hop_type", "unknown value 'Gateway'"},
        BadCase{"appliance_without_ip",
                "\n[[route_tables]]\nname = \"rt\"\n[[route_tables.routes]]\nname = \"x\"\naddress_prefix = "
                "\"0.0.0.0/0\"\nnext_hop_type = @\"VirtualAppliance\"\n",
                "route_tables[0].routes[0].next_hop_ip_address", "needs next_hop_ip_address"},
        BadCase{"unknown_ilb_mode",
                kAse + "ilb_address = \"10.0.1.11\"\nilb_mode = @\"Everything\"\ninstances = \"10.0.1.4\"\n",
                "ases[0].ilb_mode", "unknown value 'Everything'"},
        BadCase{"unknown_load_distribution", kAse + "instances = \"10.0.1.4\"\nload_distribution = @\"RoundRobin\"\n",
                "ases[0].load_distribution", "unknown value 'RoundRobin'"},
        BadCase{"unknown_era", "\n[emulator]\nera = @\"2030\"\n", "emulator.era", "unknown value '2030'"},
        BadCase{"tcp_reset_needs_standard", kAse + "instances = \"10.0.1.4\"\ntcp_reset = @true\n", "ases[0].tcp_reset",
                "Standard load balancer feature"},
        BadCase{"unknown_key", kAse + "instances = \"10.0.1.4\"\n@vip = \"1.2.3.4\"\n", "ases[0].vip",
                "unknown key 'vip'"},
        // Issue 14: names are Azure's (they become flow-log paths), addresses are ones Azure could assign.
        BadCase{"nsg_name_is_a_path", "\n[[nsgs]]\nname = @\"../../../x\"\nflow_logs = true\n", "nsgs[0].name",
                "'../../../x' is not an Azure NSG name: character 3 ('/') is not allowed"},
        BadCase{"nsg_name_absolute", "\n[[nsgs]]\nname = @\"/tmp/x\"\n", "nsgs[0].name",
                "character 1 ('/') is not allowed"},
        BadCase{"nsg_name_ends_with_dot", "\n[[nsgs]]\nname = @\"nsg.\"\n", "nsgs[0].name",
                "must end with a letter, digit or '_'"},
        BadCase{"nsg_name_too_long", "\n[[nsgs]]\nname = @\"" + std::string(81, 'n') + "\"\n", "nsgs[0].name",
                "is 81 characters long; an Azure NSG name has 1-80"},
        BadCase{"rule_name_with_slash", nsg_rule(replace(kRuleOk, "name = \"r\"", "name = @\"a/b\"")),
                "nsgs[0].rules[0].name", "is not an Azure security rule name"},
        BadCase{"vnet_name_one_char", "![vnet]\nname = @\"v\"\naddress_space = \"10.0.0.0/16\"\n", "vnet.name",
                "an Azure VNet name has 2-64"},
        BadCase{"subnet_name_space", "\n[[subnets]]\nname = @\"my subnet\"\nprefix = \"10.0.2.0/24\"\n",
                "subnets[1].name", "character 3 (' ') is not allowed"},
        BadCase{"ase_name_control_char",
                "\n[[ases]]\nname = @\"a\\u0007\"\nsubnet = \"ase-one\"\npublic_vip = \"192.23.1.2\"\ninstances = "
                "\"10.0.1.4\"\n",
                "ases[0].name", "'a\\x07' is not an Azure ASE name"},
        BadCase{"host_name_backslash", "\n[[hosts]]\nname = @\"h\\\\x\"\nip = \"10.0.1.20\"\n", "hosts[0].name",
                "is not an Azure host (NIC) name"},
        BadCase{"route_table_name_dotdot", "\n[[route_tables]]\nname = @\"..\"\n", "route_tables[0].name",
                "is not an Azure route table name"},
        BadCase{"route_name_star",
                "\n[[route_tables]]\nname = \"rt\"\n[[route_tables.routes]]\nname = @\"*\"\naddress_prefix = "
                "\"0.0.0.0/0\"\nnext_hop_type = \"Internet\"\n",
                "route_tables[0].routes[0].name", "is not an Azure route name"},
        BadCase{"vip_zero",
                kAse.substr(0, kAse.find("public_vip")) + "public_vip = @\"0.0.0.0\"\ninstances = \"10.0.1.4\"\n",
                "ases[0].public_vip", "0.0.0.0/8"},
        BadCase{
            "vip_broadcast",
            kAse.substr(0, kAse.find("public_vip")) + "public_vip = @\"255.255.255.255\"\ninstances = \"10.0.1.4\"\n",
            "ases[0].public_vip", "limited broadcast"},
        BadCase{"vip_loopback",
                kAse.substr(0, kAse.find("public_vip")) + "public_vip = @\"127.0.0.1\"\ninstances = \"10.0.1.4\"\n",
                "ases[0].public_vip", "loopback"},
        BadCase{"vip_multicast",
                kAse.substr(0, kAse.find("public_vip")) + "public_vip = @\"224.0.0.1\"\ninstances = \"10.0.1.4\"\n",
                "ases[0].public_vip", "multicast"},
        BadCase{"vip_reserved_class_e",
                kAse.substr(0, kAse.find("public_vip")) + "public_vip = @\"240.0.0.1\"\ninstances = \"10.0.1.4\"\n",
                "ases[0].public_vip", "240.0.0.0/4"},
        BadCase{"vip_link_local",
                kAse.substr(0, kAse.find("public_vip")) + "public_vip = @\"169.254.1.1\"\ninstances = \"10.0.1.4\"\n",
                "ases[0].public_vip", "link-local"},
        BadCase{"vip_platform_address",
                kAse.substr(0, kAse.find("public_vip")) + "public_vip = @\"168.63.129.16\"\ninstances = \"10.0.1.4\"\n",
                "ases[0].public_vip", "Azure's platform address"},
        BadCase{"vip_in_bgp_prefix",
                "\n[gateway]\nbgp_routes = [\"0.0.0.0/0\", \"192.23.0.0/16\"]\n" +
                    kAse.substr(0, kAse.find("public_vip")) +
                    "public_vip = @\"192.23.1.2\"\ninstances = \"10.0.1.4\"\n",
                "ases[0].public_vip", "inside 192.23.0.0/16, which the gateway advertises"},
        BadCase{"vip_in_udr_prefix",
                "\n[[route_tables]]\nname = \"rt\"\n[[route_tables.routes]]\nname = \"x\"\naddress_prefix = "
                "\"192.23.1.0/24\"\nnext_hop_type = \"VirtualNetworkGateway\"\n" +
                    kAse.substr(0, kAse.find("public_vip")) +
                    "public_vip = @\"192.23.1.2\"\ninstances = \"10.0.1.4\"\n",
                "ases[0].public_vip", "of route 'x' in route table 'rt'"},
        BadCase{"host_reserved_first", "\n[[hosts]]\nname = \"h\"\nip = @\"10.0.1.3\"\n", "hosts[0].ip",
                "reserved by Azure"},
        BadCase{"host_reserved_broadcast", "\n[[hosts]]\nname = \"h\"\nip = @\"10.0.1.63\"\n", "hosts[0].ip",
                "reserved by Azure"},
        BadCase{"host_outside_every_subnet", "\n[[hosts]]\nname = \"h\"\nip = @\"10.0.9.4\"\n", "hosts[0].ip",
                "is in no subnet"},
        BadCase{"rule_destination_port_zero",
                nsg_rule(replace(kRuleOk, "destination_port_ranges = \"443\"", "destination_port_ranges = @\"0\"")),
                "nsgs[0].rules[0].destination_port_ranges", "port 0 is reserved"},
        BadCase{"ase_app_port_zero", kAse + "instances = \"10.0.1.4\"\napp = [80, @0]\n", "ases[0].app[1]",
                "port 0 is reserved"},
        BadCase{"missing_vnet", "!@[[subnets]]\nname = \"x\"\nprefix = \"10.0.0.0/24\"\n", "vnet", "missing [vnet]",
                false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(Topology, HostInsideAseSubnetIsAcceptedWithAWarning) {
  const std::string t =
      kBase + kAse + "instances = \"10.0.1.4\"\n\n[[hosts]]\nname = \"squatter\"\nip = \"10.0.1.20\"\n";
  Topology topo = load_topology_text(t, "topo.toml");
  ASSERT_EQ(topo.warnings.size(), 1u);
  EXPECT_NE(topo.warnings[0].find("topo.toml:"), std::string::npos);
  EXPECT_NE(topo.warnings[0].find("cannot reach it"), std::string::npos);
}

TEST(Topology, SamePriorityInBothDirectionsIsAllowed) {
  std::string out = replace(replace(kRuleOk, "\"Inbound\"", "\"Outbound\""), "\"r\"", "\"r2\"");
  Topology topo = load_topology_text(kBase + nsg_rule(kRuleOk) + "[[nsgs.rules]]\n" + out, "t.toml");
  ASSERT_EQ(topo.nsgs.size(), 1u);
  EXPECT_EQ(topo.nsgs[0].rules.size(), 2u);
}

TEST(Topology, RuleCountLimitFollowsEra) {
  std::string rules;
  for (int i = 0; i < 201; ++i) {
    rules += "[[nsgs.rules]]\n" + replace(replace(kRuleOk, "priority = 100", "priority = " + std::to_string(100 + i)),
                                          "\"r\"", "\"r" + std::to_string(i) + "\"");
  }
  const std::string body = "\n[[nsgs]]\nname = \"n\"\n" + rules;
  EXPECT_THROW(load_topology_text(kBase + body, "t.toml"), TopologyError);                          // 2016: 200
  EXPECT_NO_THROW(load_topology_text("[emulator]\nera = \"current\"\n" + kBase + body, "t.toml"));  // 1,000
  EXPECT_NO_THROW(load_topology_text("[emulator]\nenforce_limits = false\n" + kBase + body, "t.toml"));
}

// Every key of contract section 2, in both list and single-string forms.
TEST(Topology, LoadsTheWholeContractFormat) {
  const std::string t = R"(
[emulator]
era = "current"

[vnet]
name = "corp-vnet"
address_space = ["10.0.0.0/16", "10.8.0.0/16"]

[[subnets]]
name = "ase-one"
prefix = "10.0.1.0/26"
nsg = "ase-one-nsg"
route_table = "ase-one-rt"

# A NIC's address comes from its subnet (the contract's sketch leaves this one out).
[[subnets]]
name = "data"
prefix = "10.0.2.0/24"

[[ases]]
name = "ase-one"
subnet = "ase-one"
public_vip = "192.23.1.2"
ilb_address = "10.0.1.11"
ilb_mode = "Publishing"
instances = ["10.0.1.4", "10.0.1.5", "10.0.1.6"]
load_distribution = "SourceIPProtocol"
management = [454, 455]
app = "80,443"
ftp = [21, 990, "10001-10020"]
remote_debugging = [4016, 4018, 4020, 4022]

[[hosts]]
name = "sql-vm"
ip = "10.0.2.4"
nsg = "sql-nic-nsg"

[[nsgs]]
name = "ase-one-nsg"
[[nsgs.rules]]
name = "AllowMgmt"
priority = 100
direction = "Inbound"
access = "Allow"
protocol = "Tcp"
source_address_prefixes = ["AppServiceManagement"]
source_port_ranges = ["*"]
destination_address_prefixes = ["*"]
destination_port_ranges = ["454-455"]
[[nsgs.rules]]
name = "DenyUdp"
priority = 200
direction = "Outbound"
access = "Deny"
protocol = "*"
source_address_prefixes = ["10.0.1.0/26", "10.0.1.64/26"]
source_port_ranges = "1024-65535"
destination_address_prefixes = "Internet"
destination_port_ranges = "80,10001-10020"

[[nsgs]]
name = "sql-nic-nsg"

[[route_tables]]
name = "ase-one-rt"
disable_bgp_route_propagation = true
[[route_tables.routes]]
name = "forced-tunnel"
address_prefix = "0.0.0.0/0"
next_hop_type = "VirtualNetworkGateway"
[[route_tables.routes]]
name = "to-nva"
address_prefix = "10.50.0.0/16"
next_hop_type = "VirtualAppliance"
next_hop_ip_address = "10.0.3.4"

[gateway]
bgp_routes = ["0.0.0.0/0", "172.16.0.0/12"]

[service_tags]
AppServiceManagement = ["70.37.57.58/32", "157.55.208.185/32"]
Sql = "40.78.0.0/16"

[ports]
internet = "net_pcap0"
vnet = "net_pcap1"
onprem = "tap:onprem0"
)";
  Topology topo = load_topology_text(t, "full.toml");
  EXPECT_EQ(topo.emulator.era, Era::kCurrent);
  ASSERT_EQ(topo.address_space.size(), 2u);
  ASSERT_EQ(topo.ases.size(), 1u);
  const Ase& a = topo.ases[0];
  EXPECT_EQ(a.public_vip, *parse_ipv4("192.23.1.2"));
  EXPECT_EQ(a.ilb_address, parse_ipv4("10.0.1.11"));
  EXPECT_EQ(a.ilb_mode, IlbMode::kPublishing);
  EXPECT_EQ(a.instances.size(), 3u);
  EXPECT_EQ(a.load_distribution, LoadDistribution::kSourceIPProtocol);
  EXPECT_EQ(a.ports.app, (std::vector<PortRange>{{80, 80}, {443, 443}}));
  EXPECT_EQ(a.ports.ftp, (std::vector<PortRange>{{21, 21}, {990, 990}, {10001, 10020}}));
  ASSERT_EQ(topo.nsgs.size(), 2u);
  const NsgRule& mgmt = topo.nsgs[0].rules[0];
  EXPECT_EQ(mgmt.source.kind, AddressMatch::Kind::kTag);
  EXPECT_EQ(mgmt.source.tag, "AppServiceManagement");
  EXPECT_TRUE(mgmt.source_ports.empty());  // "*"
  EXPECT_EQ(mgmt.destination_ports, (std::vector<PortRange>{{454, 455}}));
  const NsgRule& deny = topo.nsgs[0].rules[1];
  EXPECT_EQ(deny.direction, Direction::kOutbound);
  EXPECT_EQ(deny.access, Access::kDeny);
  EXPECT_EQ(deny.protocol, Protocol::kAny);
  EXPECT_EQ(deny.source.prefixes.size(), 2u);
  EXPECT_EQ(deny.destination.tag, "Internet");
  EXPECT_EQ(deny.destination_ports, (std::vector<PortRange>{{80, 80}, {10001, 10020}}));
  ASSERT_EQ(topo.route_tables.size(), 1u);
  EXPECT_TRUE(topo.route_tables[0].disable_bgp_route_propagation);
  EXPECT_EQ(topo.route_tables[0].routes[1].next_hop, NextHopKind::kVirtualAppliance);
  EXPECT_EQ(topo.route_tables[0].routes[1].next_hop_ip, parse_ipv4("10.0.3.4"));
  EXPECT_EQ(topo.gateway_bgp_routes.size(), 2u);
  EXPECT_EQ(topo.service_tags.at("Sql").size(), 1u);
  EXPECT_EQ(topo.ports.onprem, "tap:onprem0");
  EXPECT_TRUE(topo.warnings.empty());
}

TEST(Topology, ClassicTagSpellingsMapToArmNames) {
  Topology topo = load_topology_text(
      kBase + nsg_rule(replace(kRuleOk, "source_address_prefixes = \"*\"", "source_address_prefixes = \"INTERNET\"")),
      "t");
  EXPECT_EQ(topo.nsgs[0].rules[0].source.tag, "Internet");
}

TEST(Topology, MissingFileIsAnError) {
  try {
    load_topology("/nonexistent/topo.toml");
    FAIL();
  } catch (const TopologyError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/topo.toml: cannot open"), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Topology, ProbeSettingsFollowTheEraAndAzuresRules) {
  using asenet::control::compile;
  // 2016 defaults (azure-semantics 7.2): every 15 s, down after 2, up after 2.
  auto t = load_topology_text(kBase + kAse + "instances = \"10.0.1.4\"\nprobe_port = 80\n", "t.toml");
  auto s = compile(t, 1);
  ASSERT_EQ(s.ases.size(), 1u);
  EXPECT_EQ(s.ases[0].probe_port, 80);
  EXPECT_FALSE(s.ases[0].probe_http);
  EXPECT_EQ(s.ases[0].probe_interval_ms, 15000u);
  EXPECT_EQ(s.ases[0].probe_down, 2);
  EXPECT_EQ(s.ases[0].probe_up, 2);
  // Current: every 5 s, up after one success.
  t = load_topology_text(
      "[emulator]\nera = \"current\"\n" + kBase + kAse +
          "instances = \"10.0.1.4\"\nprobe_port = 80\nprobe_protocol = \"Http\"\nprobe_path = \"/health\"\n",
      "t.toml");
  s = compile(t, 1);
  EXPECT_TRUE(s.ases[0].probe_http);
  EXPECT_EQ(s.ases[0].probe_path, "/health");
  EXPECT_EQ(s.ases[0].probe_interval_ms, 5000u);
  EXPECT_EQ(s.ases[0].probe_up, 1);
  // HTTP probes are refused on SMTP and friends; a path is a relative URL path.
  try {
    load_topology_text(kBase + kAse + "instances = \"10.0.1.4\"\nprobe_port = 25\nprobe_protocol = \"Http\"\n",
                       "t.toml");
    FAIL() << "an HTTP probe on port 25 was accepted";
  } catch (const TopologyError& e) {
    EXPECT_NE(std::string(e.what()).find("t.toml:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("port 25"), std::string::npos) << e.what();
  }
  EXPECT_THROW(load_topology_text(kBase + kAse + "instances = \"10.0.1.4\"\nprobe_port = 80\nprobe_path = \"health\"\n",
                                  "t.toml"),
               TopologyError);
  EXPECT_THROW(load_topology_text(kBase + kAse + "instances = \"10.0.1.4\"\nprobe_port = 0\n", "t.toml"),
               TopologyError);
}

// Issue 14: errors quote a short escaped excerpt of the input, never a whole line.
TEST(TopologyInput, AHugeKeyGivesAShortMessage) {
  const std::string key(1000000, 'k');
  try {
    load_topology_text(kBase + "\n[[hosts]]\nname = \"h\"\n" + key + " = 1\n", "topo.toml");
    FAIL() << "accepted";
  } catch (const TopologyError& e) {
    const std::string w = e.what();
    EXPECT_LT(w.size(), 1500u) << w.size();
    EXPECT_NE(w.find("unknown key 'kkkk"), std::string::npos) << w.substr(0, 300);
    EXPECT_NE(w.find("(1000000 bytes)"), std::string::npos) << w.substr(0, 300);
  }
}

TEST(TopologyInput, ControlBytesAreEscaped) {
  try {
    load_topology_text(kBase + "\n[[hosts]]\nname = \"h\"\nip = \"\\u001b[31mred\"\n", "topo.toml");
    FAIL() << "accepted";
  } catch (const TopologyError& e) {
    const std::string w = e.what();
    EXPECT_EQ(w.find('\x1b'), std::string::npos) << w;
    EXPECT_NE(w.find("'\\x1b[31mred' is not an IPv4 address"), std::string::npos) << w;
  }
}

// Only regular files are read: a device, a FIFO or a folder gets one line at once.
TEST(TopologyInput, OnlyRegularFilesAreRead) {
  auto message = [](const std::string& path) {
    try {
      load_topology(path);
    } catch (const TopologyError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message("/dev/zero").find("/dev/zero: is a device, not a regular file"), std::string::npos);
  EXPECT_NE(message("/tmp").find("/tmp: is a directory"), std::string::npos);
  const std::string fifo = ::testing::TempDir() + "asenet-topo-fifo-" + std::to_string(::getpid());
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(message(fifo).find(": is a FIFO, not a regular file"), std::string::npos);  // and no hang
  ::unlink(fifo.c_str());
}

TEST(TopologyInput, FilesOverTheLimitAreRefused) {
  const std::string big = ::testing::TempDir() + "asenet-topo-big-" + std::to_string(::getpid()) + ".toml";
  {
    std::FILE* f = std::fopen(big.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    ASSERT_EQ(::ftruncate(::fileno(f), static_cast<off_t>(kMaxInputBytes) + 1), 0);  // sparse
    std::fclose(f);
  }
  try {
    load_topology(big);
    FAIL() << "accepted";
  } catch (const TopologyError& e) {
    EXPECT_NE(std::string(e.what()).find("asenet reads at most 64 MiB"), std::string::npos) << e.what();
  }
  ::unlink(big.c_str());
}

// Issue 17: enforce_limits = false lets priorities outside Azure's 100-4096
// through (NSGs imported as exported, rule-set benchmarks), still unique per
// direction and still before the default rules.
TEST(Topology, WithoutEnforceLimitsAnyPriorityBeforeTheDefaultRulesLoads) {
  auto text = [](bool enforce, int prio, int prio2) {
    return std::string("[emulator]\nenforce_limits = ") + (enforce ? "true" : "false") +
           "\n[vnet]\nname = \"vnet\"\naddress_space = \"10.0.0.0/16\"\n[[nsgs]]\nname = \"n\"\n"
           "[[nsgs.rules]]\nname = \"a\"\npriority = " +
           std::to_string(prio) +
           "\ndirection = \"Inbound\"\naccess = \"Deny\"\nprotocol = \"Tcp\"\nsource_address_prefixes = \"*\"\n"
           "source_port_ranges = \"*\"\ndestination_address_prefixes = \"*\"\ndestination_port_ranges = \"22\"\n"
           "[[nsgs.rules]]\nname = \"b\"\npriority = " +
           std::to_string(prio2) +
           "\ndirection = \"Inbound\"\naccess = \"Allow\"\nprotocol = \"Tcp\"\nsource_address_prefixes = \"*\"\n"
           "source_port_ranges = \"*\"\ndestination_address_prefixes = \"*\"\ndestination_port_ranges = \"22\"\n";
  };
  EXPECT_THROW(load_topology_text(text(true, 5, 200), "t.toml"), TopologyError);
  const Topology t = load_topology_text(text(false, 5, 64999), "t.toml");
  EXPECT_EQ(t.nsgs[0].rules[0].priority, 5u);
  EXPECT_EQ(t.nsgs[0].rules[1].priority, 64999u);
  try {
    load_topology_text(text(false, 5, 65000), "t.toml");
    ADD_FAILURE() << "priority 65000 loaded";
  } catch (const TopologyError& e) {
    EXPECT_NE(e.message().find("before Azure's default rules"), std::string::npos) << e.what();
  }
  try {
    load_topology_text(text(false, 5, 5), "t.toml");
    ADD_FAILURE() << "a duplicate priority loaded";
  } catch (const TopologyError& e) {
    EXPECT_NE(e.message().find("already used"), std::string::npos) << e.what();
  }
}

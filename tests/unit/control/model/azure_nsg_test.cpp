// Azure NSG JSON exports (control/model/azure_nsg): az CLI output, ARM resources and templates, nsg_file.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "control/model/azure_nsg.hpp"
#include "control/model/topology.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::dataplane;

namespace {
const std::string kData = ASENET_TEST_DATA;
const std::string kShared = ASENET_SHARED_TESTDATA;
}  // namespace

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

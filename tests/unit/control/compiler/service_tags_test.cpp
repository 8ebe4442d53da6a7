// Service tags and prefix sets (control/compiler: expand_service_tag, normalize_prefixes, complement_prefixes),
// azure-semantics 6.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "control/reference/verify.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::dataplane;

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

// Route compilation (azure-semantics 8.1 and 8.3) through the reference lookup.
#include <gtest/gtest.h>

#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::dataplane;

namespace {

Topology topo(const std::string& extra, const std::string& era = "2016") {
  return load_topology_text("[emulator]\nera = \"" + era +
                                "\"\n[vnet]\nname = \"vvnet\"\naddress_space = [\"10.0.0.0/16\"]\n"
                                "[[subnets]]\nname = \"ase\"\nprefix = \"10.0.1.0/26\"\n"
                                "[[ases]]\nname = \"ase\"\nsubnet = \"ase\"\npublic_vip = \"192.23.1.2\"\n"
                                "ilb_address = \"10.0.1.11\"\ninstances = [\"10.0.1.4\"]\n" +
                                extra,
                            "t.toml");
}

NextHop hop(const TableSpec& s, const char* ip) {
  auto h = s.lookup_reference(*parse_ipv4(ip));
  EXPECT_TRUE(h.has_value()) << ip;
  return h ? s.next_hops[*h] : NextHop{};
}

}  // namespace

TEST(Compile, SystemRoutesSendVnetToVnetAndTheRestToInternet) {
  auto s = compile(topo(""), 7);
  EXPECT_EQ(s.generation, 7u);
  EXPECT_EQ(hop(s, "10.0.2.4").type, NextHopType::kVnetLocal);
  EXPECT_EQ(hop(s, "10.0.2.4").port, Port::kVnet);
  EXPECT_EQ(hop(s, "13.107.4.50").type, NextHopType::kInternet);
  EXPECT_EQ(hop(s, "13.107.4.50").port, Port::kInternet);
  // 2016 era: no None routes for private space outside the VNet.
  EXPECT_EQ(hop(s, "192.168.1.1").type, NextHopType::kInternet);
}

TEST(Compile, FabricAddressesAreLocal) {
  auto s = compile(topo(""), 1);
  EXPECT_EQ(hop(s, "192.23.1.2").type, NextHopType::kLocal);
  EXPECT_EQ(hop(s, "10.0.1.11").type, NextHopType::kLocal);  // ILB beats the VNet /16 by length
  EXPECT_EQ(hop(s, "10.0.1.4").type, NextHopType::kVnetLocal);
}

TEST(Compile, BgpBeatsEqualSystemRouteAndVnetBeatsBgpInsideIt) {
  auto s = compile(topo("[gateway]\nbgp_routes = [\"0.0.0.0/0\", \"10.0.0.0/8\", \"10.0.5.0/24\"]\n"), 1);
  // BGP 0.0.0.0/0 replaces the system default (8.3: BGP > system on a tie).
  EXPECT_EQ(hop(s, "13.107.4.50").type, NextHopType::kVirtualNetworkGateway);
  EXPECT_EQ(hop(s, "13.107.4.50").port, Port::kOnprem);
  EXPECT_EQ(s.route_origins[hop(s, "13.107.4.50").origin], "Gateway Route");
  // 10.0.0.0/16 (VNet) is longer than BGP 10/8; 10.1.x falls to BGP.
  EXPECT_EQ(hop(s, "10.0.9.9").type, NextHopType::kVnetLocal);
  EXPECT_EQ(hop(s, "10.1.0.5").type, NextHopType::kVirtualNetworkGateway);
  // A BGP prefix inside the VNet never wins (system VNet routes beat BGP).
  EXPECT_EQ(hop(s, "10.0.5.5").type, NextHopType::kVnetLocal);
}

TEST(Compile, CurrentEraAddsNoneRoutesOutsideTheVnet) {
  auto s = compile(topo("[gateway]\nbgp_routes = [\"172.16.0.0/12\"]\n", "current"), 1);
  EXPECT_EQ(hop(s, "192.168.1.1").type, NextHopType::kNone);
  EXPECT_EQ(hop(s, "100.64.0.1").type, NextHopType::kNone);
  EXPECT_EQ(hop(s, "10.9.0.1").type, NextHopType::kNone);
  EXPECT_EQ(hop(s, "10.0.2.4").type, NextHopType::kVnetLocal);                 // inside the VNet: VNet wins
  EXPECT_EQ(hop(s, "172.16.5.10").type, NextHopType::kVirtualNetworkGateway);  // BGP beats the equal None route
  EXPECT_EQ(hop(s, "8.8.8.8").type, NextHopType::kInternet);
}

TEST(Compile, EveryPrefixAppearsOnceAndIndexesAValidNextHop) {
  auto s = compile(topo("[gateway]\nbgp_routes = [\"0.0.0.0/0\", \"172.16.0.0/12\"]\n", "current"), 1);
  for (size_t i = 0; i < s.route_sets[0].size(); ++i) {
    EXPECT_LT(s.route_sets[0][i].next_hop, s.next_hops.size());
    for (size_t j = 0; j < i; ++j) EXPECT_FALSE(s.route_sets[0][i].prefix == s.route_sets[0][j].prefix);
  }
}

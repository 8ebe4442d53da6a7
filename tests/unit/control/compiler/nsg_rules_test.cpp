// The NSG rule pass (control/compiler): Azure's default rules in every NSG.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "tests/unit/support/ase_v1_topology.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::dataplane;

TEST(Defaults, EveryNsgGetsAzuresSixRules) {
  const auto spec = compile(load_topology_text(asenet::testing::kAseV1Topology, "t.toml"), 1);
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

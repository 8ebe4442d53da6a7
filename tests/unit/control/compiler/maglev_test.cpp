// Maglev (control/compiler/maglev.cpp) and SNAT preallocation (azure-semantics 7.6), no EAL.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "control/compiler/compile.hpp"
#include "control/compiler/maglev.hpp"
#include "control/model/topology.hpp"

using namespace asenet;
using namespace asenet::control;

namespace {

std::vector<std::string> names(int n, int from = 0) {
  std::vector<std::string> v;
  for (int i = from; i < from + n; ++i) v.push_back("10.0.1." + std::to_string(4 + i));
  return v;
}

}  // namespace

TEST(Maglev, EveryBackendGetsAnEvenShare) {
  for (int n : {1, 2, 3, 7, 50}) {
    const auto t = build_maglev(names(n));
    ASSERT_EQ(t.size(), kMaglevSize);
    std::map<uint16_t, size_t> share;
    for (uint16_t e : t) share[e]++;
    ASSERT_EQ(share.size(), static_cast<size_t>(n));
    for (const auto& [b, s] : share) {
      EXPECT_NEAR(static_cast<double>(s), static_cast<double>(kMaglevSize) / n, kMaglevSize / n * 0.02 + 2)
          << n << " backends, backend " << b;
    }
  }
  EXPECT_TRUE(build_maglev({}).empty());
}

TEST(Maglev, RemovingOrAddingABackendMovesLittleElse) {
  const auto before = build_maglev(names(10));
  // Remove backend 3: entries of the others should mostly stay.
  auto without = names(10);
  without.erase(without.begin() + 3);
  const auto after = build_maglev(without);
  size_t moved_others = 0, of_others = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i] == 3) continue;
    ++of_others;
    const std::string was = names(10)[before[i]];
    if (without[after[i]] != was) ++moved_others;
  }
  // Maglev's guarantee is near-minimal disruption: a few percent at most.
  EXPECT_LT(static_cast<double>(moved_others) / static_cast<double>(of_others), 0.05);
  // Adding an 11th backend takes about 1/11 of the table, mostly from the others.
  const auto grown = build_maglev(names(11));
  size_t changed = 0;
  for (size_t i = 0; i < before.size(); ++i)
    if (names(11)[grown[i]] != names(10)[before[i]]) ++changed;
  EXPECT_NEAR(static_cast<double>(changed) / kMaglevSize, 1.0 / 11, 0.03);
}

TEST(Maglev, IsDeterministic) { EXPECT_EQ(build_maglev(names(5)), build_maglev(names(5))); }

TEST(Snat, PreallocationFollowsThePoolSize) {
  auto ase = [](int instances) {
    std::string list;
    for (int i = 0; i < instances; ++i)
      list += (i ? ", \"" : "\"") + std::string("10.0.") + std::to_string(i / 200) + "." + std::to_string(4 + i % 200) +
              "\"";
    return "[vnet]\nname = \"vvnet\"\naddress_space = \"10.0.0.0/16\"\n[[subnets]]\nname = \"s\"\nprefix = "
           "\"10.0.0.0/20\"\n"
           "[[ases]]\nname = \"a\"\nsubnet = \"s\"\npublic_vip = \"192.23.1.2\"\ninstances = [" +
           list + "]\n";
  };
  for (auto [n, per] : std::vector<std::pair<int, size_t>>{{1, 1024}, {50, 1024}, {51, 512}, {100, 512}, {101, 256}}) {
    const auto spec = compile(load_topology_text(ase(n), "t.toml"), 1);
    ASSERT_EQ(spec.ases[0].snat_ports.size(), static_cast<size_t>(n));
    std::set<uint16_t> all;
    for (const auto& ports : spec.ases[0].snat_ports) {
      EXPECT_EQ(ports.size(), per) << n << " instances";
      for (uint16_t p : ports) {
        EXPECT_TRUE(all.insert(p).second) << "port " << p << " given twice";
        EXPECT_GE(p, 1024);
        EXPECT_NE(p / 8, 443 / 8);
        EXPECT_NE(p / 8, 10001 / 8);  // the FTP data range's blocks stay free for the rules
      }
    }
  }
}

TEST(Frontends, IlbModeDecidesWhatTheIlbServes) {
  auto spec_for = [](const char* mode) {
    return compile(
               load_topology_text(std::string("[vnet]\nname = \"vvnet\"\naddress_space = \"10.0.0.0/16\"\n"
                                              "[[subnets]]\nname = \"s\"\nprefix = \"10.0.1.0/26\"\n"
                                              "[[ases]]\nname = \"a\"\nsubnet = \"s\"\npublic_vip = \"192.23.1.2\"\n"
                                              "ilb_address = \"10.0.1.11\"\nilb_mode = \"") +
                                      mode + "\"\ninstances = \"10.0.1.4\"\n",
                                  "t.toml"),
               1)
        .ases[0];
  };
  const auto wp = spec_for("Web, Publishing");
  EXPECT_TRUE(wp.serves(false, 454));
  EXPECT_FALSE(wp.serves(false, 443));
  EXPECT_TRUE(wp.serves(true, 443));
  EXPECT_TRUE(wp.serves(true, 10005));
  const auto pub = spec_for("Publishing");
  EXPECT_TRUE(pub.serves(false, 443));
  EXPECT_TRUE(pub.serves(true, 21));
  EXPECT_FALSE(pub.serves(true, 80));
  const auto web = spec_for("Web");
  EXPECT_TRUE(web.serves(true, 80));
  EXPECT_TRUE(web.serves(false, 21));
  const auto none = spec_for("None");
  EXPECT_TRUE(none.serves(false, 443));
  EXPECT_FALSE(none.serves(true, 443));
  EXPECT_FALSE(none.serves(true, 454));
}

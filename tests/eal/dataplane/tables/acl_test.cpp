// The NSG classifier (dataplane/tables/acl): the 4-category rte_acl classifier against the plain reference evaluator on
// random rule sets and packets biased toward rule edges.
#include <gtest/gtest.h>
#include <rte_acl.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "dataplane/core/checksum.hpp"
#include "dataplane/pipeline/pipeline.hpp"
#include "dataplane/ports/ports.hpp"
#include "dataplane/runtime/handover.hpp"
#include "dataplane/runtime/worker.hpp"
#include "dataplane/tables/acl.hpp"
#include "tests/eal/support/eal_rig.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::dataplane;
using namespace asenet::eal_test;

namespace {

// A few hot networks, so random rules overlap and random packets hit them.
const std::vector<Cidr> kBases = {*parse_cidr("10.0.0.0/16").cidr, *parse_cidr("172.16.0.0/12").cidr,
                                  *parse_cidr("203.0.113.0/24").cidr, *parse_cidr("40.78.0.0/16").cidr};

Cidr random_prefix(std::mt19937& rng) {
  const Cidr& base = kBases[rng() % kBases.size()];
  const uint8_t len = static_cast<uint8_t>(base.len + rng() % (33 - base.len));
  const uint32_t addr = (base.addr | (static_cast<uint32_t>(rng()) & ~base.mask())) & Cidr{0, len}.mask();
  return Cidr{addr, len};
}

std::vector<PortRange> random_ports(std::mt19937& rng) {
  if (rng() % 3 == 0) return {};  // any
  std::vector<PortRange> out;
  const int n = 1 + static_cast<int>(rng() % 3);
  for (int i = 0; i < n; ++i) {
    const uint16_t lo = static_cast<uint16_t>(rng() % 3 == 0 ? rng() % 1024 : rng() % 65536);
    const uint16_t hi = static_cast<uint16_t>(std::min<uint32_t>(65535, lo + (rng() % 4 == 0 ? 0 : rng() % 3000)));
    out.push_back({lo, hi});
  }
  return out;
}

AddressMatch random_side(std::mt19937& rng) {
  AddressMatch m;
  switch (rng() % 6) {
    case 0: m.kind = AddressMatch::Kind::kAny; break;
    case 1: {
      static const char* kTags[] = {"VirtualNetwork", "Internet", "AzureLoadBalancer", "Sql"};
      m.kind = AddressMatch::Kind::kTag;
      m.tag = kTags[rng() % 4];
      break;
    }
    default: {
      m.kind = AddressMatch::Kind::kPrefixes;
      const int n = 1 + static_cast<int>(rng() % 3);
      for (int i = 0; i < n; ++i) m.prefixes.push_back(random_prefix(rng));
    }
  }
  return m;
}

Topology random_topology(uint32_t seed, int nsgs, int rules_per_nsg) {
  std::mt19937 rng(seed);
  Topology t;
  t.file = "random";
  t.address_space = {*parse_cidr("10.0.0.0/16").cidr};
  t.gateway_bgp_routes = {*parse_cidr("172.16.0.0/12").cidr};
  t.service_tags["Sql"] = {*parse_cidr("40.78.0.0/16").cidr};
  for (int n = 0; n < nsgs; ++n) {
    Nsg nsg;
    nsg.name = "nsg" + std::to_string(n);
    for (int dir = 0; dir < 2; ++dir) {
      std::vector<uint32_t> prios;
      for (uint32_t p = 100; p <= 4096; ++p) prios.push_back(p);
      std::shuffle(prios.begin(), prios.end(), rng);
      for (int i = 0; i < rules_per_nsg / 2; ++i) {
        NsgRule r;
        r.name = "r" + std::to_string(dir) + "_" + std::to_string(i);
        r.priority = prios[static_cast<size_t>(i)];
        r.direction = dir == 0 ? Direction::kInbound : Direction::kOutbound;
        r.access = rng() % 2 ? Access::kAllow : Access::kDeny;
        static const Protocol kP[] = {Protocol::kTcp, Protocol::kUdp, Protocol::kIcmp, Protocol::kAny};
        r.protocol = kP[rng() % 4];
        r.source = random_side(rng);
        r.destination = random_side(rng);
        if (r.protocol == Protocol::kTcp || r.protocol == Protocol::kUdp || r.protocol == Protocol::kAny) {
          r.source_ports = random_ports(rng);
          r.destination_ports = random_ports(rng);
        }
        nsg.rules.push_back(r);
      }
    }
    t.nsgs.push_back(nsg);
  }
  // NSG i alternates between subnet and NIC attachment; the last is on both.
  for (int n = 0; n < nsgs; ++n) {
    Subnet s;
    s.name = "s" + std::to_string(n);
    s.prefix = Cidr{*parse_ipv4("10.0.0.0") + static_cast<uint32_t>(n) * 256u, 24};
    if (n % 2 == 0 || n == nsgs - 1) s.nsg = t.nsgs[static_cast<size_t>(n)].name;
    t.subnets.push_back(s);
    if (n % 2 == 1 || n == nsgs - 1) {
      Host h;
      h.name = "h" + std::to_string(n);
      h.ip = s.prefix.addr + 10;
      h.nsg = t.nsgs[static_cast<size_t>(n)].name;
      t.hosts.push_back(h);
    }
  }
  return t;
}

}  // namespace

class AclDifferential : public ::testing::TestWithParam<std::tuple<uint32_t, int, int>> {};

TEST_P(AclDifferential, RteAclAgreesWithTheReferenceOnAMillionPackets) {
  const auto [seed, nsgs, rules] = GetParam();
  const TableSpec spec = compile(random_topology(seed, nsgs, rules), 1);
  std::string err;
  std::printf("[ rule set ] expansion: %zu Azure rules -> %zu rte_acl rules\n", spec.nsg_rules.size(),
              expand_nsg_rules(spec.nsgs, spec.nsg_rules).size());
  auto ts = TableSet::build(spec, 1, err);
  ASSERT_TRUE(ts) << err;
  ASSERT_NE(ts->nsg_acl(), nullptr);
  std::printf("[ rule set ] classifier in %u rte_acl context(s)\n", ts->nsg_acl_part_count());
  std::vector<uint16_t> subnet_ids = {0}, nic_ids = {0};
  for (uint32_t i = 0; i < spec.nsgs.size(); ++i) {
    if (spec.nsgs[i].on_subnet) subnet_ids.push_back(static_cast<uint16_t>(i + 1));
    if (spec.nsgs[i].on_nic) nic_ids.push_back(static_cast<uint16_t>(i + 1));
  }
  // Edges of every rule: where off-by-one errors live.
  std::vector<uint32_t> addr_edges;
  std::vector<uint16_t> port_edges = {0, 1, 65534, 65535};
  for (const auto& r : spec.nsg_rules) {
    for (const auto* v : {&r.src, &r.dst})
      for (const auto& c : *v)
        for (uint32_t a : {c.addr, c.last(), c.addr - 1, c.last() + 1}) addr_edges.push_back(a);
    for (const auto* v : {&r.sports, &r.dports})
      for (const auto& p : *v)
        for (int x : {p.lo - 1, int{p.lo}, int{p.hi}, p.hi + 1})
          if (x >= 0 && x <= 65535) port_edges.push_back(static_cast<uint16_t>(x));
  }
  addr_edges.push_back(*parse_ipv4("168.63.129.16"));
  std::mt19937 rng(seed * 7919u + 1);
  auto addr = [&] { return rng() % 4 == 0 ? static_cast<uint32_t>(rng()) : addr_edges[rng() % addr_edges.size()]; };
  auto port = [&] { return rng() % 4 == 0 ? static_cast<uint16_t>(rng()) : port_edges[rng() % port_edges.size()]; };
  static const uint8_t kProtos[] = {6, 17, 1, 47};

  constexpr size_t kPackets = 1000000, kChunk = 64;
  std::vector<AclKey> keys(kChunk);
  std::vector<const uint8_t*> ptrs(kChunk);
  std::vector<std::array<uint16_t, 4>> ids(kChunk);
  const Cidr vnet_space = *parse_cidr("10.0.0.0/16").cidr;
  std::vector<FiveTuple> tuples(kChunk);
  std::vector<uint32_t> results(kChunk * kAclCategories);
  size_t checked = 0, matched_user = 0;
  for (size_t base = 0; base < kPackets; base += kChunk) {
    for (size_t i = 0; i < kChunk; ++i) {
      FiveTuple t;
      t.src = addr();
      t.dst = addr();
      // Usually the local end is a VNet address (the source for outbound
      // levels, the destination for inbound ones); a packet to a virtual
      // appliance keeps a destination outside it, so sometimes it is not.
      const bool out = rng() % 2 == 0, in = rng() % 2 == 0;
      if (out && rng() % 4 != 0) t.src = vnet_space.addr | (static_cast<uint32_t>(rng()) & 0xffff);
      if (in && rng() % 4 != 0) t.dst = vnet_space.addr | (static_cast<uint32_t>(rng()) & 0xffff);
      t.proto = kProtos[rng() % 4];
      if (t.proto == 6 || t.proto == 17) {
        t.sport = port();
        t.dport = port();
      }
      tuples[i] = t;
      ids[i] = {out ? subnet_ids[rng() % subnet_ids.size()] : uint16_t{0},
                out ? nic_ids[rng() % nic_ids.size()] : uint16_t{0},
                in ? subnet_ids[rng() % subnet_ids.size()] : uint16_t{0},
                in ? nic_ids[rng() % nic_ids.size()] : uint16_t{0}};
      const bool dst_vnet = spec.in_virtual_network(t.dst), src_vnet = spec.in_virtual_network(t.src);
      make_acl_key(keys[i], t,
                   {acl_level(ids[i][0], dst_vnet), acl_level(ids[i][1], dst_vnet), acl_level(ids[i][2], src_vnet),
                    acl_level(ids[i][3], src_vnet)});
      ptrs[i] = reinterpret_cast<const uint8_t*>(&keys[i]);
    }
    // Classify exactly as nsg_stage does, split contexts included.
    std::vector<uint32_t> part(kChunk * kAclCategories);
    for (uint32_t pi = 0; pi < ts->nsg_acl_part_count(); ++pi) {
      const auto ap = ts->nsg_acl_part(pi);
      ASSERT_EQ(rte_acl_classify(ap.ctx, ptrs.data(), part.data(), kChunk, kAclCategories), 0);
      for (size_t k = 0; k < kChunk; ++k)
        for (uint32_t c = 0; c < kAclCategories; ++c)
          if (ap.categories & (1u << c)) results[k * kAclCategories + c] = part[k * kAclCategories + c];
    }
    for (size_t i = 0; i < kChunk; ++i) {
      for (uint32_t cat = 0; cat < kAclCategories; ++cat) {
        const uint32_t got = results[i * kAclCategories + cat];
        const uint16_t id = ids[i][cat];
        if (id == 0) {
          ASSERT_EQ(got, 0u) << "a level without an NSG matched";
          continue;
        }
        const NsgDirection dir = cat <= kCatOutNic ? NsgDirection::kOutbound : NsgDirection::kInbound;
        const auto want = nsg_first_match(spec.nsg_rules, spec.nsgs[id - 1u], dir, tuples[i]);
        ASSERT_TRUE(want.has_value());
        ASSERT_EQ(got, *want + 1) << "packet " << base + i << " " << format_ipv4(tuples[i].src) << ":"
                                  << tuples[i].sport << " > " << format_ipv4(tuples[i].dst) << ":" << tuples[i].dport
                                  << " proto " << int{tuples[i].proto} << " category " << cat << ": acl rule "
                                  << (got ? spec.nsg_rules[got - 1].name : "none") << ", reference "
                                  << spec.nsg_rules[*want].name;
        ++checked;
        matched_user += spec.nsg_rules[*want].is_default ? 0 : 1;
      }
    }
  }
  EXPECT_GT(checked, kPackets);
  // The packets must exercise user rules, not only the defaults.
  EXPECT_GT(matched_user, checked / 10) << "rule edges are not being hit";
  std::printf("[ rule set ] %u NSGs, %zu Azure rules -> %zu rte_acl rules; %zu verdicts checked, %zu by user rules\n",
              nsgs, spec.nsg_rules.size(), ts->acl_rule_count(), checked, matched_user);
}

INSTANTIATE_TEST_SUITE_P(RandomRuleSets, AclDifferential,
                         ::testing::Values(std::make_tuple(1u, 3, 60), std::make_tuple(2u, 5, 200),
                                           std::make_tuple(3u, 8, 400)));

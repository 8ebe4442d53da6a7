// EAL suite, NSG engine: the 4-category rte_acl classifier against the plain
// reference evaluator on random rule sets and packets biased toward rule edges,
// the connection table, and statefulness through process_burst.
#include <gtest/gtest.h>
#include <rte_acl.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <random>

#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "dataplane/core/checksum.hpp"
#include "dataplane/pipeline/pipeline.hpp"
#include "dataplane/ports/ports.hpp"
#include "dataplane/tables/acl.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::dataplane;

extern rte_mempool* g_pool;

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

TEST(FlowTable, InsertLookupReplyExpireAndFull) {
  FlowTable ft;
  std::string err;
  ASSERT_TRUE(ft.init("ft_test", 1024, err)) << err;
  FlowKey k;
  k.src = 1;
  k.dst = 2;
  k.sport = 3;
  k.dport = 4;
  k.proto = 6;
  Flow* f = ft.insert(k, 100);
  ASSERT_NE(f, nullptr);
  f->expires_ns = 500ull * 1000000000ull;
  ft.schedule(f);
  FlowKey keys[3] = {k, k.reversed(), k};
  keys[2].dport = 5;
  Flow* found[3];
  bool reply[3];
  EXPECT_EQ(ft.lookup_bulk(keys, 3, found, reply), 2u);
  EXPECT_EQ(found[0], f);
  EXPECT_FALSE(reply[0]);
  EXPECT_EQ(found[1], f);
  EXPECT_TRUE(reply[1]);
  EXPECT_EQ(found[2], nullptr);
  ft.advance(100ull * 1000000000ull);  // starts the wheel's clock
  ft.advance(500ull * 1000000000ull);  // second 500 is not over yet
  EXPECT_EQ(ft.size(), 1u);
  ft.advance(501ull * 1000000000ull);
  EXPECT_EQ(ft.size(), 0u);
  EXPECT_EQ(ft.lookup_bulk(keys, 2, found, reply), 0u);
  for (uint32_t i = 0; i < 1024; ++i) {
    FlowKey x = k;
    x.sport = static_cast<uint16_t>(i);
    x.src = 1000 + i;
    ASSERT_NE(ft.insert(x, 1), nullptr) << i;
  }
  FlowKey extra = k;
  extra.src = 99999;
  EXPECT_EQ(ft.insert(extra, 1), nullptr) << "a full table refuses, it does not overwrite";
  EXPECT_EQ(ft.size(), 1024u);
}

TEST(Stateful, ReplyInTheSameBurstAsItsSynPasses) {
  // The branch may not open anything inbound; the instance opens to it, and the
  // SYN-ACK arrives in the very burst that carries the SYN.
  const char* topo = R"(
[vnet]
name = "vvnet"
address_space = "10.0.0.0/16"
[[subnets]]
name = "s"
prefix = "10.0.1.0/24"
nsg = "n"
[[nsgs]]
name = "n"
[[nsgs.rules]]
name = "DenyBranch"
priority = 100
direction = "Inbound"
access = "Deny"
protocol = "*"
source_address_prefixes = "172.16.0.0/12"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "*"
[gateway]
bgp_routes = "172.16.0.0/12"
)";
  std::string err;
  auto ts = TableSet::build(compile(load_topology_text(topo, "t.toml"), 1), 1, err);
  ASSERT_TRUE(ts) << err;
  ReplayPorts ports;
  ASSERT_TRUE(create_replay_ports(1, 1024, g_pool, ports, err)) << err;
  FlowTable ft;
  ASSERT_TRUE(ft.init("ft_burst", 1024, err)) << err;
  WorkerContext ctx;
  ctx.flows = &ft;
  ctx.clock = ClockMode::kFake;
  for (size_t s = 0; s < kNumPorts; ++s) ctx.tx_port_id[s] = ports.out_port[s];

  auto frame = [](const char* src, const char* dst, uint16_t sp, uint16_t dp, uint8_t flags) {
    std::vector<uint8_t> f(14 + 40, 0);
    f[12] = 0x08;
    uint8_t* ip = f.data() + 14;
    ip[0] = 0x45;
    store_be16(ip + 2, 40);
    ip[8] = 64;
    ip[9] = 6;
    const uint32_t s = *parse_ipv4(src), d = *parse_ipv4(dst);
    for (int i = 0; i < 4; ++i) {
      ip[12 + i] = static_cast<uint8_t>(s >> (24 - 8 * i));
      ip[16 + i] = static_cast<uint8_t>(d >> (24 - 8 * i));
    }
    store_be16(ip + 10, static_cast<uint16_t>(~ones_sum(ip, 20)));
    store_be16(ip + 20, sp);
    store_be16(ip + 22, dp);
    ip[32] = 5 << 4;
    ip[33] = flags;
    return f;
  };
  const std::vector<std::pair<std::vector<uint8_t>, Port>> in = {
      {frame("10.0.1.4", "172.16.5.10", 50000, 443, 0x02), Port::kVnet},    // SYN out: allowed
      {frame("172.16.5.10", "10.0.1.4", 443, 50000, 0x12), Port::kOnprem},  // its SYN-ACK: a reply
      {frame("10.0.1.4", "172.16.5.10", 50000, 443, 0x10), Port::kVnet},    // ACK: established
      {frame("172.16.5.10", "10.0.1.4", 443, 50001, 0x12), Port::kOnprem},  // no flow: denied
  };
  Burst b;
  std::array<Port, kBurstSize> sides{};
  for (const auto& [bytes, side] : in) {
    rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
    std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(bytes.size())), bytes.data(), bytes.size());
    sides[b.count] = side;
    b.pkts[b.count++] = m;
  }
  TraceRecord slots[4];
  TraceSink sink{slots, 3};
  ctx.trace = &sink;
  stamp_burst(b, ctx, sides.data());
  process_burst(b, *ts, ctx);
  EXPECT_EQ(slots[0].flow, FlowState::kNew);
  EXPECT_EQ(slots[1].flow, FlowState::kReply);
  EXPECT_EQ(slots[1].verdict, Verdict::kForward);
  EXPECT_EQ(slots[2].flow, FlowState::kEstablished);
  EXPECT_EQ(slots[3].verdict, Verdict::kDrop);
  EXPECT_EQ(slots[3].reason, DropReason::kNsgDeny);
  EXPECT_EQ(ctx.counters.forwarded, 3u);
  EXPECT_EQ(ctx.counters.flows_created, 1u);
  void* out[8];
  for (size_t s = 0; s < kNumPorts; ++s) {
    unsigned n;
    while ((n = rte_ring_dequeue_burst(ports.out_rings[s][0], out, 8, nullptr)) > 0)
      for (unsigned i = 0; i < n; ++i) rte_pktmbuf_free(static_cast<rte_mbuf*>(out[i]));
  }
  destroy_replay_ports(ports);
}

TEST(Snat, PortsArePerDestinationAndRunOut) {
  SnatTable st;
  std::string err;
  ASSERT_TRUE(st.init("snat_unit", 8192, err)) << err;
  std::vector<uint16_t> ports;
  for (uint16_t p = 1024; p < 2048; ++p) ports.push_back(p);
  const uint32_t inst = 0x0a000104, vip = 0xc0170102, d1 = 0x0d6b0432, d2 = 0x0d6b0433;
  for (uint16_t i = 0; i < 1024; ++i) ASSERT_EQ(st.allocate(ports, inst, vip, 6, d1, 443), 1024 + i) << i;
  EXPECT_EQ(st.allocate(ports, inst, vip, 6, d1, 443), 0) << "the 1,025th to one destination fails";
  EXPECT_EQ(st.allocate(ports, inst, vip, 6, d2, 443), 1024) << "another destination reuses the port";
  EXPECT_EQ(st.allocate(ports, inst, vip, 6, d1, 8443), 1024) << "another destination port too";
  st.release(vip, 1500, 6, d1, 443, inst);
  EXPECT_EQ(st.allocate(ports, inst, vip, 6, d1, 443), 1500) << "a released port comes back";
  EXPECT_EQ(st.in_use(), 1026u);
}

namespace {

/// One TCP packet through process_burst; returns its trace record.
TraceRecord one_packet(const TableSet& ts, WorkerContext& ctx, Port side, const char* src, const char* dst,
                       uint16_t sport, uint16_t dport, uint8_t flags) {
  std::vector<uint8_t> f(14 + 40, 0);
  f[12] = 0x08;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  store_be16(ip + 2, 40);
  ip[8] = 64;
  ip[9] = 6;
  store_be32(ip + 12, *parse_ipv4(src));
  store_be32(ip + 16, *parse_ipv4(dst));
  store_be16(ip + 10, static_cast<uint16_t>(~ones_sum(ip, 20)));
  store_be16(ip + 20, sport);
  store_be16(ip + 22, dport);
  ip[32] = 5 << 4;
  ip[33] = flags;
  Burst b;
  rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
  b.pkts[0] = m;
  b.count = 1;
  std::array<Port, kBurstSize> sides{};
  sides[0] = side;
  TraceRecord slot[1];
  TraceSink sink{slot, 0};
  ctx.trace = &sink;
  stamp_burst(b, ctx, sides.data());
  process_burst(b, ts, ctx);
  ctx.trace = nullptr;
  return slot[0];
}

}  // namespace

TEST(LbHealth, AllInstancesDownEndsTcpFlowsOnlyOnBasic) {
  for (const char* era : {"2016", "current"}) {
    auto topo = [&](bool down) {
      return compile(load_topology_text(std::string("[emulator]\nera = \"") + era +
                                            "\"\n[vnet]\nname = \"vvnet\"\naddress_space = \"10.0.0.0/16\"\n"
                                            "[[subnets]]\nname = \"s\"\nprefix = \"10.0.1.0/26\"\n"
                                            "[[ases]]\nname = \"a\"\nsubnet = \"s\"\npublic_vip = \"192.23.1.2\"\n"
                                            "instances = [\"10.0.1.4\", \"10.0.1.5\"]\n" +
                                            (down ? "down = [\"10.0.1.4\", \"10.0.1.5\"]\n" : ""),
                                        "t.toml"),
                     1);
    };
    std::string err;
    auto up = TableSet::build(topo(false), 1, err);
    auto all_down = TableSet::build(topo(true), 1, err);
    ASSERT_TRUE(up && all_down) << err;
    ReplayPorts ports;
    ASSERT_TRUE(create_replay_ports(1, 1024, g_pool, ports, err)) << err;
    FlowTable ft;
    ASSERT_TRUE(ft.init(std::string("ft_health_") + era, 1024, err)) << err;
    WorkerContext ctx;
    ctx.flows = &ft;
    ctx.clock = ClockMode::kFake;
    for (size_t s = 0; s < kNumPorts; ++s) ctx.tx_port_id[s] = ports.out_port[s];
    auto syn = one_packet(*up, ctx, Port::kInternet, "203.0.113.7", "192.23.1.2", 50000, 443, 0x02);
    ASSERT_EQ(syn.verdict, Verdict::kForward);
    // The instances' probes fail: a new generation with both down.
    auto after = one_packet(*all_down, ctx, Port::kInternet, "203.0.113.7", "192.23.1.2", 50000, 443, 0x10);
    auto fresh = one_packet(*all_down, ctx, Port::kInternet, "203.0.113.8", "192.23.1.2", 50001, 443, 0x02);
    EXPECT_EQ(fresh.reason, DropReason::kNoBackend) << era << ": no new flows";
    if (std::string(era) == "2016") {
      EXPECT_EQ(after.reason, DropReason::kNoBackend) << "Basic ends established TCP flows";
    } else {
      EXPECT_EQ(after.verdict, Verdict::kForward) << "Standard keeps established TCP flows";
    }
    void* out[8];
    for (size_t s = 0; s < kNumPorts; ++s) {
      unsigned n;
      while ((n = rte_ring_dequeue_burst(ports.out_rings[s][0], out, 8, nullptr)) > 0)
        for (unsigned i = 0; i < n; ++i) rte_pktmbuf_free(static_cast<rte_mbuf*>(out[i]));
    }
    destroy_replay_ports(ports);
  }
}

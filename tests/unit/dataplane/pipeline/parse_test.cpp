// The header parser (dataplane/pipeline/parse.cpp) and what it relies on:
// address and CIDR parsing, checksums (no EAL).
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "dataplane/core/checksum.hpp"
#include "dataplane/core/packet.hpp"
#include "dataplane/tables/cidr.hpp"

using namespace asenet;
using namespace asenet::dataplane;

TEST(Ipv4, ParsesDottedQuadsAndRejectsEverythingElse) {
  EXPECT_EQ(parse_ipv4("10.0.1.4"), 0x0a000104u);
  EXPECT_EQ(parse_ipv4("255.255.255.255"), 0xffffffffu);
  for (const char* bad : {"", "10.0.1", "10.0.1.4.5", "10.0.1.256", "10.0.01.4", "a.b.c.d", "10.0.1.4 ", "-1.0.0.0"})
    EXPECT_FALSE(parse_ipv4(bad).has_value()) << bad;
}

TEST(Ipv4, CidrParsingFlagsHostBits) {
  auto ok = parse_cidr("10.0.1.0/26");
  ASSERT_TRUE(ok.cidr);
  EXPECT_EQ(ok.cidr->len, 26);
  EXPECT_TRUE(ok.cidr->contains(*parse_ipv4("10.0.1.63")));
  EXPECT_FALSE(ok.cidr->contains(*parse_ipv4("10.0.1.64")));
  auto bits = parse_cidr("10.0.1.5/26");
  EXPECT_FALSE(bits.cidr);
  EXPECT_TRUE(bits.host_bits_set);
  EXPECT_EQ(parse_cidr("1.2.3.4").cidr->len, 32);
  EXPECT_FALSE(parse_cidr("1.2.3.0/33").cidr);
  EXPECT_EQ(parse_cidr("0.0.0.0/0").cidr->mask(), 0u);
}

namespace {

std::vector<uint8_t> ipv4_frame(uint8_t proto, std::vector<uint8_t> l4, uint8_t ttl = 64, uint8_t ihl_words = 5) {
  std::vector<uint8_t> f(14 + ihl_words * 4u, 0);
  f[12] = 0x08;
  f[13] = 0x00;
  uint8_t* ip = f.data() + 14;
  ip[0] = static_cast<uint8_t>(0x40 | ihl_words);
  const uint16_t total = static_cast<uint16_t>(ihl_words * 4 + l4.size());
  store_be16(ip + 2, total);
  ip[8] = ttl;
  ip[9] = proto;
  const uint8_t src[] = {10, 0, 1, 4}, dst[] = {10, 0, 2, 4};
  std::copy(src, src + 4, ip + 12);
  std::copy(dst, dst + 4, ip + 16);
  store_be16(ip + 10, static_cast<uint16_t>(~ones_sum(ip, ihl_words * 4u)));
  f.insert(f.end(), l4.begin(), l4.end());
  return f;
}

std::vector<uint8_t> tcp_header(uint16_t sport, uint16_t dport, uint8_t flags) {
  std::vector<uint8_t> t(20, 0);
  store_be16(t.data(), sport);
  store_be16(t.data() + 2, dport);
  t[12] = 5 << 4;
  t[13] = flags;
  return t;
}

DropReason parse(const std::vector<uint8_t>& f, PacketMeta& m) {
  return parse_packet(f.data(), static_cast<uint32_t>(f.size()), static_cast<uint32_t>(f.size()), m);
}

}  // namespace

TEST(Checksum, IncrementalTtlUpdateEqualsFullRecompute) {
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    uint8_t ip[20];
    for (auto& b : ip) b = static_cast<uint8_t>(rng());
    ip[0] = 0x45;
    ip[8] = static_cast<uint8_t>(2 + rng() % 254);
    ip[10] = ip[11] = 0;
    store_be16(ip + 10, static_cast<uint16_t>(~ones_sum(ip, 20)));
    ipv4_decrement_ttl(ip);
    ASSERT_EQ(ones_sum(ip, 20), 0xffff) << "iteration " << i;
  }
}

TEST(Parse, TcpUdpIcmpFields) {
  PacketMeta m;
  auto f = ipv4_frame(kIpProtoTcp, tcp_header(50100, 1433, 0x02));
  ASSERT_EQ(parse(f, m), DropReason::kNone);
  EXPECT_EQ(m.src_ip, 0x0a000104u);
  EXPECT_EQ(m.dst_ip, 0x0a000204u);
  EXPECT_EQ(m.sport, 50100);
  EXPECT_EQ(m.dport, 1433);
  EXPECT_EQ(m.tcp_flags, 0x02);
  EXPECT_EQ(m.ttl, 64);
  EXPECT_TRUE(m.flags & kFlagHasPorts);

  std::vector<uint8_t> echo = {8, 0, 0, 0, 0x12, 0x34, 0, 1};
  ASSERT_EQ(parse(ipv4_frame(kIpProtoIcmp, echo), m), DropReason::kNone);
  EXPECT_EQ(m.sport, 0x1234);  // the echo identifier stands in for ports
  EXPECT_EQ(m.icmp_type, 8);

  std::vector<uint8_t> unreachable = {3, 3, 0, 0, 0, 0, 0, 0};
  ASSERT_EQ(parse(ipv4_frame(kIpProtoIcmp, unreachable), m), DropReason::kNone);
  EXPECT_FALSE(m.flags & kFlagHasPorts);
}

TEST(Parse, MalformedHeadersAreRejected) {
  PacketMeta m;
  auto good = ipv4_frame(kIpProtoTcp, tcp_header(1, 2, 0x02));
  for (size_t cut = 0; cut < good.size(); ++cut) {
    std::vector<uint8_t> f(good.begin(), good.begin() + static_cast<long>(cut));
    EXPECT_NE(parse(f, m), DropReason::kNone) << "truncated to " << cut;
  }
  auto bad_ihl = good;
  bad_ihl[14] = 0x44;
  EXPECT_EQ(parse(bad_ihl, m), DropReason::kMalformed);
  auto bad_version = good;
  bad_version[14] = 0x65;
  EXPECT_EQ(parse(bad_version, m), DropReason::kMalformed);
  auto long_total = good;
  store_be16(long_total.data() + 16, 1000);
  EXPECT_EQ(parse(long_total, m), DropReason::kMalformed);
  auto bad_sum = good;
  bad_sum[14 + 10] ^= 0xff;
  EXPECT_EQ(parse(bad_sum, m), DropReason::kMalformed);
  auto bad_doff = ipv4_frame(kIpProtoTcp, tcp_header(1, 2, 0x02));
  bad_doff[14 + 20 + 12] = 4 << 4;
  bad_doff[14 + 10] = bad_doff[14 + 11] = 0;  // keep the IP checksum right
  store_be16(bad_doff.data() + 24, static_cast<uint16_t>(~ones_sum(bad_doff.data() + 14, 20)));
  EXPECT_EQ(parse(bad_doff, m), DropReason::kMalformed);
}

TEST(Parse, PaddingOptionsAndFragments) {
  PacketMeta m;
  auto padded = ipv4_frame(kIpProtoUdp, {0, 53, 0, 53, 0, 8, 0, 0});
  padded.resize(60, 0);  // Ethernet minimum frame: trailing bytes past total length are fine
  EXPECT_EQ(parse(padded, m), DropReason::kNone);

  auto opts = ipv4_frame(kIpProtoTcp, tcp_header(1, 2, 0x10), 64, 6);  // 4 bytes of IP options
  ASSERT_EQ(parse(opts, m), DropReason::kNone);
  EXPECT_EQ(m.l4_off, 14 + 24);
  EXPECT_EQ(m.dport, 2);

  auto later = ipv4_frame(kIpProtoUdp, {1, 2, 3, 4});
  store_be16(later.data() + 14 + 6, 185);  // offset 185*8, no L4 header
  later[14 + 10] = later[14 + 11] = 0;
  store_be16(later.data() + 24, static_cast<uint16_t>(~ones_sum(later.data() + 14, 20)));
  ASSERT_EQ(parse(later, m), DropReason::kNone);
  EXPECT_TRUE(m.flags & kFlagLaterFragment);
  EXPECT_FALSE(m.flags & kFlagHasPorts);
}

TEST(Parse, NonIpv4IsUnsupported) {
  PacketMeta m;
  std::vector<uint8_t> ipv6(60, 0);
  ipv6[12] = 0x86;
  ipv6[13] = 0xdd;
  EXPECT_EQ(parse(ipv6, m), DropReason::kUnsupported);
  std::vector<uint8_t> arp(42, 0);
  arp[12] = 0x08;
  arp[13] = 0x06;
  EXPECT_EQ(parse(arp, m), DropReason::kMalformed);  // hardware type 0
  const uint8_t hdr[] = {0, 1, 8, 0, 6, 4, 0, 1};
  std::copy(hdr, hdr + 8, arp.begin() + 14);
  const uint8_t spa[] = {10, 0, 1, 4}, tpa[] = {10, 0, 1, 1};
  std::copy(spa, spa + 4, arp.begin() + 28);
  std::copy(tpa, tpa + 4, arp.begin() + 38);
  EXPECT_EQ(parse(arp, m), DropReason::kArp);
  EXPECT_EQ(m.arp_op, 1);
  EXPECT_EQ(m.src_ip, 0x0a000104u);
  EXPECT_EQ(m.dst_ip, 0x0a000101u);
  std::vector<uint8_t> vlan(64, 0);
  vlan[12] = 0x81;
  EXPECT_EQ(parse(vlan, m), DropReason::kUnsupported);
  std::vector<uint8_t> llc(64, 0);
  llc[12] = 0x00;
  llc[13] = 0x40;  // 802.3 length, not a type
  EXPECT_EQ(parse(llc, m), DropReason::kMalformed);
}

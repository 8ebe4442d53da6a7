// The control socket's wire format: a TableSpec survives the trip exactly, and
// no byte string, however hostile, decodes into a spec that breaks the data
// plane's invariants (issue 6: a bad push changes nothing; issue 9: decoder).
#include <gtest/gtest.h>

#include <random>

#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "protocol/wire.hpp"

using namespace asenet;
using namespace asenet::control;
using namespace asenet::dataplane;

namespace {

TableSpec sample() {
  const Topology t = load_topology(ASENET_EXAMPLE_TOPOLOGY);
  return compile(t, 5);
}

bool same(const TableSpec& a, const TableSpec& b) { return wire::encode_spec(a) == wire::encode_spec(b); }

}  // namespace

TEST(Wire, FrameHeaderRoundTrip) {
  const std::string f = wire::frame(wire::Type::kHealth, "{}");
  ASSERT_EQ(f.size(), wire::kHeaderSize + 2);
  wire::Header h;
  EXPECT_EQ(wire::parse_header(reinterpret_cast<const uint8_t*>(f.data()), h), wire::HeaderCheck::kOk);
  EXPECT_EQ(h.type, wire::Type::kHealth);
  EXPECT_EQ(h.length, 2u);
}

TEST(Wire, HeaderRejectsMagicVersionAndSize) {
  std::string f = wire::frame(wire::Type::kPush, "");
  wire::Header h;
  std::string bad = f;
  bad[0] = 'X';
  EXPECT_EQ(wire::parse_header(reinterpret_cast<const uint8_t*>(bad.data()), h), wire::HeaderCheck::kBadMagic);
  bad = f;
  bad[4] = 2;
  EXPECT_EQ(wire::parse_header(reinterpret_cast<const uint8_t*>(bad.data()), h), wire::HeaderCheck::kBadVersion);
  bad = f;
  bad[11] = 0x7f;  // 2 GiB
  EXPECT_EQ(wire::parse_header(reinterpret_cast<const uint8_t*>(bad.data()), h), wire::HeaderCheck::kTooLarge);
  EXPECT_NE(wire::header_error(wire::HeaderCheck::kTooLarge, h).find("exceeds"), std::string::npos);
}

TEST(Wire, SpecRoundTripsExactly) {
  const TableSpec s = sample();
  ASSERT_FALSE(s.nsg_rules.empty());
  ASSERT_FALSE(s.ases.empty());
  TableSpec back;
  std::string err;
  ASSERT_TRUE(wire::decode_spec(wire::encode_spec(s), back, err)) << err;
  EXPECT_TRUE(same(s, back));
  EXPECT_EQ(back.generation, 5u);
  EXPECT_EQ(back.nsg_rules.size(), s.nsg_rules.size());
  EXPECT_EQ(back.ases[0].maglev, s.ases[0].maglev);
  EXPECT_EQ(back.route_origins, s.route_origins);
}

TEST(Wire, EveryTruncationIsRejected) {
  const std::string bytes = wire::encode_spec(sample());
  for (size_t n = 0; n < bytes.size(); n += (n < 512 ? 1 : 97)) {
    TableSpec out;
    std::string err;
    EXPECT_FALSE(wire::decode_spec(std::string_view(bytes).substr(0, n), out, err)) << n;
    EXPECT_FALSE(err.empty());
  }
  TableSpec out;
  std::string err;
  EXPECT_FALSE(wire::decode_spec(bytes + "x", out, err));
  EXPECT_NE(err.find("after the end"), std::string::npos) << err;
}

TEST(Wire, FlippedBytesNeverYieldAnInvalidSpec) {
  // Whatever decodes must pass validation; most flips are rejected outright.
  const std::string bytes = wire::encode_spec(sample());
  std::mt19937 rng(42);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string b = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) b[rng() % b.size()] = static_cast<char>(rng());
    TableSpec out;
    std::string err;
    if (wire::decode_spec(b, out, err)) {
      ++accepted;
      std::string again;
      EXPECT_TRUE(wire::validate_spec(out, again)) << again;
    }
  }
  SUCCEED() << accepted << " of 3000 mutated specs were still valid";
}

TEST(Wire, ValidationCatchesBrokenIndexes) {
  std::string err;
  {
    TableSpec s = sample();
    s.route_sets[0].push_back({Cidr{0x0a000000, 8}, 9999});
    EXPECT_FALSE(wire::validate_spec(s, err));
    EXPECT_NE(err.find("next hop"), std::string::npos) << err;
  }
  {
    TableSpec s = sample();
    s.ases[0].maglev[0] = 200;
    EXPECT_FALSE(wire::validate_spec(s, err));
  }
  {
    TableSpec s = sample();
    s.subnets[0].nsg_id = 99;
    EXPECT_FALSE(wire::validate_spec(s, err));
  }
  {
    TableSpec s = sample();
    s.nsgs[0].inbound.push_back(static_cast<uint32_t>(s.nsg_rules.size()));
    EXPECT_FALSE(wire::validate_spec(s, err));
  }
  {
    TableSpec s = sample();
    s.route_sets[0][0].prefix = Cidr{0x0a000001, 8};  // host bits set
    EXPECT_FALSE(wire::validate_spec(s, err));
  }
  {
    TableSpec s = sample();
    s.ases[0].up.pop_back();
    EXPECT_FALSE(wire::validate_spec(s, err));
  }
  EXPECT_TRUE(wire::validate_spec(sample(), err)) << err;
}

// Issue 14: a pushed spec's names are Azure's, whatever client built it
// (they become flow-log paths and telemetry keys in asenetd, which runs as root).
TEST(Wire, ValidationRefusesNamesAzureWouldRefuse) {
  std::string err;
  auto refused = [&](auto&& edit) {
    TableSpec s = sample();
    edit(s);
    const bool ok = wire::validate_spec(s, err);
    TableSpec decoded;
    std::string err2;
    const bool decodes = wire::decode_spec(wire::encode_spec(s), decoded, err2);
    return !ok && !decodes && err.find("invalid table spec") == 0;
  };
  EXPECT_TRUE(refused([](TableSpec& s) { s.nsgs[0].name = "../../../x"; })) << err;
  EXPECT_NE(err.find("is not an Azure NSG name"), std::string::npos) << err;
  EXPECT_TRUE(refused([](TableSpec& s) { s.nsgs[0].name = "/tmp/x"; })) << err;
  EXPECT_TRUE(refused([](TableSpec& s) { s.nsg_rules[0].name = "a/b"; })) << err;
  EXPECT_TRUE(refused([](TableSpec& s) { s.subnets[0].name = ""; })) << err;
  EXPECT_TRUE(refused([](TableSpec& s) { s.ases[0].name = std::string(81, 'a'); })) << err;
  EXPECT_TRUE(refused([](TableSpec& s) { s.route_origins.push_back(".."); })) << err;
  EXPECT_TRUE(refused([](TableSpec& s) { s.nics.push_back(NicSpec{0xffffffffu, 0, "h\n"}); })) << err;
  EXPECT_TRUE(wire::validate_spec(sample(), err)) << err;
}

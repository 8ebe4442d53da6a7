// The Internet checksum (dataplane/core/checksum.hpp): the word-at-a-time sum
// against the RFC 1071 byte loop, and the incremental update (RFC 1624)
// against a full recomputation.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "dataplane/core/checksum.hpp"

using namespace asenet::dataplane;

TEST(Checksum, WordSumEqualsTheByteLoop) {
  std::mt19937 rng(7);
  for (int round = 0; round < 20000; ++round) {
    const size_t len = rng() % 90;
    std::vector<uint8_t> d(len + 1);
    const int kind = round % 4;  // random, all zero, all 0xff, sparse
    for (auto& b : d) b = kind == 1 ? 0 : kind == 2 ? 0xff : kind == 3 ? (rng() % 7 == 0 ? rng() : 0) : rng();
    const uint32_t seed = round % 3 == 0 ? 0 : (round % 3 == 1 ? rng() % 0x10000 : rng() % 0x40000);
    const uint8_t* p = d.data() + (round % 2);  // aligned and not: d holds len + 1 bytes
    ASSERT_EQ(ones_sum(p, len, seed), ones_sum_bytes(p, len, seed)) << "round " << round << " length " << len;
  }
}

TEST(Checksum, IncrementalUpdateEqualsRecomputation) {
  std::mt19937 rng(11);
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint8_t> hdr(20);
    for (auto& b : hdr) b = static_cast<uint8_t>(rng());
    store_be16(hdr.data() + 10, 0);
    store_be16(hdr.data() + 10, static_cast<uint16_t>(~ones_sum_bytes(hdr.data(), 20)));
    const size_t at = 2 * (rng() % 10);
    if (at == 10) continue;  // the checksum field itself
    const uint16_t old_field = load_be16(hdr.data() + at), new_field = static_cast<uint16_t>(rng());
    const uint16_t updated = csum_update16(load_be16(hdr.data() + 10), old_field, new_field);
    store_be16(hdr.data() + at, new_field);
    store_be16(hdr.data() + 10, updated);
    // A header with a right checksum sums to 0xffff (RFC 1071).
    ASSERT_EQ(ones_sum_bytes(hdr.data(), 20), 0xffff) << "round " << round;
  }
}

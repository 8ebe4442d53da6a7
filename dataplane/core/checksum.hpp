// Internet checksum helpers (RFC 1071) and incremental update (RFC 1624).
// All values are in network byte order as they sit in the packet.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace asenet::dataplane {

/// One's-complement sum of `len` bytes, folded to 16 bits, not inverted, as
/// the big-endian 16-bit words of RFC 1071 sum (host-order value). The byte
/// loop: the reference the fast form is tested against.
inline uint16_t ones_sum_bytes(const uint8_t* data, size_t len, uint32_t seed = 0) noexcept {
  uint32_t sum = seed;
  size_t i = 0;
  for (; i + 1 < len; i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (i < len) sum += static_cast<uint32_t>(data[i] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

/// The same, four bytes a step: the one's-complement sum is the same in
/// either byte order up to a final byte swap (RFC 1071, "byte order
/// independence"), so native 32-bit loads are summed into 64 bits and folded
/// once. Every IPv4 header is checked with it in parse.
inline uint16_t ones_sum(const uint8_t* data, size_t len, uint32_t seed = 0) noexcept {
  if constexpr (std::endian::native != std::endian::little) return ones_sum_bytes(data, len, seed);
  uint64_t sum = 0;
  size_t i = 0;
  for (; i + 4 <= len; i += 4) {
    uint32_t w;
    std::memcpy(&w, data + i, 4);
    sum += w;
  }
  if (i + 2 <= len) {
    uint16_t w;
    std::memcpy(&w, data + i, 2);
    sum += w;
    i += 2;
  }
  if (i < len) sum += data[i];  // the high byte of a big-endian word is the low byte of a little-endian one
  sum = (sum & 0xffffffffu) + (sum >> 32);
  sum = (sum & 0xffffffffu) + (sum >> 32);
  uint32_t s32 = static_cast<uint32_t>(sum);
  s32 = (s32 & 0xffff) + (s32 >> 16);
  s32 = (s32 & 0xffff) + (s32 >> 16);
  uint32_t host = static_cast<uint16_t>((s32 << 8) | (s32 >> 8));  // to the big-endian words' sum
  host += seed;
  while (host >> 16) host = (host & 0xffff) + (host >> 16);
  return static_cast<uint16_t>(host);
}

/// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit field (host-order
/// values of the field as read big-endian). Returns the new checksum, host order.
constexpr uint16_t csum_update16(uint16_t csum, uint16_t old_field, uint16_t new_field) noexcept {
  uint32_t sum = static_cast<uint16_t>(~csum);
  sum += static_cast<uint16_t>(~old_field);
  sum += new_field;
  sum = (sum & 0xffff) + (sum >> 16);  // at most 0x2fffd: two folds always end it
  sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

inline uint16_t load_be16(const uint8_t* p) noexcept { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t load_be32(const uint8_t* p) noexcept {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 |
         p[3];
}
inline void store_be16(uint8_t* p, uint16_t v) noexcept {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
inline void store_be32(uint8_t* p, uint32_t v) noexcept {
  store_be16(p, static_cast<uint16_t>(v >> 16));
  store_be16(p + 2, static_cast<uint16_t>(v));
}
/// RFC 1624 for a 32-bit field: two 16-bit updates.
constexpr uint16_t csum_update32(uint16_t csum, uint32_t old_field, uint32_t new_field) noexcept {
  return csum_update16(
      csum_update16(csum, static_cast<uint16_t>(old_field >> 16), static_cast<uint16_t>(new_field >> 16)),
      static_cast<uint16_t>(old_field), static_cast<uint16_t>(new_field));
}

/// Decrements the IPv4 TTL of the header at `ip` and patches its checksum.
inline void ipv4_decrement_ttl(uint8_t* ip) noexcept {
  const uint16_t old_word = load_be16(ip + 8);  // TTL | protocol
  ip[8] = static_cast<uint8_t>(ip[8] - 1);
  const uint16_t new_word = load_be16(ip + 8);
  store_be16(ip + 10, csum_update16(load_be16(ip + 10), old_word, new_word));
}

}  // namespace asenet::dataplane

// IPv4 address and prefix helpers shared by control/ and dataplane/.
// Addresses are host byte order everywhere outside packet bytes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace asenet {

struct Cidr {
  uint32_t addr = 0;  ///< network address, host byte order, host bits clear
  uint8_t len = 0;    ///< prefix length 0-32

  [[nodiscard]] constexpr uint32_t mask() const noexcept { return len == 0 ? 0u : ~uint32_t{0} << (32 - len); }
  [[nodiscard]] constexpr bool contains(uint32_t ip) const noexcept { return (ip & mask()) == addr; }
  /// True when every address of `other` is inside this prefix.
  [[nodiscard]] constexpr bool contains(const Cidr& other) const noexcept {
    return other.len >= len && contains(other.addr);
  }
  [[nodiscard]] constexpr bool overlaps(const Cidr& other) const noexcept {
    return contains(other) || other.contains(*this);
  }
  [[nodiscard]] constexpr uint32_t last() const noexcept { return addr | ~mask(); }
  constexpr bool operator==(const Cidr&) const noexcept = default;
};

/// Parses a dotted quad ("10.0.1.4"); nullopt on anything else (no leading zeros
/// tricks, no shorthand forms).
std::optional<uint32_t> parse_ipv4(std::string_view text) noexcept;

/// Result of parsing "a.b.c.d/len" or a bare address (taken as /32).
struct CidrParse {
  std::optional<Cidr> cidr;    ///< set when the text is well formed
  bool host_bits_set = false;  ///< "10.0.1.5/24": well formed but not a network address
  uint32_t raw_addr = 0;       ///< the address as written, for messages
};
CidrParse parse_cidr(std::string_view text) noexcept;

std::string format_ipv4(uint32_t ip);
std::string format_cidr(const Cidr& c);

}  // namespace asenet

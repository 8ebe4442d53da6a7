#include "dataplane/tables/cidr.hpp"

#include <charconv>

namespace asenet {

std::optional<uint32_t> parse_ipv4(std::string_view text) noexcept {
  uint32_t out = 0;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (p == end || *p != '.') return std::nullopt;
      ++p;
    }
    if (p == end || *p < '0' || *p > '9') return std::nullopt;
    // "010" is ambiguous (octal in inet_aton); Azure rejects it, so do we.
    if (*p == '0' && p + 1 != end && p[1] >= '0' && p[1] <= '9') return std::nullopt;
    unsigned v = 0;
    auto [next, ec] = std::from_chars(p, end, v);
    if (ec != std::errc{} || v > 255) return std::nullopt;
    out = (out << 8) | v;
    p = next;
  }
  if (p != end) return std::nullopt;
  return out;
}

CidrParse parse_cidr(std::string_view text) noexcept {
  CidrParse r;
  auto slash = text.find('/');
  auto ip = parse_ipv4(text.substr(0, slash));
  if (!ip) return r;
  unsigned len = 32;
  if (slash != std::string_view::npos) {
    auto lt = text.substr(slash + 1);
    if (lt.empty() || lt.size() > 2) return r;
    auto [next, ec] = std::from_chars(lt.data(), lt.data() + lt.size(), len);
    if (ec != std::errc{} || next != lt.data() + lt.size() || len > 32) return r;
  }
  Cidr c{*ip, static_cast<uint8_t>(len)};
  r.raw_addr = *ip;
  if ((*ip & c.mask()) != *ip) {
    r.host_bits_set = true;
    return r;
  }
  r.cidr = c;
  return r;
}

std::string format_ipv4(uint32_t ip) {
  return std::to_string(ip >> 24) + '.' + std::to_string((ip >> 16) & 0xff) + '.' + std::to_string((ip >> 8) & 0xff) +
         '.' + std::to_string(ip & 0xff);
}

std::string format_cidr(const Cidr& c) { return format_ipv4(c.addr) + '/' + std::to_string(c.len); }

}  // namespace asenet

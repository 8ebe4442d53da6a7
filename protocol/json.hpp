// Minimal JSON string escaping for the documents asenetctl writes.
#pragma once

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace asenet::control {

/// Appends `s` to `out` as a JSON string (quoted, escaped).
inline void append_json_str(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

inline std::string json_str(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  append_json_str(out, s);
  return out;
}

/// Appends an unsigned number in decimal.
inline void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

/// Appends a dotted-quad IPv4 address (host byte order), unquoted.
inline void append_ipv4(std::string& out, uint32_t ip) {
  for (int i = 3; i >= 0; --i) {
    append_uint(out, (ip >> (8 * i)) & 0xff);
    if (i > 0) out += '.';
  }
}

}  // namespace asenet::control

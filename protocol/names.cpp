#include "protocol/names.hpp"

#include <cstdio>

namespace asenet::control {

const char* name_kind_label(NameKind k) noexcept {
  switch (k) {
    case NameKind::kVnet: return "VNet";
    case NameKind::kSubnet: return "subnet";
    case NameKind::kNsg: return "NSG";
    case NameKind::kSecurityRule: return "security rule";
    case NameKind::kRouteTable: return "route table";
    case NameKind::kRoute: return "route";
    case NameKind::kAse: return "ASE";
    case NameKind::kHost: return "host (NIC)";
  }
  return "resource";
}

namespace {
bool alnum(char c) noexcept { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
}  // namespace

std::optional<std::string> azure_name_problem(NameKind k, std::string_view name) {
  const size_t lo = k == NameKind::kVnet ? 2 : 1;
  const size_t hi = k == NameKind::kVnet ? 64 : 80;
  const std::string what = std::string("an Azure ") + name_kind_label(k) + " name";
  const std::string rule = " (" + std::to_string(lo) + "-" + std::to_string(hi) +
                           " letters, digits, '_', '.' or '-', starting with a letter or digit, ending with a letter, "
                           "digit or '_')";
  if (name.size() < lo || name.size() > hi)
    return quote(name) + " is " + std::to_string(name.size()) + " characters long; " + what + " has " +
           std::to_string(lo) + "-" + std::to_string(hi);
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (!alnum(c) && c != '_' && c != '.' && c != '-') {
      char at[64];
      std::snprintf(at, sizeof at, "character %zu", i + 1);
      return quote(name) + " is not " + what + ": " + at + " (" + quote(name.substr(i, 1), 4) + ") is not allowed" +
             rule;
    }
  }
  if (!alnum(name.front())) return quote(name) + " is not " + what + ": it must start with a letter or digit" + rule;
  if (!alnum(name.back()) && name.back() != '_')
    return quote(name) + " is not " + what + ": it must end with a letter, digit or '_'" + rule;
  return std::nullopt;
}

std::string quote(std::string_view s, size_t max) {
  std::string out = "'";
  size_t shown = 0;
  for (const char ch : s) {
    if (shown >= max) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
    ++shown;
  }
  out += "'";
  if (s.size() > max) out += " (" + std::to_string(s.size()) + " bytes)";
  return out;
}

}  // namespace asenet::control

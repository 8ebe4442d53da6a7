// Azure's naming rules for the resources a topology names, and the one way
// asenet quotes user text in a message. Every name that reaches a file path
// (NSG flow logs) or a pushed spec has passed azure_name_problem() first.
//
// The rules per resource type, with their source, are in docs/design/names.md.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace asenet::control {

enum class NameKind { kVnet, kSubnet, kNsg, kSecurityRule, kRouteTable, kRoute, kAse, kHost };

/// "NSG", "security rule", ...: what a message calls it.
const char* name_kind_label(NameKind k) noexcept;

/// Why Azure would refuse `name` for a resource of kind `k`, or nullopt when
/// it is valid: 1-80 (VNet 2-64) letters, digits, '_', '.', '-', starting with a
/// letter or digit, ending with a letter, digit or '_'.
std::optional<std::string> azure_name_problem(NameKind k, std::string_view name);

/// User text for a message: in single quotes, control and non-ASCII bytes as
/// \xNN, cut to `max` bytes with "..." (a 1 MB key gives a short line, a line
/// of a secret file comes back as a few characters at most).
std::string quote(std::string_view s, size_t max = 48);

}  // namespace asenet::control

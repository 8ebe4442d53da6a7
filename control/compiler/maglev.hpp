// Maglev consistent hashing (Eisenbud et al., NSDI 2016): a lookup table of
// prime size in which each backend owns about the same number of slots, and
// adding or removing one backend moves few slots of the others.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace asenet::control {

inline constexpr uint32_t kMaglevSize = 65537;  // prime

/// Builds the table over `backends` (names, e.g. addresses): entry = index into
/// `backends`. Empty input gives an empty table. Deterministic.
std::vector<uint16_t> build_maglev(const std::vector<std::string>& backends, uint32_t size = kMaglevSize);

}  // namespace asenet::control

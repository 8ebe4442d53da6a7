#include "control/compiler/maglev.hpp"

namespace asenet::control {

namespace {

uint64_t fnv1a(const std::string& s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  h ^= h >> 33;  // finalise: FNV's low bits are weak
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

}  // namespace

std::vector<uint16_t> build_maglev(const std::vector<std::string>& backends, uint32_t size) {
  const size_t n = backends.size();
  if (n == 0) return {};
  std::vector<uint64_t> offset(n), skip(n), next(n, 0);
  for (size_t i = 0; i < n; ++i) {
    offset[i] = fnv1a(backends[i], 0x6d61676c) % size;
    skip[i] = fnv1a(backends[i], 0x65762121) % (size - 1) + 1;
  }
  constexpr uint16_t kEmpty = 0xffff;
  std::vector<uint16_t> table(size, kEmpty);
  uint32_t filled = 0;
  while (true) {
    for (size_t i = 0; i < n; ++i) {
      // Backend i takes the next slot of its permutation that is still free.
      uint64_t c = (offset[i] + next[i] * skip[i]) % size;
      while (table[c] != kEmpty) {
        ++next[i];
        c = (offset[i] + next[i] * skip[i]) % size;
      }
      table[c] = static_cast<uint16_t>(i);
      ++next[i];
      if (++filled == size) return table;
    }
  }
}

}  // namespace asenet::control

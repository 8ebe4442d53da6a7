// The flow table's key index (docs/design/flow-table.md): which flow slot a
// 32-bit key hash leads to. Buckets of one cache line, eight ways each, a
// 16-bit signature and a 32-bit value a way; the keys themselves are not
// stored: the caller checks a candidate against the flow it names (whose
// lines it fetches anyway). Open addressing, linear over buckets, with each
// bucket's count of the entries that passed it full (folly's F14 "outbound
// overflow"), so that a lookup stops at the first bucket nobody overflowed:
// nearly always the home bucket, one line. Sized at init, at most half full
// on average: an add never fails while a way is free anywhere.
// Owned by one thread; nothing allocates, locks or throws after init.
#pragma once

#include <rte_hash_crc.h>
#include <rte_prefetch.h>

#include <bit>
#include <cstddef>
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace asenet::dataplane {

/// The hash both tables use for their 16-byte keys (FlowKey, KeyTable::Key):
/// CRC32C of the two words (what rte_hash_crc gives), two instructions where
/// the CPU has them.
inline uint32_t hash16(uint64_t w0, uint64_t w1) noexcept { return rte_hash_crc_8byte(w1, rte_hash_crc_8byte(w0, 0)); }

struct alignas(64) IndexBucket {
  uint16_t sig[8];    ///< 0: a free way (signatures are never 0)
  uint32_t val[8];    ///< the caller's value: a flow slot and its direction bit
  uint32_t overflow;  ///< entries that could not be placed here and went on
  uint8_t pad[12];
};
static_assert(sizeof(IndexBucket) == 64, "a bucket is one cache line");

class FlowIndex {
 public:
  static constexpr uint32_t kWays = 8;
  static constexpr uint32_t kNone = UINT32_MAX;

  /// Buckets for up to `keys` keys: a power of two, four keys a bucket or
  /// fewer on average (a bucket then overflows ~2 % of the time).
  static uint32_t buckets_for(uint32_t keys) noexcept { return std::bit_ceil(keys / 4 + 1); }

  /// `n` (buckets_for) lines the caller owns, zeroed (TableMemory's are),
  /// 64-byte aligned.
  void init(IndexBucket* buckets, uint32_t n) noexcept {
    b_ = buckets;
    mask_ = n - 1;
    size_ = 0;
  }

  static uint16_t sig_of(uint32_t hash) noexcept {
    const auto s = static_cast<uint16_t>(hash >> 16);
    return s != 0 ? s : uint16_t{1};
  }
  void prefetch(uint32_t hash) const noexcept { rte_prefetch0(&b_[hash & mask_]); }
  [[nodiscard]] const IndexBucket& home(uint32_t hash) const noexcept { return b_[hash & mask_]; }

  /// The ways of `b` whose signature is `s`: bit 2w for way w (way_of).
  static uint32_t match(const IndexBucket& b, uint16_t s) noexcept {
#if defined(__SSE2__)
    const __m128i eq =
        _mm_cmpeq_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(b.sig)), _mm_set1_epi16(static_cast<short>(s)));
    return static_cast<uint32_t>(_mm_movemask_epi8(eq)) & 0x5555u;  // two bits a 16-bit way: keep one
#else
    uint32_t m = 0;
    for (uint32_t w = 0; w < kWays; ++w) m |= uint32_t{b.sig[w] == s} << (2 * w);
    return m;
#endif
  }
  /// The way of match()'s lowest bit.
  static int way_of(uint32_t m) noexcept { return std::countr_zero(m) >> 1; }

  /// The value whose key `is(value)` says is the one hashed, or kNone.
  template <typename Is>
  [[nodiscard]] uint32_t find(uint32_t hash, Is&& is) const noexcept {
    const uint16_t s = sig_of(hash);
    uint32_t i = hash & mask_;
    for (uint32_t step = 0; step <= mask_; ++step, i = (i + 1) & mask_) {
      const IndexBucket& b = b_[i];
      for (uint32_t m = match(b, s); m != 0; m &= m - 1) {
        const uint32_t v = b.val[way_of(m)];
        if (is(v)) return v;
      }
      if (b.overflow == 0) return kNone;
    }
    return kNone;
  }

  /// Adds `val` under `hash`; the caller made sure its key is not in. False
  /// only when every way is taken.
  bool add(uint32_t hash, uint32_t val) noexcept {
    const uint16_t s = sig_of(hash);
    const uint32_t home = hash & mask_;
    for (uint32_t step = 0, i = home; step <= mask_; ++step, i = (i + 1) & mask_) {
      IndexBucket& b = b_[i];
      if (const uint32_t free = match(b, 0); free != 0) {
        const int w = way_of(free);
        b.sig[w] = s;
        b.val[w] = val;
        for (uint32_t j = home; j != i; j = (j + 1) & mask_) ++b_[j].overflow;
        ++size_;
        return true;
      }
    }
    return false;
  }

  /// Removes the entry (`hash`, `val`); false when it is not there.
  bool remove(uint32_t hash, uint32_t val) noexcept {
    const uint16_t s = sig_of(hash);
    const uint32_t home = hash & mask_;
    for (uint32_t step = 0, i = home; step <= mask_; ++step, i = (i + 1) & mask_) {
      IndexBucket& b = b_[i];
      for (uint32_t m = match(b, s); m != 0; m &= m - 1) {
        const int w = way_of(m);
        if (b.val[w] != val) continue;
        b.sig[w] = 0;
        for (uint32_t j = home; j != i; j = (j + 1) & mask_) --b_[j].overflow;
        --size_;
        return true;
      }
      if (b.overflow == 0) return false;
    }
    return false;
  }

  [[nodiscard]] uint32_t size() const noexcept { return size_; }
  [[nodiscard]] uint32_t buckets() const noexcept { return mask_ + 1; }

 private:
  IndexBucket* b_ = nullptr;
  uint32_t mask_ = 0;
  uint32_t size_ = 0;
};

}  // namespace asenet::dataplane

// One single-producer, single-consumer ring for the events a worker hands to
// the control thread (flow-log events, health-probe answers): the worker
// pushes, the reader drains, each side writing only its own index. The
// storage belongs to the owner (`slots`, `size` a power of two). A full ring
// drops and counts (live: the worker never waits) or, with `block`, waits for
// the reader (replay: every event is kept, deterministically).
#pragma once

#include <atomic>
#include <cstdint>

namespace asenet::dataplane {

template <class T>
struct SpscRing {
  T* slots = nullptr;
  uint64_t size = 0;  ///< a power of two
  bool block = false;
  alignas(64) std::atomic<uint64_t> head{0};  ///< written by the producer (release)
  alignas(64) std::atomic<uint64_t> tail{0};  ///< written by the reader (release)
  uint64_t dropped = 0;                       ///< producer-written: entries lost to a full ring

  /// Producer only. False when the entry was dropped.
  bool push(const T& e) noexcept {
    const uint64_t h = head.load(std::memory_order_relaxed);
    while (h - tail.load(std::memory_order_acquire) >= size) {
      if (!block) {
        ++dropped;
        return false;
      }
    }
    slots[h & (size - 1)] = e;
    head.store(h + 1, std::memory_order_release);
    return true;
  }
  /// Reader only: calls fn(entry) for every entry pushed so far.
  template <class Fn>
  void drain(Fn&& fn) {
    const uint64_t h = head.load(std::memory_order_acquire);
    uint64_t t = tail.load(std::memory_order_relaxed);
    for (; t < h; ++t) fn(slots[t & (size - 1)]);
    tail.store(t, std::memory_order_release);
  }
};

}  // namespace asenet::dataplane

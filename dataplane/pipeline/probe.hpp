// Answers to the load balancer's health probes (asenetd's probe engine sends
// them from 168.63.129.16 out of a control TX queue; see
// docs/design/live-control.md). A worker that receives TCP from the VNet to
// 168.63.129.16 on a probe source port hands its header fields to the
// control thread through this single-producer ring and drops the packet
// (probe_reply): the fabric consumes it, as Azure's host does.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace asenet::dataplane {

struct ProbeReply {
  uint32_t src = 0;  ///< the instance
  uint16_t sport = 0, dport = 0;
  uint8_t tcp_flags = 0;
  uint32_t seq = 0, ack = 0;
  uint16_t payload_len = 0;           ///< TCP payload bytes in the segment
  std::array<char, 16> payload{};     ///< its first bytes (an HTTP status line)
};

/// One worker's ring of probe answers; a full ring drops (a probe then times
/// out, as a lost answer would).
struct ProbeReplySink {
  static constexpr uint64_t kSize = 1024;
  std::array<ProbeReply, kSize> slots{};
  alignas(64) std::atomic<uint64_t> head{0};
  alignas(64) std::atomic<uint64_t> tail{0};
  void push(const ProbeReply& r) noexcept {
    const uint64_t h = head.load(std::memory_order_relaxed);
    if (h - tail.load(std::memory_order_acquire) >= kSize) return;
    slots[h & (kSize - 1)] = r;
    head.store(h + 1, std::memory_order_release);
  }
  template <class Fn>
  void drain(Fn&& fn) {
    const uint64_t h = head.load(std::memory_order_acquire);
    uint64_t t = tail.load(std::memory_order_relaxed);
    for (; t < h; ++t) fn(slots[t & (kSize - 1)]);
    tail.store(t, std::memory_order_release);
  }
};

}  // namespace asenet::dataplane

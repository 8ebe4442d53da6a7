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

#include "dataplane/core/spsc_ring.hpp"

namespace asenet::dataplane {

struct ProbeReply {
  uint32_t src = 0;  ///< the instance
  uint16_t sport = 0, dport = 0;
  uint8_t tcp_flags = 0;
  uint32_t seq = 0, ack = 0;
  uint16_t payload_len = 0;        ///< TCP payload bytes in the segment
  std::array<char, 16> payload{};  ///< its first bytes (an HTTP status line)
  uint64_t at_ns = 0;              ///< when the worker received it (its clock: the TSC in ns)
};

/// One worker's ring of probe answers, with its storage; a full ring drops
/// (a probe then times out, as a lost answer would).
struct ProbeReplySink : SpscRing<ProbeReply> {
  static constexpr uint64_t kSize = 1024;
  std::array<ProbeReply, kSize> storage{};
  ProbeReplySink() noexcept {
    slots = storage.data();
    size = kSize;
  }
  ProbeReplySink(const ProbeReplySink&) = delete;
  ProbeReplySink& operator=(const ProbeReplySink&) = delete;
};

}  // namespace asenet::dataplane

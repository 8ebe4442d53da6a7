// A live capture (asenetctl capture): the frames one side received (as they
// arrived, before any rewrite) and sent (as they left), copied by the workers
// into a ring per worker that asenetd's control thread drains into pcap
// records. While nobody captures, the cost is one pointer load per burst in
// stamp_burst and one in emit.
#pragma once

#include <atomic>
#include <cstdint>

#include "dataplane/core/packet.hpp"

struct rte_mbuf;

namespace asenet::dataplane {

/// One captured frame: its header, then `snaplen` bytes of room.
struct CaptureRecord {
  uint64_t now_ns = 0;  ///< the worker's clock (TSC in ns) when it saw the frame
  uint32_t wire_len = 0;
  uint16_t caplen = 0;
  uint8_t outbound = 0;  ///< 0: received on the side, 1: sent on it
  uint8_t worker = 0;
};

/// Written by one worker only; `head` counts records written (release), the
/// control thread reads behind it and counts what it was too slow for.
/// `budget` is shared by the workers: exactly that many frames are taken.
struct CaptureSink {
  uint8_t* ring = nullptr;  ///< `mask + 1` slots of `stride` bytes: a CaptureRecord, then the bytes
  uint64_t mask = 0;
  uint32_t stride = 0;
  uint16_t snaplen = 0;
  Port port = Port::kInternet;
  bool inbound = true, outbound = true;
  /// The tcpdump filter (libpcap's interpreter, supplied by asenetd), or null.
  bool (*frame_filter)(const void* state, const uint8_t* frame, uint32_t caplen, uint32_t wire_len) noexcept = nullptr;
  const void* frame_filter_state = nullptr;
  std::atomic<int64_t>* budget = nullptr;
  alignas(64) std::atomic<uint64_t> head{0};
};

/// Copies the frames among `pkts` that pass the sink's filter (all of them
/// on the sink's side: the caller picks), received (`outbound` false) or
/// about to be sent.
void capture_frames(rte_mbuf* const* pkts, uint16_t n, bool outbound, uint64_t now_ns, unsigned worker,
                    CaptureSink& sink) noexcept;

}  // namespace asenet::dataplane

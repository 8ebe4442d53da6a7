// Live capture: frames of one side copied into the worker's capture ring
// (capture.hpp). Never blocks: when the budget is spent the frame is skipped;
// when the reader falls behind, records are overwritten and it counts them.
#include "dataplane/pipeline/capture.hpp"

#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

namespace asenet::dataplane {

void capture_frames(rte_mbuf* const* pkts, uint16_t n, bool outbound, uint64_t now_ns, unsigned worker,
                    CaptureSink& sink) noexcept {
  if (outbound ? !sink.outbound : !sink.inbound) return;
  uint64_t head = sink.head.load(std::memory_order_relaxed);
  const uint64_t start = head;
  for (uint16_t i = 0; i < n; ++i) {
    const rte_mbuf* m = pkts[i];
    const auto* data = rte_pktmbuf_mtod(m, const uint8_t*);
    if (sink.frame_filter != nullptr && !sink.frame_filter(sink.frame_filter_state, data, m->data_len, m->pkt_len))
      continue;
    if (sink.budget->load(std::memory_order_relaxed) <= 0 || sink.budget->fetch_sub(1, std::memory_order_relaxed) <= 0)
      break;
    uint8_t* slot = sink.ring + (head++ & sink.mask) * sink.stride;
    CaptureRecord r;
    r.now_ns = now_ns;
    r.wire_len = m->pkt_len;
    r.caplen = static_cast<uint16_t>(std::min<uint32_t>(m->pkt_len, sink.snaplen));
    r.outbound = outbound ? 1 : 0;
    r.worker = static_cast<uint8_t>(worker);
    std::memcpy(slot, &r, sizeof r);
    // A chained mbuf is copied segment by segment (rte_pktmbuf_read only
    // copies when the bytes are not contiguous).
    const void* bytes = rte_pktmbuf_read(m, 0, r.caplen, slot + sizeof r);
    if (bytes != nullptr && bytes != slot + sizeof r) std::memcpy(slot + sizeof r, bytes, r.caplen);
  }
  if (head != start) sink.head.store(head, std::memory_order_release);
}

}  // namespace asenet::dataplane

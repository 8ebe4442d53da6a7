// Trace records: what each packet of a burst did, written by emit() once the
// burst is done. Replay keeps one slot per packet in flight, indexed by its
// sequence number; a live trace keeps those matching its filter, in order,
// while the shared budget lasts. Drops nothing.

#include "dataplane/pipeline/trace.hpp"

#include "dataplane/pipeline/context.hpp"

namespace asenet::dataplane {

void record_traces(const Burst& b, TraceSink& sink, unsigned worker) noexcept {
  uint64_t head = sink.live ? sink.head.load(std::memory_order_relaxed) : 0;
  for (uint16_t i = 0; i < b.count; ++i) {
    const PacketMeta& m = b.meta[i];
    uint64_t slot = m.seq;
    if (sink.live) {
      if (!sink.filter.matches(m) || sink.budget->load(std::memory_order_relaxed) <= 0 ||
          sink.budget->fetch_sub(1, std::memory_order_relaxed) <= 0)
        continue;
      slot = head++;
    }
    TraceRecord& r = sink.slots[slot & sink.mask];
    r.seq = m.seq;
    r.now_ns = m.now_ns;
    r.worker = worker;
    r.src = m.src_ip;
    r.dst = m.dst_ip;
    r.sport = m.sport;
    r.dport = m.dport;
    r.proto = m.proto;
    r.tcp_flags = m.tcp_flags;
    r.length = m.ip_total_len;  // the mbuf may be gone already (sent)
    r.in_port = m.in_port;
    r.verdict = m.verdict;
    r.out_port = m.out_port;
    r.reason = m.reason;
    r.routed = m.routed;
    r.next_hop = m.routed ? m.hop : NextHop{};
    r.flow = m.flow_state;
    r.nsg = m.nsg;
    r.rewrite = m.rewrite && m.verdict == Verdict::kForward;
    r.new_src = m.new_src;
    r.new_dst = m.new_dst;
    r.new_sport = m.new_sport;
    r.new_dport = m.new_dport;
  }
  if (sink.live) sink.head.store(head, std::memory_order_release);
}

}  // namespace asenet::dataplane

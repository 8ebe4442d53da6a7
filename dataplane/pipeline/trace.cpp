// Trace records: what each packet of a burst did, written by emit() once the
// burst is done. Replay keeps one slot per packet in flight, indexed by its
// sequence number; a live trace keeps those matching its filter, in order,
// while the shared budget lasts. Drops nothing.

#include "dataplane/pipeline/trace.hpp"

#include "dataplane/pipeline/context.hpp"

namespace asenet::dataplane {

namespace {

/// Whether a live trace keeps `m`: it matches the filter (and the BPF
/// program), or, with --both-directions, it is the reply of a connection the
/// trace kept, whose key is then remembered.
bool live_keeps(const PacketMeta& m, TraceSink& sink) noexcept {
  const bool hit = sink.filter.matches(m) && (sink.frame_filter == nullptr || m.trace_hit);
  if (!sink.both_directions) return hit;
  if (!hit) {
    const TraceReplyKey k{m.src_ip, m.dst_ip, m.sport, m.dport, m.proto};
    return k.proto != 0 && sink.replies[k.slot()] == k;
  }
  if (m.verdict == Verdict::kForward) {  // its answer: from where it went to where it came from
    const bool nat = m.rewrite;
    const TraceReplyKey r{nat ? m.new_dst : m.dst_ip, nat ? m.new_src : m.src_ip, nat ? m.new_dport : m.dport,
                          nat ? m.new_sport : m.sport, m.proto};
    sink.replies[r.slot()] = r;
  }
  return true;
}

}  // namespace

void record_traces(const Burst& b, TraceSink& sink, unsigned worker) noexcept {
  uint64_t head = sink.live ? sink.head.load(std::memory_order_relaxed) : 0;
  for (uint16_t i = 0; i < b.count; ++i) {
    const PacketMeta& m = b.meta[i];
    uint64_t slot = m.seq;
    if (sink.live) {
      if (!live_keeps(m, sink) || sink.budget->load(std::memory_order_relaxed) <= 0 ||
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

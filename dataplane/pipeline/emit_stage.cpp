// emit: the end of every burst. Flow log events for the flows it began or
// denied, the packets sent per port in bulk, drops counted by reason and
// freed, trace records written when tracing is on, and the worker's progress
// published for the replay reader.
// Drop reasons: tx_full (the port's queue took fewer than it was given).

#include "dataplane/pipeline/pipeline.hpp"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

namespace asenet::dataplane {

namespace {

/// Flow log events for the first packets of this burst that an NSG with flow
/// logs judged: kBegin for an allowed flow (marked logged, so its end is
/// reported too), kDeny for a denied one.
void log_flow_starts(const Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  for (uint16_t i = 0; i < b.count; ++i) {
    const PacketMeta& m = b.meta[i];
    if (m.nsg.count == 0) continue;
    const bool denied = m.verdict == Verdict::kDrop && m.reason == DropReason::kNsgDeny;
    const bool begun = m.flow_state == FlowState::kNew && m.flow != nullptr;
    if (!denied && !begun) continue;
    bool any = false;
    for (uint8_t k = 0; k < m.nsg.count; ++k) any = any || ts.rule_logged(m.nsg.rule[k]);
    if (!any) continue;
    FlowLogEvent e;
    e.kind = denied ? FlowLogKind::kDeny : FlowLogKind::kBegin;
    e.time_ns = m.now_ns;
    e.generation = ts.generation();
    e.worker = static_cast<uint16_t>(ctx.worker_id);
    e.proto = m.proto;
    e.src = m.src_ip;
    e.dst = m.dst_ip;
    e.sport = m.sport;
    e.dport = m.dport;
    const bool dnat = m.rewrite && m.new_dst != m.dst_ip;
    e.xdst = dnat ? m.new_dst : m.dst_ip;
    e.xdport = dnat ? m.new_dport : m.dport;
    e.nrules = m.nsg.count;
    e.rule = m.nsg.rule;
    if (begun) {
      Flow* f = m.flow;
      f->logged = true;
      f->log_last_s = static_cast<uint32_t>(m.now_ns / kNsPerSecond);
      e.flow_slot = ctx.flows->slot_of(f);
      e.flow_serial = f->serial;
    }
    ctx.flow_log->push(e);
  }
}

}  // namespace

void emit(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  std::array<std::array<rte_mbuf*, kBurstSize>, kNumPorts> out;
  std::array<std::array<uint16_t, kBurstSize>, kNumPorts> out_idx;
  std::array<uint16_t, kNumPorts> nout{};
  std::array<rte_mbuf*, kBurstSize> drops;
  uint16_t ndrop = 0;
  uint64_t last_seq = 0;
  if (ctx.flow_log != nullptr && ts.flow_logs()) log_flow_starts(b, ts, ctx);
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    last_seq = m.seq;
    if (m.verdict == Verdict::kForward) {
      const auto p = static_cast<size_t>(m.out_port);
      out_idx[p][nout[p]] = i;
      out[p][nout[p]++] = b.pkts[i];
    } else {
      ctx.counters.drops[static_cast<size_t>(m.reason)]++;
      drops[ndrop++] = b.pkts[i];
    }
  }
  if (CaptureSink* cap = ctx.capture.load(std::memory_order_acquire); cap != nullptr) {
    const auto p = static_cast<size_t>(cap->port);
    if (nout[p] > 0) capture_frames(out[p].data(), nout[p], true, b.meta[0].now_ns, ctx.worker_id, *cap);
  }
  for (size_t p = 0; p < kNumPorts; ++p) {
    if (nout[p] == 0) continue;
    const uint16_t sent = rte_eth_tx_burst(ctx.tx_port_id[p], ctx.tx_queue, out[p].data(), nout[p]);
    ctx.counters.tx[p] += sent;
    ctx.counters.forwarded += sent;
    for (uint16_t k = sent; k < nout[p]; ++k) {  // unsent packets are drops
      b.meta[out_idx[p][k]].drop(DropReason::kTxFull);
      ctx.counters.drops[static_cast<size_t>(DropReason::kTxFull)]++;
      drops[ndrop++] = out[p][k];
    }
  }
  if (TraceSink* sink = ctx.trace.load(std::memory_order_acquire); sink != nullptr)
    record_traces(b, *sink, ctx.worker_id);
  if (ndrop > 0) rte_pktmbuf_free_bulk(drops.data(), ndrop);
  if (b.count > 0) {
    ctx.done_seq.store(last_seq, std::memory_order_release);
    ctx.done_any.store(true, std::memory_order_release);
  }
  b.count = 0;
}

}  // namespace asenet::dataplane

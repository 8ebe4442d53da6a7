#include "dataplane/pipeline/fabric_frames.hpp"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "dataplane/core/frames.hpp"
#include "dataplane/pipeline/l2.hpp"

namespace asenet::dataplane {

namespace {

/// One RST|ACK made by the fabric, sent at once on `out`.
void send_reset(WorkerContext& ctx, const TableSpec& spec, Port out, const NextHop& hop, uint32_t src, uint32_t dst,
                uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack) noexcept {
  const MacAddr* dst_mac = l2_destination(ctx, spec, out, dst, hop, ctx.timer_ns);
  if (dst_mac == nullptr) {  // [l2] arp: the neighbour is not known (any more)
    ctx.counters.resets_unsent++;
    return;
  }
  rte_mbuf* m = rte_pktmbuf_alloc(ctx.pool);
  if (m == nullptr) {  // the mempool is exhausted: the reset is not sent, and counted
    ctx.counters.resets_unsent++;
    return;
  }
  auto* f = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kTcpFrameLen));
  if (f == nullptr) {
    ctx.counters.resets_unsent++;
    rte_pktmbuf_free(m);
    return;
  }
  write_tcp_frame(f, *dst_mac, spec.fabric_mac, src, dst, sport, dport, seq, ack, kTcpRst | kTcpAck, 64);
  m->port = kMadeByFabric;
  if (ctx.ts_dynfield >= 0) *RTE_MBUF_DYNFIELD(m, ctx.ts_dynfield, uint64_t*) = ctx.timer_ns;
  if (ctx.seq_dynfield >= 0) *RTE_MBUF_DYNFIELD(m, ctx.seq_dynfield, uint64_t*) = ctx.timer_seq;
  capture_made(ctx, static_cast<size_t>(out), m, ctx.timer_ns);
  if (rte_eth_tx_burst(ctx.tx_port_id[static_cast<size_t>(out)], ctx.tx_queue, &m, 1) == 1) {
    ctx.counters.tx[static_cast<size_t>(out)]++;
    ctx.counters.resets_sent++;
  } else {
    ctx.counters.resets_unsent++;
    rte_pktmbuf_free(m);
  }
}

}  // namespace

void trim_frame(rte_mbuf* m, uint32_t len) noexcept {
  uint32_t left = len;
  uint16_t segs = 0;
  for (rte_mbuf* seg = m; seg != nullptr; seg = seg->next) {
    ++segs;
    if (seg->data_len >= left || seg->next == nullptr) {
      seg->data_len = static_cast<uint16_t>(std::min<uint32_t>(left, seg->data_len));
      if (seg->next != nullptr) {
        rte_pktmbuf_free(seg->next);
        seg->next = nullptr;
      }
      break;
    }
    left -= seg->data_len;
  }
  m->nb_segs = segs;
  m->pkt_len = len;
}

void send_frag_needed(rte_mbuf* mb, const PacketMeta& m, const TableSpec& spec, WorkerContext& ctx) noexcept {
  if (ctx.pool == nullptr) return;
  const uint8_t* f = rte_pktmbuf_mtod(mb, const uint8_t*);
  const uint32_t ihl = static_cast<uint32_t>(f[kEthHeaderLen] & 0x0f) * 4;
  const uint32_t quoted = std::min<uint32_t>(ihl + 8, mb->data_len - kEthHeaderLen);
  const auto side = static_cast<size_t>(m.in_port);
  uint32_t src = spec.l2.fabric_ip[side];
  if (src == 0 && m.in_port == Port::kVnet) {
    const SubnetSpec* s = spec.subnet_of(m.src_ip);
    src = s != nullptr ? s->prefix.addr + 1 : (m.src_ip & 0xffffff00u) + 1;
  }
  if (src == 0) src = m.dst_ip;
  rte_mbuf* out = rte_pktmbuf_alloc(ctx.pool);
  if (out == nullptr) return;
  auto* o = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(out, static_cast<uint16_t>(kIcmpErrorHeadLen + quoted)));
  if (o == nullptr) {
    rte_pktmbuf_free(out);
    return;
  }
  MacAddr sender;
  std::memcpy(sender.bytes.data(), f + 6, 6);
  write_icmp_frag_needed(o, sender, spec.fabric_mac, src, m.src_ip, spec.mtu, f + kEthHeaderLen, quoted);
  out->port = kMadeByFabric;
  if (ctx.ts_dynfield >= 0) *RTE_MBUF_DYNFIELD(out, ctx.ts_dynfield, uint64_t*) = m.now_ns;
  if (ctx.seq_dynfield >= 0) *RTE_MBUF_DYNFIELD(out, ctx.seq_dynfield, uint64_t*) = m.seq;
  capture_made(ctx, side, out, m.now_ns);
  if (rte_eth_tx_burst(ctx.tx_port_id[side], ctx.tx_queue, &out, 1) == 1) {
    ctx.counters.tx[side]++;
    ctx.counters.icmp_frag_needed++;
  } else {
    rte_pktmbuf_free(out);
  }
}

void send_idle_resets(void* arg, const Flow& f) noexcept {
  auto& ctx = *static_cast<WorkerContext*>(arg);
  if (ctx.pool == nullptr || ctx.timer_tables == nullptr) return;
  const TableSpec& spec = ctx.timer_tables->spec();
  // To the client, from the frontend; to the instance, from the client. Each
  // with the sequence number its receiver expects next, so it is accepted.
  const FlowAction& in = f.action[0];
  const FlowAction& back = f.action[1];
  const FlowKey key = initiator_key(f);
  if (back.verdict == Verdict::kForward)
    send_reset(ctx, spec, back.out_port, back.next_hop, key.dst, key.src, key.dport, key.sport, f.next_seq[1],
               f.next_seq[0]);
  if (in.verdict == Verdict::kForward && in.rewrite)
    send_reset(ctx, spec, in.out_port, in.next_hop, in.src, in.dst, in.sport, in.dport, f.next_seq[0], f.next_seq[1]);
}

}  // namespace asenet::dataplane

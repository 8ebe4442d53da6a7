#include "dataplane/pipeline/pipeline.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_fib.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstring>

#include "dataplane/pipeline/checksum.hpp"

namespace asenet::dataplane {

void stamp_burst(Burst& b, WorkerContext& ctx, const Port* in_ports) noexcept {
  uint64_t now = 0;
  if (ctx.clock == ClockMode::kTsc) {
    // Split to avoid overflow: whole seconds, then the remainder in ns.
    const uint64_t c = rte_rdtsc();
    now = (c / ctx.tsc_hz) * 1000000000ull + ((c % ctx.tsc_hz) * 1000000000ull) / ctx.tsc_hz;
  } else if (ctx.clock == ClockMode::kFake) {
    now = ctx.fake_now_ns;
  }
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    m = PacketMeta{};
    m.in_port = in_ports[i];
    m.now_ns = ctx.clock == ClockMode::kPacketTimestamp
                   ? *RTE_MBUF_DYNFIELD(b.pkts[i], ctx.ts_dynfield, uint64_t*)
                   : now;
    m.seq = ctx.seq_dynfield >= 0 ? *RTE_MBUF_DYNFIELD(b.pkts[i], ctx.seq_dynfield, uint64_t*)
                                  : ctx.next_seq++;
    ctx.counters.rx[static_cast<size_t>(m.in_port)]++;
  }
}

void parse_stage(Burst& b, WorkerContext& /*ctx*/) noexcept {
  for (uint16_t i = 0; i < b.count; ++i) {
    rte_mbuf* m = b.pkts[i];
    if (i + 1 < b.count) rte_prefetch0(rte_pktmbuf_mtod(b.pkts[i + 1], void*));
    const DropReason r =
        parse_packet(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, m->pkt_len, b.meta[i]);
    if (r != DropReason::kNone) b.meta[i].drop(r);
  }
}

void route_stage(Burst& b, const TableSet& ts, WorkerContext& /*ctx*/) noexcept {
  std::array<uint32_t, kBurstSize> ips;
  std::array<uint64_t, kBurstSize> hops;
  std::array<uint16_t, kBurstSize> idx;
  uint16_t n = 0;
  for (uint16_t i = 0; i < b.count; ++i) {
    if (b.meta[i].verdict != Verdict::kForward) continue;
    ips[n] = b.meta[i].dst_ip;
    idx[n++] = i;
  }
  if (n == 0) return;
  rte_fib_lookup_bulk(ts.fib(), ips.data(), hops.data(), n);
  const NextHop* nh = ts.next_hops();
  for (uint16_t k = 0; k < n; ++k) {
    PacketMeta& m = b.meta[idx[k]];
    if (hops[k] == TableSet::kNoRoute) {
      m.drop(DropReason::kNoRoute);
      continue;
    }
    const auto h = static_cast<uint32_t>(hops[k]);
    m.next_hop = h;
    m.routed = true;
    switch (nh[h].type) {
      case NextHopType::kNone:
        m.drop(DropReason::kRouteNone);
        break;
      case NextHopType::kLocal:
        // A fabric-owned address that no frontend stage claimed.
        m.drop(DropReason::kNoFrontend);
        break;
      default:
        m.out_port = nh[h].port;
        break;
    }
  }
}

void forward_stage(Burst& b, const TableSet& ts, WorkerContext& /*ctx*/) noexcept {
  const TableSpec& spec = ts.spec();
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    if (m.verdict != Verdict::kForward) continue;
    uint8_t* frame = rte_pktmbuf_mtod(b.pkts[i], uint8_t*);
    if (spec.decrement_ttl) {
      if (m.ttl <= 1) {
        m.drop(DropReason::kTtlExceeded);
        continue;
      }
      ipv4_decrement_ttl(frame + m.l3_off);
    }
    std::memcpy(frame, spec.peer_macs[static_cast<size_t>(m.out_port)].bytes.data(), 6);
    std::memcpy(frame + 6, spec.fabric_mac.bytes.data(), 6);
  }
}

void emit(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  std::array<std::array<rte_mbuf*, kBurstSize>, kNumPorts> out;
  std::array<uint16_t, kNumPorts> nout{};
  std::array<rte_mbuf*, kBurstSize> drops;
  uint16_t ndrop = 0;
  uint64_t last_seq = 0;
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    last_seq = m.seq;
    if (m.verdict == Verdict::kForward) {
      const auto p = static_cast<size_t>(m.out_port);
      out[p][nout[p]++] = b.pkts[i];
    } else {
      ctx.counters.drops[static_cast<size_t>(m.reason)]++;
      drops[ndrop++] = b.pkts[i];
    }
  }
  for (size_t p = 0; p < kNumPorts; ++p) {
    if (nout[p] == 0) continue;
    const uint16_t sent = rte_eth_tx_burst(ctx.tx_port_id[p], ctx.tx_queue, out[p].data(), nout[p]);
    ctx.counters.tx[p] += sent;
    ctx.counters.forwarded += sent;
    if (sent < nout[p]) {
      // Unsent packets are drops: find their metadata so the trace says so.
      for (uint16_t k = sent; k < nout[p]; ++k) {
        for (uint16_t i = 0; i < b.count; ++i) {
          if (b.pkts[i] == out[p][k]) b.meta[i].drop(DropReason::kTxFull);
        }
        ctx.counters.drops[static_cast<size_t>(DropReason::kTxFull)]++;
        drops[ndrop++] = out[p][k];
      }
    }
  }
  if (ctx.trace != nullptr) {
    for (uint16_t i = 0; i < b.count; ++i) {
      const PacketMeta& m = b.meta[i];
      TraceRecord& r = ctx.trace->slots[m.seq & ctx.trace->mask];
      r.seq = m.seq;
      r.in_port = m.in_port;
      r.verdict = m.verdict;
      r.out_port = m.out_port;
      r.reason = m.reason;
      r.routed = m.routed;
      r.next_hop = m.routed ? ts.next_hops()[m.next_hop] : NextHop{};
    }
  }
  if (ndrop > 0) rte_pktmbuf_free_bulk(drops.data(), ndrop);
  if (b.count > 0) {
    ctx.done_seq.store(last_seq, std::memory_order_release);
    ctx.done_any.store(true, std::memory_order_release);
  }
  b.count = 0;
}

}  // namespace asenet::dataplane

// parse_stage: stamps each received packet (side, time, sequence number),
// parses its headers (parse.cpp) and does what the fabric does before any
// lookup: answers ARP ([l2] arp), takes the answers to asenetd's own health
// probes, trims bytes past the IPv4 total length, and refuses packets it
// cannot carry.
// Drop reasons: those parse_packet gives (malformed, unsupported, martian,
// vnet_blocked, and arp for every ARP frame without [l2] arp), arp (consumed
// by the fabric's ARP),
// probe_reply (an answer to asenetd's probe, taken by the probe engine),
// ttl_exceeded (TTL 0 or 1 when the fabric decrements it), mtu_exceeded
// (longer than [emulator] mtu; DF ones are answered with ICMP 3/4).

#include "dataplane/pipeline/pipeline.hpp"

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <algorithm>
#include <cstring>

#include "dataplane/pipeline/fabric_frames.hpp"
#include "dataplane/pipeline/l2.hpp"

namespace asenet::dataplane {

namespace {

// Each packet's metadata starts as a copy of one blank (plain loads and
// stores: `m = PacketMeta{}` compiled to a `rep stos` into a temporary and a
// copy that waited on it, 10 % of an established packet's cycles). Constant,
// at namespace scope: no guard on first use in the loop.
constexpr PacketMeta kBlank{};

/// A live trace's tcpdump filter on each frame as it arrived (before any
/// rewrite; a handed-over frame is still untouched at its owner).
void run_trace_filter(Burst& b, const TraceSink& sink) noexcept {
  for (uint16_t i = 0; i < b.count; ++i) {
    const rte_mbuf* m = b.pkts[i];
    b.meta[i].trace_hit =
        sink.frame_filter(sink.frame_filter_state, rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, m->pkt_len);
  }
}

/// The frames a live capture's side received, as they arrived.
void capture_received(const Burst& b, const Port* in_ports, WorkerContext& ctx, CaptureSink& sink) noexcept {
  std::array<rte_mbuf*, kBurstSize> mine;
  uint16_t n = 0;
  for (uint16_t i = 0; i < b.count; ++i)
    if (in_ports[i] == sink.port) mine[n++] = b.pkts[i];
  if (n > 0) capture_frames(mine.data(), n, false, b.count > 0 ? b.meta[0].now_ns : 0, ctx.worker_id, sink);
}

}  // namespace

void stamp_burst(Burst& b, WorkerContext& ctx, const Port* in_ports) noexcept {
  uint64_t now = 0;
  if (ctx.clock == ClockMode::kTsc) {
    now = tsc_to_ns(rte_rdtsc(), ctx.tsc_hz);
  } else if (ctx.clock == ClockMode::kFake) {
    now = ctx.fake_now_ns;
  }
  // Every frame's headers are fetched now, for the whole burst: a NIC's DMA
  // leaves them in the last-level cache at best, and parse, right after,
  // reads them in order (prefetching one packet ahead there is too late).
  for (uint16_t i = 0; i < b.count; ++i) rte_prefetch0(rte_pktmbuf_mtod(b.pkts[i], void*));
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    std::memcpy(&m, &kBlank, sizeof m);
    m.in_port = in_ports[i];
    m.now_ns =
        ctx.clock == ClockMode::kPacketTimestamp ? *RTE_MBUF_DYNFIELD(b.pkts[i], ctx.ts_dynfield, uint64_t*) : now;
    m.seq = ctx.seq_dynfield >= 0 ? *RTE_MBUF_DYNFIELD(b.pkts[i], ctx.seq_dynfield, uint64_t*) : ctx.next_seq++;
    ctx.counters.rx[static_cast<size_t>(m.in_port)]++;
  }
  // One load per burst while nobody traces.
  if (const TraceSink* sink = ctx.trace.load(std::memory_order_acquire);
      sink != nullptr && sink->frame_filter != nullptr)
    run_trace_filter(b, *sink);
  if (CaptureSink* cap = ctx.capture.load(std::memory_order_acquire); cap != nullptr)
    capture_received(b, in_ports, ctx, *cap);
}

void parse_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  const bool ttl = ts.spec().decrement_ttl;
  const bool l2 = ts.spec().l2.arp && ctx.neighbors != nullptr;
  const uint32_t mtu = ts.spec().mtu;
  for (uint16_t i = 0; i < b.count; ++i) {
    rte_mbuf* m = b.pkts[i];
    const DropReason r = parse_packet(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, m->pkt_len, b.meta[i]);
    if (r == DropReason::kArp && l2) {
      answer_arp(m, b.meta[i], ts.spec(), ctx);
    } else if (r != DropReason::kNone) {
      b.meta[i].drop(r);
    } else if (ctx.probe_replies != nullptr && b.meta[i].dst_ip == kAzureProbeSource &&
               b.meta[i].proto == kIpProtoTcp && b.meta[i].in_port == Port::kVnet &&
               static_cast<uint16_t>(b.meta[i].dport - kProbePortBase) < kProbePortCount) {
      const PacketMeta& pm = b.meta[i];
      ProbeReply pr{pm.src_ip, pm.sport, pm.dport, pm.tcp_flags, pm.tcp_seq, pm.tcp_ack, pm.tcp_payload, {}, pm.now_ns};
      if (pm.tcp_payload > 0) {  // an HTTP probe's answer: keep the status line's start
        const uint8_t* l4 = rte_pktmbuf_mtod(m, const uint8_t*) + pm.l4_off;
        const uint32_t doff = static_cast<uint32_t>(l4[12] >> 4) * 4;
        const uint32_t avail = m->data_len > pm.l4_off + doff ? m->data_len - pm.l4_off - doff : 0;
        std::memcpy(pr.payload.data(), l4 + doff, std::min<uint32_t>({avail, pm.tcp_payload, 16}));
      }
      ctx.probe_replies->push(pr);
      b.meta[i].drop(DropReason::kProbeReply);
    } else if (ttl && b.meta[i].ttl <= 1) {
      // It would expire in the fabric: it reaches no NSG and creates no flow.
      b.meta[i].drop(DropReason::kTtlExceeded);
    } else if (b.meta[i].ip_total_len > mtu) {
      // Longer than any port carries: a router drops it, and says so to a
      // sender that forbade fragmentation (path MTU discovery, RFC 1191).
      const uint8_t* ip = rte_pktmbuf_mtod(m, const uint8_t*) + kEthHeaderLen;
      if ((ip[6] & 0x40) != 0) send_frag_needed(m, b.meta[i], ts.spec(), ctx);
      b.meta[i].drop(DropReason::kMtuExceeded);
    } else if (const uint32_t ip_end = kEthHeaderLen + b.meta[i].ip_total_len; m->pkt_len > ip_end) {
      // Bytes past the IPv4 total length (a kept FCS, junk, a leak) are not
      // the packet's and are never forwarded. A frame keeps Ethernet's
      // 60-byte minimum, its padding zeroed.
      const uint32_t keep = std::max<uint32_t>(ip_end, std::min<uint32_t>(m->pkt_len, 60));
      if (m->pkt_len > keep) trim_frame(m, keep);
      if (keep > ip_end && m->data_len >= keep) std::memset(rte_pktmbuf_mtod(m, uint8_t*) + ip_end, 0, keep - ip_end);
    }
  }
}

}  // namespace asenet::dataplane

#include "dataplane/pipeline/fabric_frames.hpp"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "dataplane/core/frames.hpp"

namespace asenet::dataplane {

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
  if (rte_eth_tx_burst(ctx.tx_port_id[side], ctx.tx_queue, &out, 1) == 1) {
    ctx.counters.tx[side]++;
    ctx.counters.icmp_frag_needed++;
  } else {
    rte_pktmbuf_free(out);
  }
}

}  // namespace asenet::dataplane

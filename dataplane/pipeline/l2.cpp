#include "dataplane/pipeline/l2.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstring>

#include "dataplane/core/frames.hpp"
#include "dataplane/pipeline/pipeline.hpp"

namespace asenet::dataplane {

void answer_arp(rte_mbuf* mb, PacketMeta& m, const TableSpec& spec, WorkerContext& ctx) noexcept {
  uint8_t* f = rte_pktmbuf_mtod(mb, uint8_t*);
  uint8_t* a = f + kEthHeaderLen;
  const MacAddr sender = arp_sender(f);
  const uint32_t sip = m.src_ip, tip = m.dst_ip;
  if (sip != 0) ctx.neighbors->learn(m.in_port, sip, sender, m.now_ns);
  if (m.arp_op != 1 || sip == 0 || sip == tip) {
    m.drop(DropReason::kArp);  // consumed: a reply, a probe or an announcement
    return;
  }
  store_be16(a + 6, 2);
  std::memcpy(a + 18, sender.bytes.data(), 6);  // target: the asker
  store_be32(a + 24, sip);
  std::memcpy(a + 8, spec.fabric_mac.bytes.data(), 6);  // sender: the fabric, for the address asked
  store_be32(a + 14, tip);
  std::memcpy(f, sender.bytes.data(), 6);
  std::memcpy(f + 6, spec.fabric_mac.bytes.data(), 6);
  m.verdict = Verdict::kForward;
  m.out_port = m.in_port;
  m.flags |= kFlagArpReply;
  m.todo = false;
  ctx.counters.arp_replies++;
}

void send_arp_request(WorkerContext& ctx, const TableSpec& spec, Port port, uint32_t ip, uint64_t now) noexcept {
  if (!ctx.neighbors->should_request(port, ip, now)) return;
  rte_mbuf* mb = rte_pktmbuf_alloc(ctx.pool);
  if (mb == nullptr) return;
  auto* f = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(mb, kArpFrameLen));
  if (f == nullptr) {
    rte_pktmbuf_free(mb);
    return;
  }
  uint32_t sip = spec.l2.fabric_ip[static_cast<size_t>(port)];
  if (sip == 0) {
    const SubnetSpec* s = spec.subnet_of(ip);
    sip = s != nullptr ? s->prefix.addr + 1 : (ip & 0xffffff00u) + 1;  // Azure's gateway: the subnet's .1
  }
  write_arp_request(f, spec.fabric_mac, sip, ip);
  mb->port = kMadeByFabric;
  if (ctx.ts_dynfield >= 0) *RTE_MBUF_DYNFIELD(mb, ctx.ts_dynfield, uint64_t*) = now;
  capture_made(ctx, static_cast<size_t>(port), mb, now);
  if (rte_eth_tx_burst(ctx.tx_port_id[static_cast<size_t>(port)], ctx.tx_queue, &mb, 1) == 1) {
    ctx.counters.tx[static_cast<size_t>(port)]++;
    ctx.counters.arp_requests++;
  } else {
    rte_pktmbuf_free(mb);
  }
}

void learn_from_arp(const rte_mbuf* mb, Port side, const TableSpec& spec, WorkerContext& ctx) noexcept {
  if (!spec.l2.arp || ctx.neighbors == nullptr) return;
  PacketMeta m;
  const auto* f = rte_pktmbuf_mtod(mb, const uint8_t*);
  if (parse_packet(f, mb->data_len, mb->pkt_len, m) != DropReason::kArp || m.src_ip == 0) return;
  const uint64_t now = ctx.clock == ClockMode::kTsc ? tsc_to_ns(rte_rdtsc(), ctx.tsc_hz) : ctx.fake_now_ns;
  ctx.neighbors->learn(side, m.src_ip, arp_sender(f), now);
}

}  // namespace asenet::dataplane

#include "dataplane/pipeline/pipeline.hpp"
#include "dataplane/pipeline/fabric_frames.hpp"
#include "dataplane/core/time.hpp"

#include <rte_acl.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_fib.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstring>

#include "dataplane/core/checksum.hpp"
#include "dataplane/core/frames.hpp"
#include "dataplane/tables/acl.hpp"

namespace asenet::dataplane {

namespace {

constexpr uint32_t kPlatformIp = 0xa83f8110;  // 168.63.129.16: DNS, DHCP, health probes
constexpr uint32_t kImdsIp = 0xa9fea9fe;      // 169.254.169.254

/// (protocol, address, port) as one number; ICMP's identifier is translated
/// with the flow, so ICMP endpoints are addresses alone.
uint64_t endpoint_code(uint8_t proto, uint32_t addr, uint16_t port) noexcept {
  return (uint64_t{proto} << 48) | (uint64_t{proto == kIpProtoIcmp ? uint16_t{0} : port} << 32) | addr;
}

bool alive(const PacketMeta& m) noexcept { return m.verdict == Verdict::kForward; }
bool slow_path(const PacketMeta& m) noexcept { return alive(m) && m.slow; }

/// A packet that can own a connection-table entry: parsed IPv4 with its L4
/// header, and for ICMP only the query types (echo...). ICMP errors and later
/// fragments are judged on their own.
bool flowable(const PacketMeta& m) noexcept {
  if ((m.flags & kFlagLaterFragment) != 0) return false;
  if (m.proto == kIpProtoIcmp) return (m.flags & kFlagHasPorts) != 0;
  return true;
}

FlowKey key_of(const PacketMeta& m) noexcept {
  FlowKey k;
  k.src = m.src_ip;
  k.dst = m.dst_ip;
  if ((m.flags & kFlagHasPorts) != 0) {
    k.sport = m.sport;
    k.dport = m.dport;
  }
  k.proto = m.proto;
  return k;
}

/// Applies a route. A fabric-owned address (kLocal) stays alive for the LB
/// stage when `local_ok`; anywhere else nothing serves it.
void apply_hop(PacketMeta& m, const NextHop& h, bool local_ok = false) noexcept {
  m.hop = h;
  m.routed = true;
  switch (h.type) {
    case NextHopType::kNone: m.drop(DropReason::kRouteNone); break;
    case NextHopType::kLocal:
      if (!local_ok) m.drop(DropReason::kNoFrontend);
      break;
    default: m.out_port = h.port; break;
  }
}

/// The destination port a SNAT port is reused against: the port for TCP and
/// classic UDP, none (per destination IP) for ICMP and UDP in era current.
uint16_t snat_dport_key(const PacketMeta& m, const TableSpec& spec) noexcept {
  const bool per_ip = m.proto == kIpProtoIcmp || (m.proto == kIpProtoUdp && spec.udp_cone_nat);
  return per_ip ? 0 : m.dport;
}

/// [l2] arp: learns the sender of an ARP packet; a request for any address but
/// the sender's own (a duplicate-address probe) is answered with the fabric's
/// MAC, as Azure's fabric answers every ARP in a VNet. The request's mbuf
/// becomes the reply and goes back out of the port it came in on.
/// The sender's hardware address of a parsed ARP frame.
MacAddr arp_sender(const uint8_t* frame) noexcept {
  MacAddr sender{};
  std::memcpy(sender.bytes.data(), frame + kEthHeaderLen + 8, 6);
  return sender;
}

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

/// [l2] arp: asks "who has `ip`" on `port` (at most once a second per address).
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
  if (rte_eth_tx_burst(ctx.tx_port_id[static_cast<size_t>(port)], ctx.tx_queue, &mb, 1) == 1) {
    ctx.counters.tx[static_cast<size_t>(port)]++;
    ctx.counters.arp_requests++;
  } else {
    rte_pktmbuf_free(mb);
  }
}

/// The destination MAC of a packet leaving on `port` for `dst` by `hop`:
/// static peer MACs, or ([l2] arp) the neighbour table; nullptr when the
/// neighbour is not known yet (an ARP request has been sent).
const MacAddr* l2_destination(WorkerContext& ctx, const TableSpec& spec, Port port, uint32_t dst, const NextHop& hop,
                              uint64_t now) noexcept {
  if (!spec.l2.arp || ctx.neighbors == nullptr) return &spec.peer_macs[static_cast<size_t>(port)];
  uint32_t ip = spec.l2.next_hop[static_cast<size_t>(port)];
  if (hop.type == NextHopType::kVirtualAppliance && hop.ip != 0) ip = hop.ip;
  if (ip == 0) ip = dst;
  if (const MacAddr* mac = ctx.neighbors->lookup(port, ip, now, spec.l2.neighbor_timeout_ns)) return mac;
  send_arp_request(ctx, spec, port, ip, now);
  return nullptr;
}

/// Gives back the SNAT port a packet took when it will not own a flow.
void give_back_port(WorkerContext& ctx, const TableSpec& spec, PacketMeta& m) noexcept {
  if (m.snat_port == 0 || ctx.snat == nullptr) return;
  const AseSpec& ase = spec.ases[m.snat_ase];
  ctx.snat->release(ase.vip, m.snat_port, m.proto, m.dst_ip, snat_dport_key(m, spec), ase.instances[m.snat_instance]);
  m.snat_port = 0;
}

/// Takes a flow's cached route and verdict for one direction.
void take_action(PacketMeta& m, Flow* f, FlowState state, const FlowAction& a) noexcept {
  m.flow = f;
  m.flow_state = state;
  m.hop = a.next_hop;
  m.routed = a.routed;
  if (a.verdict == Verdict::kDrop) {
    m.drop(a.reason);
  } else {
    m.out_port = a.out_port;
  }
}

uint64_t mix64(uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

/// Writes the translated addresses and ports into the packet, patching the
/// IPv4, TCP, UDP and ICMP checksums incrementally (RFC 1624).
/// An ICMP error through NAT: the outer addresses, and the quoted packet's
/// addresses and ports (RFC 5508); checksums recomputed where they cover it.
void rewrite_icmp_error(uint8_t* frame, const PacketMeta& m) noexcept {
  uint8_t* ip = frame + m.l3_off;
  uint16_t ip_sum = load_be16(ip + 10);
  ip_sum = csum_update32(ip_sum, m.src_ip, m.new_src);
  ip_sum = csum_update32(ip_sum, m.dst_ip, m.new_dst);
  store_be32(ip + 12, m.new_src);
  store_be32(ip + 16, m.new_dst);
  store_be16(ip + 10, ip_sum);
  uint8_t* in = frame + m.inner_off;
  const uint32_t in_ihl = static_cast<uint32_t>(in[0] & 0x0f) * 4;
  const uint32_t old_src = load_be32(in + 12), old_dst = load_be32(in + 16);
  store_be32(in + 12, m.inner_src);
  store_be32(in + 16, m.inner_dst);
  store_be16(in + 10, 0);
  store_be16(in + 10, static_cast<uint16_t>(~ones_sum(in, in_ihl)));
  uint8_t* il4 = in + in_ihl;
  if (m.inner_proto == kIpProtoTcp || m.inner_proto == kIpProtoUdp) {
    const uint16_t old_sp = load_be16(il4), old_dp = load_be16(il4 + 2);
    store_be16(il4, m.inner_sport);
    store_be16(il4 + 2, m.inner_dport);
    if (m.inner_proto == kIpProtoUdp && load_be16(il4 + 6) != 0) {  // TCP's checksum is not in the 8 bytes quoted
      uint16_t s = load_be16(il4 + 6);
      s = csum_update32(s, old_src, m.inner_src);
      s = csum_update32(s, old_dst, m.inner_dst);
      s = csum_update16(s, old_sp, m.inner_sport);
      s = csum_update16(s, old_dp, m.inner_dport);
      store_be16(il4 + 6, s == 0 ? 0xffff : s);
    }
  } else if (m.inner_proto == kIpProtoIcmp) {
    const uint16_t old_id = load_be16(il4 + 4);
    store_be16(il4 + 2, csum_update16(load_be16(il4 + 2), old_id, m.inner_sport));
    store_be16(il4 + 4, m.inner_sport);
  }
  // The outer ICMP checksum covers everything quoted: recompute it.
  uint8_t* icmp = frame + m.l4_off;
  const uint32_t icmp_len = m.ip_total_len - (m.l4_off - m.l3_off);
  store_be16(icmp + 2, 0);
  store_be16(icmp + 2, static_cast<uint16_t>(~ones_sum(icmp, icmp_len)));
}

void rewrite_packet(uint8_t* frame, const PacketMeta& m) noexcept {
  uint8_t* ip = frame + m.l3_off;
  uint16_t ip_sum = load_be16(ip + 10);
  const bool l4 = (m.flags & kFlagLaterFragment) == 0;
  uint8_t* h = frame + m.l4_off;
  uint8_t* l4_sum_at = nullptr;
  bool pseudo = false;  // does the L4 checksum cover the addresses?
  if (l4 && m.proto == kIpProtoTcp) {
    l4_sum_at = h + 16;
    pseudo = true;
  } else if (l4 && m.proto == kIpProtoUdp && load_be16(h + 6) != 0) {  // 0: no UDP checksum
    l4_sum_at = h + 6;
    pseudo = true;
  } else if (l4 && m.proto == kIpProtoIcmp && (m.flags & kFlagHasPorts) != 0) {
    l4_sum_at = h + 2;
  }
  uint16_t l4_sum = l4_sum_at != nullptr ? load_be16(l4_sum_at) : 0;
  if (m.new_src != m.src_ip) {
    ip_sum = csum_update32(ip_sum, m.src_ip, m.new_src);
    if (pseudo) l4_sum = csum_update32(l4_sum, m.src_ip, m.new_src);
    store_be32(ip + 12, m.new_src);
  }
  if (m.new_dst != m.dst_ip) {
    ip_sum = csum_update32(ip_sum, m.dst_ip, m.new_dst);
    if (pseudo) l4_sum = csum_update32(l4_sum, m.dst_ip, m.new_dst);
    store_be32(ip + 16, m.new_dst);
  }
  store_be16(ip + 10, ip_sum);
  if (!l4) return;
  if (m.proto == kIpProtoTcp || m.proto == kIpProtoUdp) {
    if (m.new_sport != m.sport) {
      if (l4_sum_at != nullptr) l4_sum = csum_update16(l4_sum, m.sport, m.new_sport);
      store_be16(h, m.new_sport);
    }
    if (m.new_dport != m.dport) {
      if (l4_sum_at != nullptr) l4_sum = csum_update16(l4_sum, m.dport, m.new_dport);
      store_be16(h + 2, m.new_dport);
    }
  } else if (m.proto == kIpProtoIcmp && (m.flags & kFlagHasPorts) != 0 && m.new_sport != m.sport) {
    l4_sum = csum_update16(l4_sum, m.sport, m.new_sport);  // the query identifier
    store_be16(h + 4, m.new_sport);
  }
  if (l4_sum_at != nullptr) {
    if (m.proto == kIpProtoUdp && l4_sum == 0) l4_sum = 0xffff;  // RFC 768: 0 means none
    store_be16(l4_sum_at, l4_sum);
  }
}

}  // namespace

FiveTuple nsg_tuple(const PacketMeta& m) noexcept {
  FiveTuple t;
  t.src = m.src_ip;
  t.dst = m.dst_ip;
  t.proto = m.proto;
  if ((m.proto == kIpProtoTcp || m.proto == kIpProtoUdp) && (m.flags & kFlagHasPorts) != 0) {
    t.sport = m.sport;
    t.dport = m.dport;
  }
  return t;
}

void learn_from_arp(const rte_mbuf* mb, Port side, const TableSpec& spec, WorkerContext& ctx) noexcept {
  if (!spec.l2.arp || ctx.neighbors == nullptr) return;
  PacketMeta m;
  const auto* f = rte_pktmbuf_mtod(mb, const uint8_t*);
  if (parse_packet(f, mb->data_len, mb->pkt_len, m) != DropReason::kArp || m.src_ip == 0) return;
  const uint64_t now = ctx.clock == ClockMode::kTsc ? tsc_to_ns(rte_rdtsc(), ctx.tsc_hz) : ctx.fake_now_ns;
  ctx.neighbors->learn(side, m.src_ip, arp_sender(f), now);
}

void attach_worker_tables(WorkerContext& ctx, WorkerTables& tables, rte_mempool* pool) noexcept {
  ctx.flows = tables.flows.get();
  ctx.snat = tables.snat.get();
  ctx.neighbors = tables.neighbors.get();
  ctx.neighbor_copy = tables.neighbor_copy.get();
  ctx.pool = pool;
  tables.flows->set_idle_hook(send_idle_resets, &ctx);
}

void set_flow_log(WorkerContext& ctx, WorkerTables& tables, FlowLogSink* sink) noexcept {
  ctx.flow_log = sink;
  tables.end->log = sink;
  tables.end->worker = static_cast<uint16_t>(ctx.worker_id);
}

void stamp_burst(Burst& b, WorkerContext& ctx, const Port* in_ports) noexcept {
  uint64_t now = 0;
  if (ctx.clock == ClockMode::kTsc) {
    now = tsc_to_ns(rte_rdtsc(), ctx.tsc_hz);
  } else if (ctx.clock == ClockMode::kFake) {
    now = ctx.fake_now_ns;
  }
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    m = PacketMeta{};
    m.in_port = in_ports[i];
    m.now_ns =
        ctx.clock == ClockMode::kPacketTimestamp ? *RTE_MBUF_DYNFIELD(b.pkts[i], ctx.ts_dynfield, uint64_t*) : now;
    m.seq = ctx.seq_dynfield >= 0 ? *RTE_MBUF_DYNFIELD(b.pkts[i], ctx.seq_dynfield, uint64_t*) : ctx.next_seq++;
    ctx.counters.rx[static_cast<size_t>(m.in_port)]++;
  }
}

void parse_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  const bool ttl = ts.spec().decrement_ttl;
  const bool l2 = ts.spec().l2.arp && ctx.neighbors != nullptr;
  const uint32_t mtu = ts.spec().mtu;
  for (uint16_t i = 0; i < b.count; ++i) {
    rte_mbuf* m = b.pkts[i];
    if (i + 1 < b.count) rte_prefetch0(rte_pktmbuf_mtod(b.pkts[i + 1], void*));
    const DropReason r = parse_packet(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, m->pkt_len, b.meta[i]);
    if (r == DropReason::kArp && l2) {
      answer_arp(m, b.meta[i], ts.spec(), ctx);
    } else if (r != DropReason::kNone) {
      b.meta[i].drop(r);
    } else if (ctx.probe_replies != nullptr && b.meta[i].dst_ip == kAzureProbeSource &&
               b.meta[i].proto == kIpProtoTcp && b.meta[i].in_port == Port::kVnet &&
               static_cast<uint16_t>(b.meta[i].dport - kProbePortBase) < kProbePortCount) {
      const PacketMeta& pm = b.meta[i];
      ProbeReply pr{pm.src_ip, pm.sport, pm.dport, pm.tcp_flags, pm.tcp_seq, pm.tcp_ack, pm.tcp_payload, {}};
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

bool flow_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  // Timers first, up to the burst's first packet (a replay burst can span
  // minutes of capture time; a packet never sees the future). Lookups are
  // exact anyway: an expired flow never matches.
  if (b.count > 0 && b.meta[0].todo) run_timers(ctx, ts, b.meta[0].now_ns, b.meta[0].seq);
  std::array<FlowKey, kBurstSize> keys;
  std::array<uint16_t, kBurstSize> idx;
  std::array<Flow*, kBurstSize> found;
  std::array<bool, kBurstSize> reply;
  unsigned n = 0;
  bool deferred_error = false;
  b.slow = 0;
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    if (!m.todo) continue;
    m.todo = false;
    if (!alive(m)) continue;
    if (ctx.flows != nullptr && (m.flags & kFlagIcmpError) != 0) {
      // An ICMP error about a packet of a known flow follows that flow, the
      // way a reply to it would travel (RFC 5508 NAT behaviour for ICMP).
      FlowKey k;
      k.src = m.inner_dst;
      k.dst = m.inner_src;
      k.sport = m.inner_dport;
      k.dport = m.inner_sport;
      k.proto = m.inner_proto;
      Flow* f = nullptr;
      bool r = false;
      if (ctx.flows->lookup_bulk(&k, 1, &f, &r) == 1 && f->expires_ns > m.now_ns) {
        const FlowAction& a = f->action[r ? 1 : 0];
        take_action(m, f, FlowState::kRelated, a);
        if (a.rewrite) {
          m.rewrite = true;
          m.error_rewrite = true;
          m.new_dst = a.dst;
          m.new_src = m.src_ip == k.src ? a.src : m.src_ip;  // the end itself, or a router on the way
          m.new_sport = m.sport;
          m.new_dport = m.dport;
          // The quoted packet becomes what the other side sent: a's tuple reversed.
          m.inner_src = a.dst;
          m.inner_sport = a.dport;
          m.inner_dst = a.src;
          m.inner_dport = a.sport;
        }
        continue;
      }
      if (n > 0) {  // the flow it is about may be one of this burst's new ones
        m.todo = true;
        deferred_error = true;
        continue;
      }
    }
    if (ctx.flows == nullptr || !flowable(m)) {
      m.slow = true;  // judged on its own, every time
      ++b.slow;
      continue;
    }
    keys[n] = key_of(m);
    idx[n++] = i;
  }
  if (n == 0) return deferred_error;
  ctx.flows->lookup_bulk(keys.data(), n, found.data(), reply.data());
  const FlowTimers timers = ts.timers();
  bool deferred = deferred_error;
  // The misses of this burst that went down the slow path so far: their
  // endpoints, and which ASE's instance calls a frontend (-1: none).
  std::array<uint64_t, kBurstSize> miss_src, miss_dst;
  std::array<uint8_t, kBurstSize> miss_key;
  std::array<int, kBurstSize> miss_hairpin;
  unsigned nmiss = 0;
  for (unsigned k = 0; k < n; ++k) {
    Flow* f = found[k];
    PacketMeta& m = b.meta[idx[k]];
    if (f == nullptr) {
      // A miss that may be the reply of an earlier miss of this burst (a
      // SYN-ACK right behind its SYN) must wait until that one has installed
      // its flow. After NAT a reply is not the first packet reversed:
      //   DNAT (to a VIP): the reply goes back to the first packet's source;
      //   SNAT (to the Internet): it comes from the first packet's destination;
      //   VIP hairpin: it goes to the caller's VIP.
      // (ICMP: the identifier itself is translated, so addresses alone.)
      const FlowKey rev = keys[k].reversed();
      const FlowKey& me = keys[k];
      // Is this packet addressed to a VIP (a possible hairpin reply)? Once
      // per packet, not once per earlier miss.
      bool me_on_ilb = true;
      const int me_vip = ts.spec().ases.empty() ? -1 : ts.spec().frontend_of(me.dst, me_on_ilb);
      const int hairpin_to = me_vip >= 0 && !me_on_ilb ? me_vip : -2;
      const uint64_t me_s = endpoint_code(me.proto, me.src, me.sport), me_d = endpoint_code(me.proto, me.dst, me.dport);
      // Earlier misses of this burst that share an endpoint with this one are
      // the only candidates; the full test below decides.
      for (unsigned e = 0; e < nmiss && !m.todo; ++e) {
        if (miss_src[e] != me_d && miss_dst[e] != me_s && miss_src[e] != me_s && miss_hairpin[e] != hairpin_to)
          continue;
        const FlowKey& first = keys[miss_key[e]];
        if (std::memcmp(&first, &me, sizeof(FlowKey)) == 0 || std::memcmp(&first, &rev, sizeof(FlowKey)) == 0 ||
            (me.proto == first.proto && me.dst == first.src && (me.dport == first.sport || me.proto == kIpProtoIcmp)) ||
            (me.proto == first.proto && me.src == first.dst && (me.sport == first.dport || me.proto == kIpProtoIcmp)) ||
            miss_hairpin[e] == hairpin_to)
          m.todo = true;
      }
      if (!m.todo) {  // it goes down the slow path now: a candidate for the misses after it
        miss_src[nmiss] = me_s;
        miss_dst[nmiss] = me_d;
        miss_key[nmiss] = static_cast<uint8_t>(k);
        uint32_t inst = 0;
        miss_hairpin[nmiss] = me_vip >= 0 ? ts.spec().instance_of(me.src, inst) : -1;  // an instance calling a frontend
        ++nmiss;
      }
      if (m.todo) {
        deferred = true;
      } else {
        m.slow = true;
        ++b.slow;
      }
      continue;
    }
    if (!f->in_use) {
      // An earlier packet of this burst removed this flow (it had expired, or
      // a SYN reopened its tuple): look again once that packet is done, the
      // way a reply waits for its flow (found by fuzz_packet: using the dead
      // entry re-filed a free slot in the timer wheel).
      m.todo = true;
      deferred = true;
      continue;
    }
    // Expired but not swept yet, or a new SYN reusing a finished connection's
    // tuple: forget the old flow, the packet starts a new one.
    const bool syn = m.proto == kIpProtoTcp && (m.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn;
    if (f->expires_ns <= m.now_ns ||
        (syn && !reply[k] && (f->tcp == TcpState::kClosing || f->tcp == TcpState::kClosed))) {
      ctx.flows->remove(f, std::min(f->expires_ns, m.now_ns));
      m.slow = true;
      ++b.slow;
      continue;
    }
    if (ts.spec().some_frontend_down && ts.spec().basic_lb && m.proto == kIpProtoTcp && f->lb) {
      // Basic LB: with every instance of its frontend down, a TCP flow ends.
      bool on_ilb = false;
      const int a = ts.spec().frontend_of(initiator_key(*f).dst, on_ilb);
      if (a >= 0 && ts.spec().ases[static_cast<size_t>(a)].maglev.empty()) {
        ctx.flows->remove(f, m.now_ns);
        m.drop(DropReason::kNoBackend);
        continue;
      }
    }
    const unsigned dir = reply[k] ? 1 : 0;
    const FlowAction& a = f->action[dir];
    take_action(m, f, reply[k] ? FlowState::kReply : FlowState::kEstablished, a);
    m.rewrite = a.rewrite;
    m.new_src = a.src;
    m.new_dst = a.dst;
    m.new_sport = a.sport;
    m.new_dport = a.dport;
    if (m.proto == kIpProtoTcp) {
      f->tcp = tcp_next(f->tcp, m.tcp_flags, reply[k], f->fin_seen);
      f->next_seq[dir] =
          m.tcp_seq + m.tcp_payload + ((m.tcp_flags & kTcpSyn) ? 1u : 0u) + ((m.tcp_flags & kTcpFin) ? 1u : 0u);
    }
    f->expires_ns = flow_expiry(f->tcp, m.now_ns, timers);
    ctx.flows->schedule(f);
    f->packets[dir]++;
    f->bytes[dir] += m.ip_total_len;
    ctx.counters.flows_hit++;
    if (f->logged && m.now_ns / kNsPerSecond - f->log_last_s >= kFlowLogContinueNs / kNsPerSecond &&
        ctx.flow_log != nullptr) {
      // Azure: a "C" tuple every 5 minutes with the counts since the last one.
      ctx.flow_log->push(flow_log_progress(*f, FlowLogKind::kContinue, m.now_ns, static_cast<uint16_t>(ctx.worker_id),
                                           ctx.flows->slot_of(f)));
      f->packets = {};
      f->bytes = {};
      f->log_last_s = static_cast<uint32_t>(m.now_ns / kNsPerSecond);
    }
  }
  return deferred;
}

namespace {

/// Route lookups for the packets of a burst flagged in `want`: address
/// ips[i] in route set sets[i], answered in hops[i]. One bulk rte_fib lookup
/// per route set present (usually one or two), so that the misses in the
/// 16M-entry first-level table overlap.
void lookup_routes(const TableSet& ts, uint16_t count, const std::array<bool, kBurstSize>& want,
                   const std::array<uint16_t, kBurstSize>& sets, const std::array<uint32_t, kBurstSize>& ips,
                   std::array<uint64_t, kBurstSize>& hops) noexcept {
  std::array<bool, kBurstSize> done{};
  std::array<uint32_t, kBurstSize> batch;
  std::array<uint64_t, kBurstSize> found;
  std::array<uint16_t, kBurstSize> idx;
  for (uint16_t first = 0; first < count; ++first) {
    if (!want[first] || done[first]) continue;
    const uint16_t set = sets[first];
    uint16_t n = 0;
    for (uint16_t i = first; i < count; ++i) {
      if (!want[i] || done[i] || sets[i] != set) continue;
      batch[n] = ips[i];
      idx[n++] = i;
      done[i] = true;
    }
    rte_fib_lookup_bulk(ts.fib(set), batch.data(), found.data(), n);
    for (uint16_t k = 0; k < n; ++k) hops[idx[k]] = found[k];
  }
}

}  // namespace

void route_stage(Burst& b, const TableSet& ts, WorkerContext& /*ctx*/) noexcept {
  const TableSpec& spec = ts.spec();
  std::array<bool, kBurstSize> want{};
  std::array<uint16_t, kBurstSize> sets;
  std::array<uint32_t, kBurstSize> ips;
  std::array<uint64_t, kBurstSize> hops;
  for (uint16_t i = 0; i < b.count; ++i) {
    if (!slow_path(b.meta[i])) continue;
    want[i] = true;
    // UDRs act on traffic leaving a subnet: the source subnet's route set.
    sets[i] = spec.route_set_for(b.meta[i].in_port, b.meta[i].src_ip);
    ips[i] = b.meta[i].dst_ip;
  }
  lookup_routes(ts, b.count, want, sets, ips, hops);
  const NextHop* nh = ts.next_hops();
  for (uint16_t i = 0; i < b.count; ++i) {
    if (!want[i]) continue;
    PacketMeta& m = b.meta[i];
    if (hops[i] == TableSet::kNoRoute) {
      m.drop(DropReason::kNoRoute);
      continue;
    }
    m.next_hop = static_cast<uint32_t>(hops[i]);
    const NextHop& h = nh[m.next_hop];
    // From the Internet only the fabric's public addresses (VIPs) can be
    // reached: a VNet's private addresses are not routable from outside.
    if (m.in_port == Port::kInternet && h.type != NextHopType::kLocal) {
      m.drop(DropReason::kNoRoute);
      continue;
    }
    apply_hop(m, h, true);
    if (alive(m) && m.in_port == Port::kVnet && h.type == NextHopType::kVnetLocal &&
        spec.ase_to_squatter(m.src_ip, m.dst_ip))
      m.drop(DropReason::kIntraSubnetBlocked);
  }
}

void lb_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  const TableSpec& spec = ts.spec();
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    if (!slow_path(m)) continue;
    uint32_t inst = 0;
    const int from_ase = m.in_port == Port::kVnet ? spec.instance_of(m.src_ip, inst) : -1;
    const bool fragment = (m.flags & kFlagFragment) != 0;
    if (m.hop.type == NextHopType::kLocal) {
      bool on_ilb = false;
      const int a = spec.frontend_of(m.dst_ip, on_ilb);
      if (a < 0) {
        m.drop(DropReason::kNoFrontend);
        continue;
      }
      const AseSpec& ase = spec.ases[static_cast<size_t>(a)];
      // LB rules carry TCP only here (the ASE's ports); no ICMP answer from a
      // Basic-era VIP (azure-semantics 7.5); fragments are not load-balanced.
      if (fragment) {
        m.drop(DropReason::kFragment);
        continue;
      }
      if (m.proto != kIpProtoTcp || !ase.serves(on_ilb, m.dport)) {
        m.drop(DropReason::kNoFrontend);
        continue;
      }
      if (on_ilb && from_ase == a) {  // a backend to its own internal frontend fails (7.5)
        m.drop(DropReason::kIlbHairpin);
        continue;
      }
      if (ase.maglev.empty()) {
        m.drop(DropReason::kNoBackend);
        continue;
      }
      uint64_t h = mix64((uint64_t{m.src_ip} << 32) | m.dst_ip);
      if (ase.distribution != 1) h = mix64(h ^ m.proto);                                // SourceIPProtocol
      if (ase.distribution == 0) h = mix64(h ^ ((uint64_t{m.sport} << 16) | m.dport));  // Default: 5-tuple
      m.rewrite = true;
      m.new_src = m.src_ip;
      m.new_sport = m.sport;
      m.new_dst = ase.instances[ase.maglev[h % ase.maglev.size()]];
      m.new_dport = m.dport;
      m.hop = NextHop{NextHopType::kVnetLocal, Port::kVnet, 0, kRouteOriginSystem};
      m.out_port = Port::kVnet;
      if (from_ase >= 0 && !on_ilb) {
        // An instance calling a VIP (another ASE's or its own) is an Internet
        // call: it arrives from the caller's VIP (azure-semantics 3 rules 3-4).
        m.hairpin = true;
        m.snat_pending = true;
        m.snat_ase = static_cast<uint16_t>(from_ase);
        m.snat_instance = static_cast<uint16_t>(inst);
        m.new_src = spec.ases[static_cast<size_t>(from_ase)].vip;
      }
      continue;
    }
    if (from_ase >= 0 && m.hop.type == NextHopType::kInternet) {
      // Outside the VNet an instance's flows leave from the VIP (rule 1).
      if (fragment) {
        m.drop(DropReason::kFragment);  // Azure's SNAT path drops fragments (7.6)
        continue;
      }
      if ((m.flags & kFlagHasPorts) == 0) {
        m.drop(DropReason::kUnsupported);  // no port to translate: ICMP errors, other protocols
        continue;
      }
      m.rewrite = true;
      m.snat_pending = true;
      m.snat_ase = static_cast<uint16_t>(from_ase);
      m.snat_instance = static_cast<uint16_t>(inst);
      m.new_src = spec.ases[static_cast<size_t>(from_ase)].vip;
      m.new_dst = m.dst_ip;
      m.new_sport = m.sport;
      m.new_dport = m.dport;
    }
  }
  (void)ctx;
}

void snat_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  const TableSpec& spec = ts.spec();
  if (ctx.snat != nullptr) {
    std::array<SnatTable::Request, kBurstSize> req;
    unsigned n = 0;
    for (uint16_t i = 0; i < b.count; ++i) {
      const PacketMeta& m = b.meta[i];
      if (!slow_path(m) || !m.snat_pending) continue;
      const AseSpec& ase = spec.ases[m.snat_ase];
      req[n++] = SnatTable::Request{&ase.snat_ports[m.snat_instance],
                                    ase.instances[m.snat_instance],
                                    ase.vip,
                                    m.dst_ip,
                                    snat_dport_key(m, spec),
                                    m.proto};
    }
    if (n > 1) ctx.snat->warm(req.data(), n);
  }
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    if (!slow_path(m) || !m.snat_pending) continue;
    m.snat_pending = false;
    if (ctx.snat == nullptr) continue;  // no SNAT bookkeeping: keep the port
    const AseSpec& ase = spec.ases[m.snat_ase];
    const uint32_t instance = ase.instances[m.snat_instance];
    // Port reuse is per destination (the pre-DNAT one for a VIP hairpin):
    // IP and port for TCP and classic UDP, IP alone for UDP in era current.
    const uint16_t dport_key = snat_dport_key(m, spec);
    uint16_t p = ctx.snat->allocate(ase.snat_ports[m.snat_instance], instance, ase.vip, m.proto, m.dst_ip, dport_key);
    if (p == 0 && ctx.flows != nullptr) {
      // Flows whose timers ran out before this packet give their ports back first.
      ctx.flows->advance(m.now_ns);
      p = ctx.snat->allocate(ase.snat_ports[m.snat_instance], instance, ase.vip, m.proto, m.dst_ip, dport_key);
    }
    if (p == 0) {
      m.drop(DropReason::kSnatExhausted);
      const size_t k = TableSpec::sorted_index(spec.ase_instances, instance);
      if (k < ctx.counters.snat_exhausted.size()) ctx.counters.snat_exhausted[k]++;
      continue;
    }
    m.snat_port = p;
    m.new_sport = p;
    if (m.proto == kIpProtoIcmp) m.new_dport = p;  // the echo identifier is both "ports"
  }
}

void nsg_stage(Burst& b, const TableSet& ts, WorkerContext& ctx, bool hairpin_pass) noexcept {
  if (ts.nsg_acl_part_count() == 0) return;
  const TableSpec& spec = ts.spec();
  // Up to two keys per packet: with NAT, outbound levels judge the addresses
  // as sent and inbound levels the addresses as delivered (azure-semantics 6.6).
  constexpr size_t kMaxKeys = kBurstSize * 2;
  std::array<AclKey, kMaxKeys> keys;
  std::array<const uint8_t*, kMaxKeys> data;
  std::array<uint16_t, kMaxKeys> key_pkt;
  std::array<uint32_t, kMaxKeys * kAclCategories> results;
  std::array<std::array<uint32_t, 4>, kBurstSize> verdict;  // per packet, per level: ACL result
  std::array<std::array<uint8_t, 4>, kBurstSize> levels{};  // per packet, per level: NSG id (0 none)
  uint16_t n = 0;
  auto add_key = [&](uint16_t i, const FiveTuple& t, const std::array<uint16_t, 4>& lv) {
    const bool dst_vnet = (lv[kCatOutSubnet] | lv[kCatOutNic]) != 0 && spec.in_virtual_network(t.dst);
    const bool src_vnet = (lv[kCatInSubnet] | lv[kCatInNic]) != 0 && spec.in_virtual_network(t.src);
    make_acl_key(keys[n], t,
                 {acl_level(lv[kCatOutSubnet], dst_vnet), acl_level(lv[kCatOutNic], dst_vnet),
                  acl_level(lv[kCatInSubnet], src_vnet), acl_level(lv[kCatInNic], src_vnet)});
    data[n] = reinterpret_cast<const uint8_t*>(&keys[n]);
    key_pkt[n++] = i;
  };
  std::array<bool, kBurstSize> judged{};
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    if (!slow_path(m) || (hairpin_pass && !m.hairpin)) continue;
    std::array<uint16_t, 4> out{}, in{};
    // Outbound NSGs filter what a VNet endpoint sends; the platform's own
    // DNS/DHCP/IMDS addresses are not subject to them (azure-semantics 6.6).
    if (!hairpin_pass && m.in_port == Port::kVnet && m.dst_ip != kPlatformIp && m.dst_ip != kImdsIp) {
      if (const SubnetSpec* s = spec.subnet_of(m.src_ip)) out[kCatOutSubnet] = s->nsg_id;
      out[kCatOutNic] = spec.nic_nsg(m.src_ip);
    }
    // Inbound NSGs filter what is delivered to a VNet endpoint: the
    // destination, or the virtual appliance a route hands the packet to. A
    // VIP hairpin is judged here only once its SNAT port is known.
    const uint32_t delivered = m.rewrite ? m.new_dst : m.dst_ip;
    if ((hairpin_pass || !m.hairpin) && m.out_port == Port::kVnet &&
        (m.hop.type == NextHopType::kVnetLocal || m.hop.type == NextHopType::kVirtualAppliance)) {
      const uint32_t to = m.hop.type == NextHopType::kVirtualAppliance ? m.hop.ip : delivered;
      if (const SubnetSpec* s = spec.subnet_of(to)) in[kCatInSubnet] = s->nsg_id;
      in[kCatInNic] = spec.nic_nsg(to);
    }
    const bool any_out = (out[0] | out[1]) != 0, any_in = (in[2] | in[3]) != 0;
    if (!any_out && !any_in) continue;
    judged[i] = true;
    levels[i] = {static_cast<uint8_t>(out[0]), static_cast<uint8_t>(out[1]), static_cast<uint8_t>(in[2]),
                 static_cast<uint8_t>(in[3])};
    const FiveTuple sent = nsg_tuple(m);
    if (!m.rewrite) {
      add_key(i, sent, {out[0], out[1], in[2], in[3]});
      continue;
    }
    if (any_out) add_key(i, sent, {out[0], out[1], 0, 0});
    if (any_in) {
      FiveTuple got = sent;
      got.src = m.new_src;
      got.dst = m.new_dst;
      if (got.proto == kIpProtoTcp || got.proto == kIpProtoUdp) {
        got.sport = m.new_sport;
        got.dport = m.new_dport;
      }
      add_key(i, got, {0, 0, in[2], in[3]});
    }
  }
  if (n == 0) return;
  if (ts.nsg_acl_part_count() == 1) {
    rte_acl_classify(ts.nsg_acl(), data.data(), results.data(), n, kAclCategories);
  } else {
    // A split classifier: each context answers its own levels.
    std::array<uint32_t, kMaxKeys * kAclCategories> part;
    for (uint32_t p = 0; p < ts.nsg_acl_part_count(); ++p) {
      const auto ap = ts.nsg_acl_part(p);
      rte_acl_classify(ap.ctx, data.data(), part.data(), n, kAclCategories);
      for (uint16_t k = 0; k < n; ++k)
        for (uint32_t c = 0; c < kAclCategories; ++c)
          if (ap.categories & (1u << c)) results[k * kAclCategories + c] = part[k * kAclCategories + c];
    }
  }
  for (uint16_t k = 0; k < n; ++k)
    for (uint32_t c = 0; c < kAclCategories; ++c)
      if (keys[k].nsg[c] != 0) verdict[key_pkt[k]][c] = results[k * kAclCategories + c];
  uint64_t* hits = ts.rule_hits(ctx.worker_id);
  static constexpr std::array<uint32_t, 4> kOrder = {kCatOutNic, kCatOutSubnet, kCatInSubnet, kCatInNic};
  for (uint16_t i = 0; i < b.count; ++i) {
    if (!judged[i]) continue;
    PacketMeta& m = b.meta[i];
    for (uint32_t cat : kOrder) {
      if (levels[i][cat] == 0) continue;  // no NSG at this level: it allows everything
      const uint32_t r = verdict[i][cat];
      if (r == 0) {  // cannot happen: DenyAll* match everything; fail closed
        m.drop(DropReason::kNsgDeny);
        break;
      }
      const uint32_t rule = r - 1;
      m.nsg.rule[m.nsg.count++] = rule;
      hits[rule]++;
      if (!spec.nsg_rules[rule].allow) {
        m.drop(DropReason::kNsgDeny);
        break;  // a deny ends the evaluation (azure-semantics 6.5)
      }
    }
  }
}

namespace {

/// The flow key of a packet as it leaves (after NAT).
FlowKey out_key_of(const PacketMeta& m) noexcept {
  FlowKey out = key_of(m);
  if (m.rewrite) {
    out.src = m.new_src;
    out.dst = m.new_dst;
    out.sport = m.new_sport;
    out.dport = m.new_dport;
  }
  return out;
}

}  // namespace

void install_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  const TableSpec& spec = ts.spec();
  const FlowTimers timers = ts.timers();
  // Every flow about to be installed, first in bulk: both its keys (looked
  // up, so that their cache misses overlap instead of queueing one by one)
  // and the route of its replies, back to its source from the responder's
  // subnet.
  std::array<bool, kBurstSize> want{};
  std::array<uint16_t, kBurstSize> back_set;
  std::array<uint32_t, kBurstSize> back_ip;
  std::array<uint64_t, kBurstSize> back_hop;
  std::array<FlowKey, 2 * kBurstSize> keys;  // [2k] as it arrives, [2k + 1] as its replies will
  std::array<uint8_t, kBurstSize> key_at;
  if (ctx.flows != nullptr) {
    unsigned n = 0;
    for (uint16_t i = 0; i < b.count; ++i) {
      const PacketMeta& m = b.meta[i];
      if (!m.slow || !flowable(m) || !alive(m)) continue;
      const FlowKey out = out_key_of(m);
      key_at[i] = static_cast<uint8_t>(n);
      keys[n++] = key_of(m);
      keys[n++] = out.reversed();
      want[i] = true;
      back_set[i] = spec.route_set_for(Port::kVnet, out.dst);
      back_ip[i] = m.src_ip;
    }
    if (n > 0) {
      ctx.flows->warm(keys.data(), n);
      lookup_routes(ts, b.count, want, back_set, back_ip, back_hop);
    }
  }
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    if (!m.slow) continue;
    m.slow = false;
    if (ctx.flows == nullptr || !flowable(m) || !alive(m)) {
      // A packet that took a SNAT port and then died (an NSG deny) gives it back.
      if (!alive(m)) give_back_port(ctx, spec, m);
      continue;
    }
    // The flow as it arrives, and its replies as they will arrive: after NAT
    // the reply is not simply the first packet reversed.
    const FlowKey& key = keys[key_at[i]];
    const FlowKey& rev = keys[key_at[i] + 1];
    Flow* f = ctx.flows->insert(key, rev, m.now_ns);
    if (f == nullptr && ctx.flows->size() == ctx.flows->capacity()) {
      ctx.flows->advance(m.now_ns);  // a full table: reclaim what expired before this packet
      f = ctx.flows->insert(key, rev, m.now_ns);
    }
    if (f == nullptr) {
      m.drop(DropReason::kFlowTableFull);
      give_back_port(ctx, spec, m);
      continue;
    }
    m.flow = f;
    m.flow_state = FlowState::kNew;
    // insert() wrote each action's tuple (the NAT translation, or the packet's
    // own addresses); the rest of each action is set here.
    FlowAction& fwd = f->action[0];
    fwd.out_port = m.out_port;
    fwd.next_hop = m.hop;
    fwd.routed = m.routed;
    fwd.rewrite = m.rewrite;
    if (m.rewrite && m.new_dst != m.dst_ip) {  // came in on a frontend
      f->lb = true;
      bool on_ilb = false;
      const int a = spec.frontend_of(m.dst_ip, on_ilb);
      f->tcp_reset = a >= 0 && m.proto == kIpProtoTcp && spec.ases[static_cast<size_t>(a)].tcp_reset;
    }
    if (m.snat_port != 0) {  // snat_of() finds the port from the keys: the instance is the source, the VIP the reply's
      f->snat = true;
      f->snat_per_ip = snat_dport_key(m, spec) == 0;
    }
    // The reply direction is routed now, once: replies go back to the source,
    // leaving the responder's subnet by that subnet's routes (forced tunnelling
    // sends them on-premises: the asymmetric failure of azure-semantics 8.5).
    FlowAction& back = f->action[1];
    const uint64_t hop = back_hop[i];
    if (hop == TableSet::kNoRoute) {
      back.verdict = Verdict::kDrop;
      back.reason = DropReason::kNoRoute;
    } else {  // apply_hop() without a fabric-owned address: nothing serves kLocal
      const NextHop& h = ts.next_hops()[hop];
      back.next_hop = h;
      back.routed = true;
      if (h.type == NextHopType::kNone || h.type == NextHopType::kLocal) {
        back.verdict = Verdict::kDrop;
        back.reason = h.type == NextHopType::kNone ? DropReason::kRouteNone : DropReason::kNoFrontend;
      } else {
        back.out_port = h.port;
      }
    }
    back.rewrite = m.rewrite;  // replies get the original addresses back: key reversed, as insert() wrote
    if (m.proto == kIpProtoTcp) {
      f->tcp = tcp_next(f->tcp, m.tcp_flags, false, f->fin_seen);
      f->next_seq[0] =
          m.tcp_seq + m.tcp_payload + ((m.tcp_flags & kTcpSyn) ? 1u : 0u) + ((m.tcp_flags & kTcpFin) ? 1u : 0u);
    }
    f->expires_ns = flow_expiry(f->tcp, m.now_ns, timers);
    ctx.flows->schedule(f);
    f->packets[0] = 1;
    f->bytes[0] = m.ip_total_len;
    ctx.counters.flows_created++;
  }
}

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
  if (rte_eth_tx_burst(ctx.tx_port_id[static_cast<size_t>(out)], ctx.tx_queue, &m, 1) == 1) {
    ctx.counters.tx[static_cast<size_t>(out)]++;
    ctx.counters.resets_sent++;
  } else {
    ctx.counters.resets_unsent++;
    rte_pktmbuf_free(m);
  }
}

}  // namespace

void run_timers(WorkerContext& ctx, const TableSet& ts, uint64_t now, uint64_t seq) noexcept {
  if (ctx.flows == nullptr) return;
  ctx.timer_tables = &ts;
  ctx.timer_seq = seq;
  ctx.timer_ns = now;
  ctx.flows->advance(now);
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

void forward_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  const TableSpec& spec = ts.spec();
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    if (m.verdict != Verdict::kForward || (m.flags & kFlagArpReply) != 0) continue;
    const MacAddr* dst_mac = l2_destination(ctx, spec, m.out_port, m.rewrite ? m.new_dst : m.dst_ip, m.hop, m.now_ns);
    if (dst_mac == nullptr) {
      m.drop(DropReason::kNeighborUnresolved);
      continue;
    }
    uint8_t* frame = rte_pktmbuf_mtod(b.pkts[i], uint8_t*);
    if (m.error_rewrite) {
      rewrite_icmp_error(frame, m);
    } else if (m.rewrite) {
      rewrite_packet(frame, m);
    }
    if (spec.decrement_ttl) ipv4_decrement_ttl(frame + m.l3_off);  // TTL > 1: checked at parse
    std::memcpy(frame, dst_mac->bytes.data(), 6);
    std::memcpy(frame + 6, spec.fabric_mac.bytes.data(), 6);
  }
}

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
  if (TraceSink* sink = ctx.trace.load(std::memory_order_acquire); sink != nullptr) {
    uint64_t head = sink->live ? sink->head.load(std::memory_order_relaxed) : 0;
    for (uint16_t i = 0; i < b.count; ++i) {
      const PacketMeta& m = b.meta[i];
      uint64_t slot = m.seq;
      if (sink->live) {
        if (!sink->filter.matches(m) || sink->budget->load(std::memory_order_relaxed) <= 0 ||
            sink->budget->fetch_sub(1, std::memory_order_relaxed) <= 0)
          continue;
        slot = head++;
      }
      TraceRecord& r = sink->slots[slot & sink->mask];
      r.seq = m.seq;
      r.now_ns = m.now_ns;
      r.worker = ctx.worker_id;
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
    if (sink->live) sink->head.store(head, std::memory_order_release);
  }
  if (ndrop > 0) rte_pktmbuf_free_bulk(drops.data(), ndrop);
  if (b.count > 0) {
    ctx.done_seq.store(last_seq, std::memory_order_release);
    ctx.done_any.store(true, std::memory_order_release);
  }
  b.count = 0;
}

}  // namespace asenet::dataplane

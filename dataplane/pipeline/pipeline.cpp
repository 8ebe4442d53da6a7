#include "dataplane/pipeline/pipeline.hpp"

#include <rte_acl.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_fib.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <cstring>

#include "dataplane/pipeline/checksum.hpp"
#include "dataplane/tables/acl.hpp"

namespace asenet::dataplane {

namespace {

constexpr uint32_t kPlatformIp = 0xa83f8110;  // 168.63.129.16: DNS, DHCP, health probes
constexpr uint32_t kImdsIp = 0xa9fea9fe;      // 169.254.169.254

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

void apply_hop(PacketMeta& m, const NextHop& h) noexcept {
  m.hop = h;
  m.routed = true;
  switch (h.type) {
    case NextHopType::kNone: m.drop(DropReason::kRouteNone); break;
    case NextHopType::kLocal: m.drop(DropReason::kNoFrontend); break;
    default: m.out_port = h.port; break;
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
    if (m.now_ns > ctx.now_ns) ctx.now_ns = m.now_ns;
    m.seq = ctx.seq_dynfield >= 0 ? *RTE_MBUF_DYNFIELD(b.pkts[i], ctx.seq_dynfield, uint64_t*)
                                  : ctx.next_seq++;
    ctx.counters.rx[static_cast<size_t>(m.in_port)]++;
  }
}

void parse_stage(Burst& b, const TableSet& ts, WorkerContext& /*ctx*/) noexcept {
  const bool ttl = ts.spec().decrement_ttl;
  for (uint16_t i = 0; i < b.count; ++i) {
    rte_mbuf* m = b.pkts[i];
    if (i + 1 < b.count) rte_prefetch0(rte_pktmbuf_mtod(b.pkts[i + 1], void*));
    const DropReason r =
        parse_packet(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, m->pkt_len, b.meta[i]);
    if (r != DropReason::kNone) {
      b.meta[i].drop(r);
    } else if (ttl && b.meta[i].ttl <= 1) {
      // It would expire in the fabric: it reaches no NSG and creates no flow.
      b.meta[i].drop(DropReason::kTtlExceeded);
    }
  }
}

bool flow_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  std::array<FlowKey, kBurstSize> keys;
  std::array<uint16_t, kBurstSize> idx;
  std::array<Flow*, kBurstSize> found;
  std::array<bool, kBurstSize> reply;
  unsigned n = 0;
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    if (!m.todo) continue;
    m.todo = false;
    if (!alive(m)) continue;
    if (ctx.flows == nullptr || !flowable(m)) {
      m.slow = true;  // judged on its own, every time
      continue;
    }
    keys[n] = key_of(m);
    idx[n++] = i;
  }
  if (n == 0) return false;
  ctx.flows->lookup_bulk(keys.data(), n, found.data(), reply.data());
  const FlowTimers timers = ts.timers();
  bool deferred = false;
  for (unsigned k = 0; k < n; ++k) {
    Flow* f = found[k];
    PacketMeta& m = b.meta[idx[k]];
    if (f == nullptr) {
      // A miss that shares its tuple (either way round) with an earlier miss of
      // this burst must wait until that one has installed its flow: it may be
      // the reply (a SYN-ACK right behind its SYN).
      const FlowKey rev = keys[k].reversed();
      for (unsigned j = 0; j < k && !m.todo; ++j) {
        if (found[j] != nullptr || b.meta[idx[j]].todo) continue;
        if (std::memcmp(&keys[j], &keys[k], sizeof(FlowKey)) == 0 ||
            std::memcmp(&keys[j], &rev, sizeof(FlowKey)) == 0)
          m.todo = true;
      }
      if (m.todo) {
        deferred = true;
      } else {
        m.slow = true;
      }
      continue;
    }
    // Expired but not swept yet, or a new SYN reusing a finished connection's
    // tuple: forget the old flow, the packet starts a new one.
    const bool syn = m.proto == kIpProtoTcp && (m.tcp_flags & 0x12) == 0x02;
    if (f->expires_ns <= m.now_ns ||
        (syn && !reply[k] && (f->tcp == TcpState::kClosing || f->tcp == TcpState::kClosed))) {
      ctx.flows->remove(f);
      m.slow = true;
      continue;
    }
    const unsigned dir = reply[k] ? 1 : 0;
    const FlowAction& a = f->action[dir];
    m.flow = f;
    m.flow_state = reply[k] ? FlowState::kReply : FlowState::kEstablished;
    m.hop = a.next_hop;
    m.routed = a.routed;
    if (a.verdict == Verdict::kDrop) {
      m.drop(a.reason);
    } else {
      m.out_port = a.out_port;
    }
    if (m.proto == kIpProtoTcp) f->tcp = tcp_next(f->tcp, m.tcp_flags, reply[k], f->fin_seen);
    f->last_ns = m.now_ns;
    f->expires_ns = flow_expiry(f->tcp, m.now_ns, timers);
    f->packets[dir]++;
    f->bytes[dir] += m.ip_total_len;
    ctx.counters.flows_hit++;
  }
  return deferred;
}

void route_stage(Burst& b, const TableSet& ts, WorkerContext& /*ctx*/) noexcept {
  const TableSpec& spec = ts.spec();
  std::array<uint16_t, kBurstSize> set_of;
  uint16_t pending = 0;
  for (uint16_t i = 0; i < b.count; ++i) {
    if (!slow_path(b.meta[i])) continue;
    // UDRs act on traffic leaving a subnet: the source subnet's route set.
    set_of[i] = spec.route_set_for(b.meta[i].in_port, b.meta[i].src_ip);
    ++pending;
  }
  // One bulk lookup per route set present in the burst (usually one or two).
  std::array<uint32_t, kBurstSize> ips;
  std::array<uint64_t, kBurstSize> hops;
  std::array<uint16_t, kBurstSize> idx;
  std::array<bool, kBurstSize> done{};
  const NextHop* nh = ts.next_hops();
  while (pending > 0) {
    int set = -1;
    uint16_t n = 0;
    for (uint16_t i = 0; i < b.count; ++i) {
      if (done[i] || !slow_path(b.meta[i])) continue;
      if (set < 0) set = set_of[i];
      if (set_of[i] != set) continue;
      ips[n] = b.meta[i].dst_ip;
      idx[n++] = i;
      done[i] = true;
    }
    pending = static_cast<uint16_t>(pending - n);
    rte_fib_lookup_bulk(ts.fib(static_cast<uint16_t>(set)), ips.data(), hops.data(), n);
    for (uint16_t k = 0; k < n; ++k) {
      PacketMeta& m = b.meta[idx[k]];
      if (hops[k] == TableSet::kNoRoute) {
        m.drop(DropReason::kNoRoute);
        continue;
      }
      m.next_hop = static_cast<uint32_t>(hops[k]);
      const NextHop& h = nh[m.next_hop];
      // From the Internet only the fabric's public addresses (VIPs) can be
      // reached: a VNet's private addresses are not routable from outside.
      if (m.in_port == Port::kInternet && h.type != NextHopType::kLocal) {
        m.drop(DropReason::kNoRoute);
        continue;
      }
      apply_hop(m, h);
      if (alive(m) && m.in_port == Port::kVnet && h.type == NextHopType::kVnetLocal &&
          spec.ase_to_squatter(m.src_ip, m.dst_ip))
        m.drop(DropReason::kIntraSubnetBlocked);
    }
  }
}

void nsg_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  if (ts.nsg_acl_part_count() == 0) return;
  const TableSpec& spec = ts.spec();
  std::array<AclKey, kBurstSize> keys;
  std::array<const uint8_t*, kBurstSize> data;
  std::array<std::array<uint8_t, 4>, kBurstSize> ids;
  std::array<uint16_t, kBurstSize> idx;
  std::array<uint32_t, kBurstSize * kAclCategories> results;
  uint16_t n = 0;
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    if (!slow_path(m)) continue;
    std::array<uint16_t, 4> lv{};
    // Outbound NSGs filter what a VNet endpoint sends; the platform's own
    // DNS/DHCP/IMDS addresses are not subject to them (azure-semantics 6.6).
    if (m.in_port == Port::kVnet && m.dst_ip != kPlatformIp && m.dst_ip != kImdsIp) {
      if (const SubnetSpec* s = spec.subnet_of(m.src_ip)) lv[kCatOutSubnet] = s->nsg_id;
      lv[kCatOutNic] = spec.nic_nsg(m.src_ip);
    }
    // Inbound NSGs filter what is delivered to a VNet endpoint: the
    // destination, or the virtual appliance a route hands the packet to.
    if (m.out_port == Port::kVnet &&
        (m.hop.type == NextHopType::kVnetLocal || m.hop.type == NextHopType::kVirtualAppliance)) {
      const uint32_t to = m.hop.type == NextHopType::kVirtualAppliance ? m.hop.ip : m.dst_ip;
      if (const SubnetSpec* s = spec.subnet_of(to)) lv[kCatInSubnet] = s->nsg_id;
      lv[kCatInNic] = spec.nic_nsg(to);
    }
    if ((lv[0] | lv[1] | lv[2] | lv[3]) == 0) continue;
    // The remote end's VirtualNetwork membership, for the tag bit (acl.hpp).
    const bool dst_vnet = (lv[kCatOutSubnet] | lv[kCatOutNic]) != 0 && spec.in_virtual_network(m.dst_ip);
    const bool src_vnet = (lv[kCatInSubnet] | lv[kCatInNic]) != 0 && spec.in_virtual_network(m.src_ip);
    const std::array<uint8_t, 4> bytes = {acl_level(lv[kCatOutSubnet], dst_vnet), acl_level(lv[kCatOutNic], dst_vnet),
                                          acl_level(lv[kCatInSubnet], src_vnet), acl_level(lv[kCatInNic], src_vnet)};
    make_acl_key(keys[n], nsg_tuple(m), bytes);
    data[n] = reinterpret_cast<const uint8_t*>(&keys[n]);
    ids[n] = bytes;
    idx[n++] = i;
  }
  if (n == 0) return;
  if (ts.nsg_acl_part_count() == 1) {
    rte_acl_classify(ts.nsg_acl(), data.data(), results.data(), n, kAclCategories);
  } else {
    // A split classifier: each context answers its own levels.
    std::array<uint32_t, kBurstSize * kAclCategories> part;
    for (uint32_t p = 0; p < ts.nsg_acl_part_count(); ++p) {
      const auto ap = ts.nsg_acl_part(p);
      rte_acl_classify(ap.ctx, data.data(), part.data(), n, kAclCategories);
      for (uint16_t k = 0; k < n; ++k)
        for (uint32_t c = 0; c < kAclCategories; ++c)
          if (ap.categories & (1u << c)) results[k * kAclCategories + c] = part[k * kAclCategories + c];
    }
  }
  uint64_t* hits = ts.rule_hits(ctx.worker_id);
  static constexpr std::array<uint32_t, 4> kOrder = {kCatOutNic, kCatOutSubnet, kCatInSubnet, kCatInNic};
  for (uint16_t k = 0; k < n; ++k) {
    PacketMeta& m = b.meta[idx[k]];
    for (uint32_t cat : kOrder) {
      if (ids[k][cat] == 0) continue;  // no NSG at this level: it allows everything
      const uint32_t r = results[k * kAclCategories + cat];
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

void install_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  if (ctx.flows == nullptr) {
    for (uint16_t i = 0; i < b.count; ++i) b.meta[i].slow = false;
    return;
  }
  const FlowTimers timers = ts.timers();
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    if (!slow_path(m)) continue;
    m.slow = false;
    if (!flowable(m)) continue;
    Flow* f = ctx.flows->insert(key_of(m), m.now_ns);
    if (f == nullptr) {
      m.drop(DropReason::kFlowTableFull);
      continue;
    }
    m.flow = f;
    m.flow_state = FlowState::kNew;
    f->action[0] = FlowAction{Verdict::kForward, DropReason::kNone, m.out_port, m.hop, m.routed};
    // The reply direction is routed now, once: replies go back to the source,
    // leaving the responder's subnet by that subnet's routes (forced tunnelling
    // sends them on-premises: the asymmetric failure of azure-semantics 8.5).
    FlowAction& back = f->action[1];
    uint32_t src = m.src_ip;
    uint64_t hop = 0;
    rte_fib_lookup_bulk(ts.fib(ts.spec().route_set_for(Port::kVnet, m.dst_ip)), &src, &hop, 1);
    if (hop == TableSet::kNoRoute) {
      back.verdict = Verdict::kDrop;
      back.reason = DropReason::kNoRoute;
    } else {
      PacketMeta probe;
      apply_hop(probe, ts.next_hops()[hop]);
      back.verdict = probe.verdict;
      back.reason = probe.reason;
      back.out_port = probe.out_port;
      back.next_hop = probe.hop;
      back.routed = true;
    }
    if (m.proto == kIpProtoTcp) f->tcp = tcp_next(f->tcp, m.tcp_flags, false, f->fin_seen);
    f->expires_ns = flow_expiry(f->tcp, m.now_ns, timers);
    f->packets[0] = 1;
    f->bytes[0] = m.ip_total_len;
    ctx.counters.flows_created++;
  }
}

void forward_stage(Burst& b, const TableSet& ts, WorkerContext& /*ctx*/) noexcept {
  const TableSpec& spec = ts.spec();
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    if (m.verdict != Verdict::kForward) continue;
    uint8_t* frame = rte_pktmbuf_mtod(b.pkts[i], uint8_t*);
    if (spec.decrement_ttl) ipv4_decrement_ttl(frame + m.l3_off);  // TTL > 1: checked at parse
    std::memcpy(frame, spec.peer_macs[static_cast<size_t>(m.out_port)].bytes.data(), 6);
    std::memcpy(frame + 6, spec.fabric_mac.bytes.data(), 6);
  }
}

void emit(Burst& b, const TableSet& /*ts*/, WorkerContext& ctx) noexcept {
  std::array<std::array<rte_mbuf*, kBurstSize>, kNumPorts> out;
  std::array<std::array<uint16_t, kBurstSize>, kNumPorts> out_idx;
  std::array<uint16_t, kNumPorts> nout{};
  std::array<rte_mbuf*, kBurstSize> drops;
  uint16_t ndrop = 0;
  uint64_t last_seq = 0;
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
      r.next_hop = m.routed ? m.hop : NextHop{};
      r.flow = m.flow_state;
      r.nsg = m.nsg;
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

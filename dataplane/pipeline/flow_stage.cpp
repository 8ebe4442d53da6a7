// flow_stage: the fast path. Runs the flow timers up to the burst, looks every
// packet up in the connection table in bulk, and gives hits their flow's
// cached action (route, verdict, NAT), TCP state and timer; ICMP errors about
// a known flow follow it (RFC 5508). Misses go down the slow path (route ..
// install), except a miss that may be the reply of an earlier miss of the
// same burst: it waits for a second pass, once that one's flow exists.
// Drop reasons: the cached ones of a flow that drops (a reply direction with
// no route: no_route, route_none, no_frontend), no_backend (Basic LB: every
// instance of the frontend down ends its TCP flows).

#include "dataplane/pipeline/pipeline.hpp"

#include <algorithm>
#include <cstring>

#include "dataplane/pipeline/stage_util.hpp"

namespace asenet::dataplane {

namespace {

/// (protocol, address, port) as one number; ICMP's identifier is translated
/// with the flow, so ICMP endpoints are addresses alone.
uint64_t endpoint_code(uint8_t proto, uint32_t addr, uint16_t port) noexcept {
  return (uint64_t{proto} << 48) | (uint64_t{proto == kIpProtoIcmp ? uint16_t{0} : port} << 32) | addr;
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

/// An ICMP error about a packet of a known flow follows that flow, the way a
/// reply to it would travel (RFC 5508 NAT behaviour for ICMP). False when no
/// live flow has it.
bool follow_icmp_error(PacketMeta& m, FlowTable& flows) noexcept {
  const FlowKey k = icmp_error_key(m);
  Flow* f = nullptr;
  bool r = false;
  if (flows.lookup_bulk(&k, 1, &f, &r) != 1 || f->expires_ns <= m.now_ns) return false;
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
  return true;
}

/// The packets of a burst to look up, with their keys and what was found.
struct Lookups {
  std::array<FlowKey, kBurstSize> keys;
  std::array<uint16_t, kBurstSize> idx;
  std::array<Flow*, kBurstSize> found;
  std::array<bool, kBurstSize> reply;
  unsigned n = 0;
};

/// Picks the packets still to do: ICMP errors of known flows follow them,
/// packets that cannot own a flow go down the slow path, the rest are looked
/// up. True when an ICMP error waits because its flow may be one of this
/// burst's new ones.
bool collect_lookups(Burst& b, WorkerContext& ctx, Lookups& l) noexcept {
  bool deferred = false;
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    if (!m.todo) continue;
    m.todo = false;
    if (!alive(m)) continue;
    if (ctx.flows != nullptr && (m.flags & kFlagIcmpError) != 0) {
      if (follow_icmp_error(m, *ctx.flows)) continue;
      if (l.n > 0) {  // the flow it is about may be one of this burst's new ones
        m.todo = true;
        deferred = true;
        continue;
      }
    }
    if (ctx.flows == nullptr || !flowable(m)) {
      m.slow = true;  // judged on its own, every time
      ++b.slow;
      continue;
    }
    l.keys[l.n] = key_of(m);
    l.idx[l.n++] = i;
  }
  return deferred;
}

/// The misses of a burst that went down the slow path so far: their
/// endpoints, and which ASE's instance calls a frontend (-1: none).
struct BurstMisses {
  std::array<uint64_t, kBurstSize> src, dst;
  std::array<uint8_t, kBurstSize> key;
  std::array<int, kBurstSize> hairpin;
  unsigned n = 0;

  /// Whether miss `k` may be the reply of an earlier miss of this burst (a
  /// SYN-ACK right behind its SYN) and must wait until that one has installed
  /// its flow; if not, it becomes a candidate for the misses after it.
  /// After NAT a reply is not the first packet reversed:
  ///   DNAT (to a VIP): the reply goes back to the first packet's source;
  ///   SNAT (to the Internet): it comes from the first packet's destination;
  ///   VIP hairpin: it goes to the caller's VIP.
  /// (ICMP: the identifier itself is translated, so addresses alone.)
  bool must_wait(const std::array<FlowKey, kBurstSize>& keys, unsigned k, const TableSpec& spec) noexcept {
    const FlowKey& me = keys[k];
    const FlowKey rev = me.reversed();
    // Is this packet addressed to a VIP (a possible hairpin reply)? Once per
    // packet, not once per earlier miss.
    bool me_on_ilb = true;
    const int me_vip = spec.ases.empty() ? -1 : spec.frontend_of(me.dst, me_on_ilb);
    const int hairpin_to = me_vip >= 0 && !me_on_ilb ? me_vip : -2;
    const uint64_t me_s = endpoint_code(me.proto, me.src, me.sport), me_d = endpoint_code(me.proto, me.dst, me.dport);
    // Earlier misses that share an endpoint with this one are the only
    // candidates; the full test decides.
    for (unsigned e = 0; e < n; ++e) {
      if (src[e] != me_d && dst[e] != me_s && src[e] != me_s && hairpin[e] != hairpin_to) continue;
      const FlowKey& first = keys[key[e]];
      if (std::memcmp(&first, &me, sizeof(FlowKey)) == 0 || std::memcmp(&first, &rev, sizeof(FlowKey)) == 0 ||
          (me.proto == first.proto && me.dst == first.src && (me.dport == first.sport || me.proto == kIpProtoIcmp)) ||
          (me.proto == first.proto && me.src == first.dst && (me.sport == first.dport || me.proto == kIpProtoIcmp)) ||
          hairpin[e] == hairpin_to)
        return true;
    }
    src[n] = me_s;
    dst[n] = me_d;
    key[n] = static_cast<uint8_t>(k);
    uint32_t inst = 0;
    hairpin[n] = me_vip >= 0 ? spec.instance_of(me.src, inst) : -1;  // an instance calling a frontend
    ++n;
    return false;
  }
};

/// Whether a hit's flow is over for this packet: expired but not swept yet,
/// or a new SYN reusing a finished connection's tuple (the packet starts a
/// new flow), or Basic LB with every instance of its frontend down (a TCP
/// flow ends: no_backend). Removes the flow when so.
bool hit_is_over(PacketMeta& m, Flow* f, bool reply, const TableSpec& spec, WorkerContext& ctx) noexcept {
  const bool syn = m.proto == kIpProtoTcp && (m.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn;
  if (f->expires_ns <= m.now_ns || (syn && !reply && (f->tcp == TcpState::kClosing || f->tcp == TcpState::kClosed))) {
    ctx.flows->remove(f, std::min(f->expires_ns, m.now_ns));
    m.slow = true;
    return true;
  }
  if (spec.some_frontend_down && spec.basic_lb && m.proto == kIpProtoTcp && f->lb) {
    bool on_ilb = false;
    const int a = spec.frontend_of(initiator_key(*f).dst, on_ilb);
    if (a >= 0 && spec.ases[static_cast<size_t>(a)].maglev.empty()) {
      ctx.flows->remove(f, m.now_ns);
      m.drop(DropReason::kNoBackend);
      return true;
    }
  }
  return false;
}

/// A hit: the flow's cached action for this direction, its TCP state, timer
/// and counts, and Azure's "C" flow-log tuple every 5 minutes.
void take_hit(PacketMeta& m, Flow* f, bool reply, const FlowTimers& timers, WorkerContext& ctx) noexcept {
  const unsigned dir = reply ? 1 : 0;
  const FlowAction& a = f->action[dir];
  take_action(m, f, reply ? FlowState::kReply : FlowState::kEstablished, a);
  m.rewrite = a.rewrite;
  m.new_src = a.src;
  m.new_dst = a.dst;
  m.new_sport = a.sport;
  m.new_dport = a.dport;
  if (m.proto == kIpProtoTcp) {
    ctx.flows->set_tcp(f, tcp_next(f->tcp, m.tcp_flags, reply, f->fin_seen));
    f->next_seq[dir] =
        m.tcp_seq + m.tcp_payload + ((m.tcp_flags & kTcpSyn) ? 1u : 0u) + ((m.tcp_flags & kTcpFin) ? 1u : 0u);
  }
  f->expires_ns = flow_expiry(f->tcp, m.now_ns, timers);
  ctx.flows->schedule(f);
  f->packets[dir]++;
  f->bytes[dir] += m.ip_total_len;
  if (f->rule_set != 0)
    RuleTally::count_in(ctx.rule_sets[f->rule_set], dir, m.ip_total_len);  // a shared line: in cache
  ctx.counters.flows_hit++;
  if (f->logged && m.now_ns / kNsPerSecond - f->log_last_s >= kFlowLogContinueNs / kNsPerSecond &&
      ctx.flow_log != nullptr) {
    ctx.flow_log->push(flow_log_progress(*f, FlowLogKind::kContinue, m.now_ns, static_cast<uint16_t>(ctx.worker_id),
                                         ctx.flows->slot_of(f)));
    f->packets = {};
    f->bytes = {};
    f->log_last_s = static_cast<uint32_t>(m.now_ns / kNsPerSecond);
  }
}

}  // namespace

// The helpers above each have one caller and are inlined into this loop.
bool flow_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  // Timers first, up to the burst's first packet (a replay burst can span
  // minutes of capture time; a packet never sees the future). Lookups are
  // exact anyway: an expired flow never matches.
  if (b.count > 0 && b.meta[0].todo) run_timers(ctx, ts, b.meta[0].now_ns, b.meta[0].seq);
  b.slow = 0;
  Lookups l;
  bool deferred = collect_lookups(b, ctx, l);
  if (l.n == 0) return deferred;
  ctx.flows->lookup_bulk(l.keys.data(), l.n, l.found.data(), l.reply.data());
  const FlowTimers timers = ts.timers();
  const TableSpec& spec = ts.spec();
  BurstMisses misses;
  for (unsigned k = 0; k < l.n; ++k) {
    Flow* f = l.found[k];
    PacketMeta& m = b.meta[l.idx[k]];
    if (f == nullptr) {
      if (misses.must_wait(l.keys, k, spec)) {
        m.todo = true;
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
    if (hit_is_over(m, f, l.reply[k], spec, ctx)) {
      if (m.slow) ++b.slow;
      continue;
    }
    take_hit(m, f, l.reply[k], timers, ctx);
  }
  return deferred;
}

void run_timers(WorkerContext& ctx, const TableSet& ts, uint64_t now, uint64_t seq) noexcept {
  if (ctx.flows == nullptr) return;
  ctx.timer_tables = &ts;
  ctx.timer_seq = seq;
  ctx.timer_ns = now;
  ctx.flows->advance(now);
}

}  // namespace asenet::dataplane

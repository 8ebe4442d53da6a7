// install_stage: installs a flow for every new flow still alive: its key as
// it arrived and its replies' key (after NAT the reply is not the first
// packet reversed), both directions' actions, the reply route (from the
// responder's subnet: forced tunnelling breaks replies, azure-semantics 8.5),
// its TCP state and timer. A packet that took a SNAT port and died gives it
// back.
// Drop reasons: flow_table_full (after reclaiming what expired).

#include "dataplane/pipeline/pipeline.hpp"

#include "dataplane/pipeline/stage_util.hpp"

namespace asenet::dataplane {

namespace {

/// Every flow about to be installed, first in bulk: both its keys (looked
/// up, so that their cache misses overlap instead of queueing one by one) and
/// the route of its replies, back to its source from the responder's subnet.
struct Installs {
  std::array<bool, kBurstSize> want{};
  std::array<uint16_t, kBurstSize> back_set;
  std::array<uint32_t, kBurstSize> back_ip;
  std::array<uint64_t, kBurstSize> back_hop;
  std::array<FlowKey, 2 * kBurstSize> keys;  // [2k] as it arrives, [2k + 1] as its replies will
  std::array<uint8_t, kBurstSize> key_at;
};

void prepare_installs(const Burst& b, const TableSet& ts, WorkerContext& ctx, Installs& in) noexcept {
  const TableSpec& spec = ts.spec();
  unsigned n = 0;
  for (uint16_t i = 0; i < b.count; ++i) {
    const PacketMeta& m = b.meta[i];
    if (!m.slow || !flowable(m) || !alive(m)) continue;
    const FlowKey out = out_key_of(m);
    in.key_at[i] = static_cast<uint8_t>(n);
    in.keys[n++] = key_of(m);
    in.keys[n++] = out.reversed();
    in.want[i] = true;
    in.back_set[i] = spec.route_set_for(Port::kVnet, out.dst);
    in.back_ip[i] = m.src_ip;
  }
  if (n > 0) {
    ctx.flows->warm(in.keys.data(), n);
    lookup_routes(ts, b.count, in.want, in.back_set, in.back_ip, in.back_hop);
  }
}

/// The reply direction is routed now, once: replies go back to the source,
/// leaving the responder's subnet by that subnet's routes (forced tunnelling
/// sends them on-premises: the asymmetric failure of azure-semantics 8.5).
/// apply_hop() without a fabric-owned address: nothing serves kLocal.
void route_replies(FlowAction& back, uint64_t hop, const TableSet& ts) noexcept {
  if (hop == TableSet::kNoRoute) {
    back.verdict = Verdict::kDrop;
    back.reason = DropReason::kNoRoute;
    return;
  }
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

/// A new flow's actions, LB and SNAT marks, TCP state, timer and counts.
void fill_flow(Flow* f, const PacketMeta& m, uint64_t back_hop, const TableSet& ts, WorkerContext& ctx) noexcept {
  const TableSpec& spec = ts.spec();
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
  FlowAction& back = f->action[1];
  route_replies(back, back_hop, ts);
  back.rewrite = m.rewrite;  // replies get the original addresses back: key reversed, as insert() wrote
  if (m.proto == kIpProtoTcp) {
    ctx.flows->set_tcp(f, tcp_next(f->tcp, m.tcp_flags, false, f->fin_seen));
    f->next_seq[0] =
        m.tcp_seq + m.tcp_payload + ((m.tcp_flags & kTcpSyn) ? 1u : 0u) + ((m.tcp_flags & kTcpFin) ? 1u : 0u);
  }
  f->expires_ns = flow_expiry(f->tcp, m.now_ns, ts.timers());
  ctx.flows->schedule(f);
  f->packets[0] = 1;
  f->bytes[0] = m.ip_total_len;
  if (ctx.rules != nullptr && m.nsg.count != 0) {
    f->rule_set = ctx.rules->intern(ts.rules_epoch(), m.nsg);
    if (f->rule_set != 0) ctx.rules->count(f->rule_set, 0, m.ip_total_len);
  }
  ctx.counters.flows_created++;
}

}  // namespace

void install_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  const TableSpec& spec = ts.spec();
  Installs in;
  if (ctx.flows != nullptr) prepare_installs(b, ts, ctx, in);
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
    const FlowKey& key = in.keys[in.key_at[i]];
    const FlowKey& rev = in.keys[in.key_at[i] + 1];
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
    fill_flow(f, m, in.back_hop[i], ts, ctx);
  }
}

}  // namespace asenet::dataplane

// route_stage: routes a new flow's first packet by its source subnet's route
// set (system routes, UDRs, BGP, service endpoints: one rte_fib per route
// set), in bulk. A fabric-owned address (a VIP or ILB) stays alive for the LB
// stage. Also lookup_routes, which install_stage uses for the reply route.
// Drop reasons: no_route (no route, or a private address from the Internet),
// route_none (a route with next hop None), intra_subnet_blocked (an ASE
// instance to a non-ASE host in the ASE's own subnet).

#include "dataplane/pipeline/pipeline.hpp"

#include <rte_fib.h>

#include "dataplane/pipeline/stage_util.hpp"

namespace asenet::dataplane {

namespace {

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

}  // namespace

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

}  // namespace asenet::dataplane

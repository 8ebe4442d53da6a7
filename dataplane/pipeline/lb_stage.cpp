// lb_stage: the load balancer. A packet to a frontend (VIP or ILB, on a port
// the ASE serves) gets a backend by Maglev over a hash of its distribution
// mode's fields, and DNAT to it; an instance calling a VIP is a hairpin, an
// Internet call that leaves from its own VIP; an instance calling the
// Internet is marked for SNAT to its VIP (azure-semantics 3).
// Drop reasons: no_frontend (no frontend at that address, or not TCP on a
// served port), fragment (frontends and SNAT do not take fragments),
// ilb_hairpin (a backend to its own ILB), no_backend (every instance down),
// unsupported (no port to translate for SNAT).

#include "dataplane/pipeline/pipeline.hpp"

#include "dataplane/pipeline/stage_util.hpp"

namespace asenet::dataplane {

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
      m.rewrite = true;
      m.new_src = m.src_ip;
      m.new_sport = m.sport;
      m.new_dst = ase.pick_instance(m.src_ip, m.dst_ip, m.proto, m.sport, m.dport);
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

}  // namespace asenet::dataplane

// snat_stage: takes a SNAT port on the VIP for every new flow marked for SNAT
// (lb_stage), from its instance's preallocated block; ports are reused per
// destination (IP and port, or IP alone for ICMP and UDP in era current).
// When none is free, flows whose timers ran out give theirs back first.
// Drop reasons: snat_exhausted (counted per instance too).

#include "dataplane/pipeline/pipeline.hpp"

#include "dataplane/pipeline/stage_util.hpp"

namespace asenet::dataplane {

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

}  // namespace asenet::dataplane

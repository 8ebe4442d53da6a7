// What several stages share: whether a packet is still alive and on the slow
// path, whether it can own a flow, its flow keys before and after NAT, the
// SNAT reuse key, giving a SNAT port back, and the bulk route lookup (defined
// in route_stage.cpp, used by route and install). Inline: they run per packet.
#pragma once

#include <cstring>

#include <array>
#include <cstdint>

#include "dataplane/pipeline/context.hpp"

namespace asenet::dataplane {

inline bool alive(const PacketMeta& m) noexcept { return m.verdict == Verdict::kForward; }
inline bool slow_path(const PacketMeta& m) noexcept { return alive(m) && m.slow; }

/// A packet that can own a connection-table entry: parsed IPv4 with its L4
/// header, and for ICMP only the query types (echo...). ICMP errors and later
/// fragments are judged on their own.
inline bool flowable(const PacketMeta& m) noexcept {
  if ((m.flags & kFlagLaterFragment) != 0) return false;
  if (m.proto == kIpProtoIcmp) return (m.flags & kFlagHasPorts) != 0;
  return true;
}

/// Built as two words in registers: field by field on the stack, the key's
/// five narrow stores and the 16-byte load that copied it stalled on store
/// forwarding (a third of the flow stage's time on the vdevs).
inline FlowKey key_of(const PacketMeta& m) noexcept {
  const uint64_t ports = (m.flags & kFlagHasPorts) != 0 ? uint64_t{m.sport} | (uint64_t{m.dport} << 16) : uint64_t{0};
  const uint64_t w[2] = {uint64_t{m.src_ip} | (uint64_t{m.dst_ip} << 32), ports | (uint64_t{m.proto} << 32)};
  FlowKey k;
  std::memcpy(&k, w, sizeof k);
  return k;
}

/// The key an ICMP error's flow is found under: that of the packet it
/// quotes, coming back (RFC 5508: the error follows the flow).
inline FlowKey icmp_error_key(const PacketMeta& m) noexcept {
  FlowKey k;
  k.src = m.inner_dst;
  k.dst = m.inner_src;
  k.sport = m.inner_dport;
  k.dport = m.inner_sport;
  k.proto = m.inner_proto;
  return k;
}

/// The flow key of a packet as it leaves (after NAT).
inline FlowKey out_key_of(const PacketMeta& m) noexcept {
  FlowKey out = key_of(m);
  if (m.rewrite) {
    out.src = m.new_src;
    out.dst = m.new_dst;
    out.sport = m.new_sport;
    out.dport = m.new_dport;
  }
  return out;
}

/// The destination port a SNAT port is reused against: the port for TCP and
/// classic UDP, none (per destination IP) for ICMP and UDP in era current.
inline uint16_t snat_dport_key(const PacketMeta& m, const TableSpec& spec) noexcept {
  const bool per_ip = m.proto == kIpProtoIcmp || (m.proto == kIpProtoUdp && spec.udp_cone_nat);
  return per_ip ? 0 : m.dport;
}

/// Gives back the SNAT port a packet took when it will not own a flow.
inline void give_back_port(WorkerContext& ctx, const TableSpec& spec, PacketMeta& m) noexcept {
  if (m.snat_port == 0 || ctx.snat == nullptr) return;
  const AseSpec& ase = spec.ases[m.snat_ase];
  ctx.snat->release(ase.vip, m.snat_port, m.proto, m.dst_ip, snat_dport_key(m, spec), ase.instances[m.snat_instance]);
  m.snat_port = 0;
}

/// Route lookups for the packets of a burst flagged in `want`: address
/// ips[i] in route set sets[i], answered in hops[i]. One bulk rte_fib lookup
/// per route set present (usually one or two), so that the misses in the
/// 16M-entry first-level table overlap.
void lookup_routes(const TableSet& ts, uint16_t count, const std::array<bool, kBurstSize>& want,
                   const std::array<uint16_t, kBurstSize>& sets, const std::array<uint32_t, kBurstSize>& ips,
                   std::array<uint64_t, kBurstSize>& hops) noexcept;

}  // namespace asenet::dataplane

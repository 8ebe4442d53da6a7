// Header rewriting for NAT (DNAT to a backend, SNAT to the VIP, and both for
// a VIP hairpin): the translated addresses and ports written into the frame
// with the IPv4, TCP, UDP and ICMP checksums patched incrementally (RFC 1624),
// and ICMP errors about a translated flow rewritten inside and out (RFC 5508).
// Called by forward_stage for every translated packet, so inline here.
#pragma once

#include <cstdint>

#include "dataplane/core/checksum.hpp"
#include "dataplane/core/packet.hpp"

namespace asenet::dataplane {

/// Writes the translated addresses and ports into the packet, patching the
/// IPv4, TCP, UDP and ICMP checksums incrementally (RFC 1624).
/// An ICMP error through NAT: the outer addresses, and the quoted packet's
/// addresses and ports (RFC 5508); checksums recomputed where they cover it.
inline void rewrite_icmp_error(uint8_t* frame, const PacketMeta& m) noexcept {
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

inline void rewrite_packet(uint8_t* frame, const PacketMeta& m) noexcept {
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

}  // namespace asenet::dataplane

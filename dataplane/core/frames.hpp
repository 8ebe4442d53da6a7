// Frames the fabric makes itself: the LB's resets, its ARP requests, and the
// health probes of asenetd's control thread. One writer for each, so the
// worker and the control side build them the same way.
#pragma once

#include <cstdint>
#include <cstring>

#include "dataplane/core/checksum.hpp"
#include "dataplane/core/packet.hpp"
#include "dataplane/core/fabric.hpp"

namespace asenet::dataplane {

inline constexpr size_t kTcpFrameLen = 54;  ///< Ethernet + IPv4 + TCP, no options
inline constexpr size_t kArpFrameLen = 60;  ///< padded to Ethernet's minimum

/// Writes Ethernet + a 20-byte IPv4 header at f for `l4_len` bytes of layer 4
/// (zeroing the first kEthHeaderLen + 20 + `zero_l4` bytes); checksum done.
/// Returns where layer 4 starts.
inline uint8_t* write_eth_ipv4(uint8_t* f, const MacAddr& dst_mac, const MacAddr& src_mac, uint32_t src, uint32_t dst,
                               uint8_t proto, uint8_t ttl, uint16_t l4_len, size_t zero_l4) noexcept {
  std::memset(f, 0, kEthHeaderLen + 20 + zero_l4);
  std::memcpy(f, dst_mac.bytes.data(), 6);
  std::memcpy(f + 6, src_mac.bytes.data(), 6);
  store_be16(f + 12, kEtherTypeIpv4);
  uint8_t* ip = f + kEthHeaderLen;
  ip[0] = 0x45;
  store_be16(ip + 2, static_cast<uint16_t>(20 + l4_len));
  ip[8] = ttl;
  ip[9] = proto;
  store_be32(ip + 12, src);
  store_be32(ip + 16, dst);
  store_be16(ip + 10, static_cast<uint16_t>(~ones_sum_bytes(ip, 20)));  // bytes just stored: no wide loads
  return ip + 20;
}

/// Writes Ethernet + IPv4 + TCP headers at f for `payload_len` bytes of
/// payload already at f + kTcpFrameLen; checksums done.
inline void write_tcp_frame(uint8_t* f, const MacAddr& dst_mac, const MacAddr& src_mac, uint32_t src, uint32_t dst,
                            uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags, uint8_t ttl,
                            uint16_t payload_len = 0) noexcept {
  const auto tcp_len = static_cast<uint16_t>(20 + payload_len);
  uint8_t* tcp = write_eth_ipv4(f, dst_mac, src_mac, src, dst, kIpProtoTcp, ttl, tcp_len, 20);
  store_be16(tcp, sport);
  store_be16(tcp + 2, dport);
  store_be32(tcp + 4, seq);
  store_be32(tcp + 8, ack);
  tcp[12] = 5 << 4;
  tcp[13] = flags;
  store_be16(tcp + 14, (flags & kTcpRst) != 0 ? 0 : 64240);  // a reset advertises no window
  uint8_t pseudo[12];
  store_be32(pseudo, src);
  store_be32(pseudo + 4, dst);
  pseudo[8] = 0;
  pseudo[9] = kIpProtoTcp;
  store_be16(pseudo + 10, tcp_len);
  store_be16(tcp + 16, static_cast<uint16_t>(~ones_sum_bytes(tcp, tcp_len, ones_sum_bytes(pseudo, 12))));
}

/// ICMP destination unreachable, fragmentation needed (type 3 code 4, RFC 1191):
/// Ethernet + IPv4 + ICMP + the quoted IPv4 header and first 8 bytes of the
/// packet that was too big (`quoted_len` bytes, at most 60 + 8).
inline constexpr size_t kIcmpErrorHeadLen = kEthHeaderLen + 20 + 8;
inline void write_icmp_frag_needed(uint8_t* f, const MacAddr& dst_mac, const MacAddr& src_mac, uint32_t src,
                                   uint32_t dst, uint16_t mtu, const uint8_t* quoted, size_t quoted_len) noexcept {
  const auto icmp_len = static_cast<uint16_t>(8 + quoted_len);
  uint8_t* icmp = write_eth_ipv4(f, dst_mac, src_mac, src, dst, kIpProtoIcmp, 64, icmp_len, 8);
  icmp[0] = 3;                // destination unreachable
  icmp[1] = 4;                // fragmentation needed and DF set
  store_be16(icmp + 6, mtu);  // next-hop MTU
  std::memcpy(icmp + 8, quoted, quoted_len);
  store_be16(icmp + 2, static_cast<uint16_t>(~ones_sum_bytes(icmp, icmp_len)));
}

/// Writes a broadcast ARP request "who has `target`, tell `sender`" (kArpFrameLen bytes).
inline void write_arp_request(uint8_t* f, const MacAddr& src_mac, uint32_t sender, uint32_t target) noexcept {
  std::memset(f, 0, kArpFrameLen);
  std::memset(f, 0xff, 6);
  std::memcpy(f + 6, src_mac.bytes.data(), 6);
  store_be16(f + 12, kEtherTypeArp);
  uint8_t* a = f + kEthHeaderLen;
  store_be16(a, 1);
  store_be16(a + 2, kEtherTypeIpv4);
  a[4] = 6;
  a[5] = 4;
  store_be16(a + 6, 1);
  std::memcpy(a + 8, src_mac.bytes.data(), 6);
  store_be32(a + 14, sender);
  store_be32(a + 24, target);
}

}  // namespace asenet::dataplane

// parse_packet: Ethernet, ARP, IPv4 and the TCP, UDP or ICMP header into a
// PacketMeta, checking every length against the frame and the IPv4 header
// checksum. It reads only the first segment's bytes for headers (`len`); the
// total length is checked against the whole frame (`wire_len`).
// Drop reasons: malformed (truncated or inconsistent headers, a bad IPv4
// checksum, an 802.3 length field), unsupported (not IPv4 or ARP), arp (an
// ARP frame, for the caller to answer or drop), martian (0/8, 127/8, 240/4,
// multicast sources), vnet_blocked (multicast, broadcast, IP-in-IP, GRE).
// The helpers below each have one caller and are inlined into parse_packet.
#include "dataplane/core/checksum.hpp"
#include "dataplane/core/packet.hpp"

namespace asenet::dataplane {

namespace {

DropReason parse_arp(const uint8_t* frame, uint32_t len, PacketMeta& meta) noexcept {
  const uint8_t* a = frame + kEthHeaderLen;
  if (len < kEthHeaderLen + 28 || load_be16(a) != 1 || load_be16(a + 2) != kEtherTypeIpv4 || a[4] != 6 || a[5] != 4)
    return DropReason::kMalformed;
  meta.arp_op = load_be16(a + 6);
  meta.src_ip = load_be32(a + 14);
  meta.dst_ip = load_be32(a + 24);
  return DropReason::kArp;
}

/// Addresses no network carries (RFC 1122 3.2.1.3, RFC 5735): "this network"
/// 0/8, loopback 127/8, the reserved 240/4; multicast is never a source.
/// Azure blocks multicast, broadcast, IP-in-IP and GRE within VNets (VNet FAQ).
DropReason check_addresses(const PacketMeta& meta) noexcept {
  const uint32_t s8 = meta.src_ip >> 24, d8 = meta.dst_ip >> 24;
  if (s8 == 0 || s8 == 127 || s8 >= 224 || d8 == 0 || d8 == 127 || (d8 >= 240 && meta.dst_ip != 0xffffffffu))
    return DropReason::kMartian;
  if (d8 >= 224 || meta.proto == 4 || meta.proto == 47) return DropReason::kVnetBlocked;
  return DropReason::kNone;
}

DropReason parse_tcp(const uint8_t* l4, uint32_t l4_len, uint32_t l4_in_seg, bool fragmented,
                     PacketMeta& meta) noexcept {
  if (l4_len < 20 || l4_in_seg < 20) return DropReason::kMalformed;
  const uint32_t doff = static_cast<uint32_t>(l4[12] >> 4) * 4;
  if (doff < 20 || (!fragmented && doff > l4_len)) return DropReason::kMalformed;
  meta.sport = load_be16(l4);
  meta.dport = load_be16(l4 + 2);
  meta.tcp_flags = l4[13];
  meta.tcp_seq = load_be32(l4 + 4);
  meta.tcp_ack = load_be32(l4 + 8);
  meta.tcp_payload = fragmented ? 0 : static_cast<uint16_t>(l4_len - doff);
  meta.flags |= kFlagHasPorts;
  return DropReason::kNone;
}

DropReason parse_udp(const uint8_t* l4, uint32_t l4_len, uint32_t l4_in_seg, bool fragmented,
                     PacketMeta& meta) noexcept {
  if (l4_len < 8 || l4_in_seg < 8) return DropReason::kMalformed;
  const uint16_t ulen = load_be16(l4 + 4);
  if (!fragmented && (ulen < 8 || ulen > l4_len)) return DropReason::kMalformed;
  meta.sport = load_be16(l4);
  meta.dport = load_be16(l4 + 2);
  meta.flags |= kFlagHasPorts;
  return DropReason::kNone;
}

/// An ICMP error quotes the offending packet's IPv4 header and 8 bytes of it
/// (RFC 792): enough to find the flow and to translate it back. Nothing is
/// recorded when the quote is too short to use.
void parse_icmp_quote(const uint8_t* l4, uint32_t l4_len, uint32_t l4_in_seg, PacketMeta& meta) noexcept {
  const uint8_t* in = l4 + 8;
  const uint32_t in_ihl = static_cast<uint32_t>(in[0] & 0x0f) * 4;
  if ((in[0] >> 4) != 4 || in_ihl < 20 || 8 + in_ihl + 8 > l4_in_seg || 8 + in_ihl + 8 > l4_len ||
      meta.l4_off + 8 + in_ihl >= 256)
    return;
  meta.flags |= kFlagIcmpError;
  meta.inner_off = static_cast<uint8_t>(meta.l4_off + 8);
  meta.inner_proto = in[9];
  meta.inner_src = load_be32(in + 12);
  meta.inner_dst = load_be32(in + 16);
  const uint8_t* il4 = in + in_ihl;
  if (meta.inner_proto == kIpProtoTcp || meta.inner_proto == kIpProtoUdp) {
    meta.inner_sport = load_be16(il4);
    meta.inner_dport = load_be16(il4 + 2);
  } else if (meta.inner_proto == kIpProtoIcmp && (il4[0] == 8 || il4[0] == 0)) {
    meta.inner_sport = meta.inner_dport = load_be16(il4 + 4);
  }
}

DropReason parse_icmp(const uint8_t* l4, uint32_t l4_len, uint32_t l4_in_seg, bool fragmented, bool contiguous,
                      PacketMeta& meta) noexcept {
  if (l4_len < 8 || l4_in_seg < 8) return DropReason::kMalformed;
  meta.icmp_type = l4[0];
  meta.icmp_code = l4[1];
  const uint8_t t = meta.icmp_type;
  // Echo request/reply (8/0), timestamp (13/14), info (15/16): the identifier
  // plays the role of a port for flows and SNAT.
  if (t == 8 || t == 0 || t == 13 || t == 14 || t == 15 || t == 16) {
    meta.sport = meta.dport = load_be16(l4 + 4);
    meta.flags |= kFlagHasPorts;
  } else if ((t == 3 || t == 4 || t == 11 || t == 12) && !fragmented && l4_in_seg >= 8 + 20 + 8 &&
             l4_len >= 8 + 20 + 8 && contiguous) {  // all of it contiguous: it is rewritten in place
    parse_icmp_quote(l4, l4_len, l4_in_seg, meta);
  }
  return DropReason::kNone;
}

}  // namespace

DropReason parse_packet(const uint8_t* frame, uint32_t len, uint32_t wire_len, PacketMeta& meta) noexcept {
  if (len < kEthHeaderLen) return DropReason::kMalformed;
  const uint16_t ethertype = load_be16(frame + 12);
  if (ethertype == kEtherTypeArp) return parse_arp(frame, len, meta);
  if (ethertype != kEtherTypeIpv4) {
    // 802.3 frames carry a length here, not a type: no L3 we could route.
    return ethertype < 0x0600 ? DropReason::kMalformed : DropReason::kUnsupported;
  }
  const uint8_t* ip = frame + kEthHeaderLen;
  const uint32_t l3_avail = wire_len - kEthHeaderLen;
  if (len < kEthHeaderLen + 20) return DropReason::kMalformed;
  if ((ip[0] >> 4) != 4) return DropReason::kMalformed;
  const uint32_t ihl = static_cast<uint32_t>(ip[0] & 0x0f) * 4;
  if (ihl < 20 || kEthHeaderLen + ihl > len) return DropReason::kMalformed;
  const uint16_t total_len = load_be16(ip + 2);
  // Trailing bytes (Ethernet padding) are fine; a total length past the frame is not.
  if (total_len < ihl || total_len > l3_avail) return DropReason::kMalformed;
  if (ones_sum(ip, ihl) != 0xffff) return DropReason::kMalformed;

  meta.l3_off = static_cast<uint8_t>(kEthHeaderLen);
  meta.ip_total_len = total_len;
  meta.ttl = ip[8];
  meta.proto = ip[9];
  meta.src_ip = load_be32(ip + 12);
  meta.dst_ip = load_be32(ip + 16);
  meta.flags = 0;
  if (const DropReason r = check_addresses(meta); r != DropReason::kNone) return r;
  const uint16_t frag = load_be16(ip + 6);
  const uint16_t frag_offset = frag & 0x1fff;
  if ((frag & 0x2000) != 0 || frag_offset != 0) meta.flags |= kFlagFragment;
  if (frag_offset != 0) {
    meta.flags |= kFlagLaterFragment;
    return DropReason::kNone;  // no L4 header to read
  }

  meta.l4_off = static_cast<uint8_t>(kEthHeaderLen + ihl);
  const uint8_t* l4 = ip + ihl;
  const uint32_t l4_len = total_len - ihl;       // per the IP header
  const uint32_t l4_in_seg = len - meta.l4_off;  // contiguous bytes we may read
  const bool fragmented = (meta.flags & kFlagFragment) != 0;
  switch (meta.proto) {
    case kIpProtoTcp: return parse_tcp(l4, l4_len, l4_in_seg, fragmented, meta);
    case kIpProtoUdp: return parse_udp(l4, l4_len, l4_in_seg, fragmented, meta);
    case kIpProtoIcmp: return parse_icmp(l4, l4_len, l4_in_seg, fragmented, kEthHeaderLen + total_len <= len, meta);
    default: return DropReason::kNone;  // other protocols are routed on addresses alone
  }
}

}  // namespace asenet::dataplane

// Per-packet metadata: headers are parsed once, at the start of the pipeline,
// and every later stage reads this instead of the packet bytes.
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/core/drop_reason.hpp"
#include "dataplane/core/fabric.hpp"

namespace asenet::dataplane {

inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;

/// TCP header flags (RFC 9293).
inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;
inline constexpr uint16_t kEtherTypeArp = 0x0806;
inline constexpr uint32_t kEthHeaderLen = 14;

enum PacketFlags : uint8_t {
  kFlagFragment = 1 << 0,       ///< MF set or fragment offset non-zero
  kFlagLaterFragment = 1 << 1,  ///< fragment offset non-zero: no L4 header in it
  kFlagHasPorts = 1 << 2,       ///< sport/dport are valid (TCP, UDP, ICMP query id)
  kFlagIcmpError = 1 << 3,      ///< an ICMP error quoting a parseable IPv4 header (inner_* below)
  kFlagArpReply = 1 << 4,       ///< [l2] arp: an ARP request turned into the fabric's reply, sent back as is
};

enum class Verdict : uint8_t { kForward, kDrop };

/// How a packet related to the connection table.
enum class FlowState : uint8_t {
  kNone,         ///< not tracked (parse failure, a later fragment, an unrelated ICMP error)
  kNew,          ///< first packet: walked the slow path
  kEstablished,  ///< matched a flow in the initiator's direction
  kReply,        ///< matched a flow in the reply direction
  kRelated,      ///< an ICMP error about a packet of a known flow
};

struct Flow;

/// NSG rules evaluated for a new flow, in Azure's order (outbound NIC, outbound
/// subnet, inbound subnet, inbound NIC); the last one decided.
struct NsgVerdicts {
  std::array<uint32_t, 4> rule{};
  uint8_t count = 0;
};

struct PacketMeta {
  uint64_t now_ns = 0;  ///< injected clock: packet time (replay), TSC (live), fake (tests)
  uint64_t seq = 0;     ///< replay: index of the packet in merged input order
  uint32_t src_ip = 0;  ///< host byte order
  uint32_t dst_ip = 0;
  uint16_t sport = 0;  ///< TCP/UDP source port; ICMP echo identifier
  uint16_t dport = 0;  ///< TCP/UDP destination port; ICMP echo identifier
  uint16_t ip_total_len = 0;
  uint8_t l3_off = 0;  ///< offset of the IPv4 header in the frame
  uint8_t l4_off = 0;  ///< offset of the L4 header (valid unless a later fragment)
  uint8_t proto = 0;
  uint8_t ttl = 0;
  uint8_t flags = 0;
  uint8_t tcp_flags = 0;
  uint32_t tcp_seq = 0;
  uint32_t tcp_ack = 0;
  uint16_t tcp_payload = 0;  ///< bytes of TCP payload (0 for a fragment's first piece)
  uint8_t icmp_type = 0;
  uint8_t icmp_code = 0;
  uint16_t arp_op = 0;  ///< ARP opcode (1 request, 2 reply); src_ip/dst_ip = sender/target IP
  // The packet an ICMP error quotes (kFlagIcmpError): its header as sent.
  uint8_t inner_off = 0;  ///< offset of the quoted IPv4 header in the frame
  uint8_t inner_proto = 0;
  uint32_t inner_src = 0;
  uint32_t inner_dst = 0;
  uint16_t inner_sport = 0;  ///< TCP/UDP ports, or the echo identifier (both)
  uint16_t inner_dport = 0;
  Port in_port = Port::kInternet;
  Port out_port = Port::kInternet;
  Verdict verdict = Verdict::kForward;
  DropReason reason = DropReason::kNone;
  uint32_t next_hop = 0;  ///< index into the TableSet's next hops, set by the route stage
  bool routed = false;
  NextHop hop{};  ///< the next hop itself (a flow hit carries it from the flow)
  FlowState flow_state = FlowState::kNone;
  Flow* flow = nullptr;
  NsgVerdicts nsg{};
  bool todo = true;        ///< still needs its connection-table lookup
  bool slow = false;       ///< takes the slow path (route, NSG, install) in this pass
  bool trace_hit = false;  ///< live trace with a BPF filter: the frame as it arrived matched it
  // NAT: the packet leaves as new_src:new_sport -> new_dst:new_dport.
  bool rewrite = false;
  bool error_rewrite = false;  ///< an ICMP error: also translate the packet it quotes
  uint32_t new_src = 0;
  uint32_t new_dst = 0;
  uint16_t new_sport = 0;
  uint16_t new_dport = 0;
  // Slow path only: a SNAT port still to take (snat_stage), for which instance.
  bool snat_pending = false;
  bool hairpin = false;  ///< an instance calling a VIP: SNAT and DNAT both
  uint16_t snat_ase = 0;
  uint16_t snat_instance = 0;
  uint16_t snat_port = 0;  ///< taken: release it if the packet dies before install

  void drop(DropReason r) noexcept {
    verdict = Verdict::kDrop;
    reason = r;
  }
};

/// Parses Ethernet / ARP / IPv4 / TCP / UDP / ICMP from `frame` (the contiguous
/// first `len` bytes of the packet, `wire_len` bytes in all). Fills `meta` and
/// returns kNone, or the reason to drop (kArp for a well-formed IPv4-over-Ethernet
/// ARP, whose opcode and addresses are in `meta`). Any worker, no allocation.
DropReason parse_packet(const uint8_t* frame, uint32_t len, uint32_t wire_len, PacketMeta& meta) noexcept;

}  // namespace asenet::dataplane

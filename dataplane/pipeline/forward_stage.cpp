// forward_stage: makes each forwarded packet ready to leave: the next hop's
// MAC (static peers, or [l2] arp's neighbour table), NAT rewriting with
// incremental checksums, the TTL decrement, and the fabric's source MAC.
// Drop reasons: neighbor_unresolved ([l2] arp: the next hop's MAC not known
// yet; an ARP request has been sent).

#include "dataplane/pipeline/pipeline.hpp"

#include <rte_mbuf.h>

#include <cstring>

#include "dataplane/core/checksum.hpp"
#include "dataplane/pipeline/l2.hpp"
#include "dataplane/pipeline/nat_rewrite.hpp"

namespace asenet::dataplane {

void forward_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  const TableSpec& spec = ts.spec();
  for (uint16_t i = 0; i < b.count; ++i) {
    PacketMeta& m = b.meta[i];
    if (m.verdict != Verdict::kForward || (m.flags & kFlagArpReply) != 0) continue;
    const MacAddr* dst_mac = l2_destination(ctx, spec, m.out_port, m.rewrite ? m.new_dst : m.dst_ip, m.hop, m.now_ns);
    if (dst_mac == nullptr) {
      m.drop(DropReason::kNeighborUnresolved);
      continue;
    }
    uint8_t* frame = rte_pktmbuf_mtod(b.pkts[i], uint8_t*);
    if (m.error_rewrite) {
      rewrite_icmp_error(frame, m);
    } else if (m.rewrite) {
      rewrite_packet(frame, m);
    }
    if (spec.decrement_ttl) ipv4_decrement_ttl(frame + m.l3_off);  // TTL > 1: checked at parse
    std::memcpy(frame, dst_mac->bytes.data(), 6);
    std::memcpy(frame + 6, spec.fabric_mac.bytes.data(), 6);
  }
}

}  // namespace asenet::dataplane

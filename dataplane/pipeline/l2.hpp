// The fabric's L2 ([l2] arp): answering ARP for every address in the VNet
// with the fabric's MAC (as Azure's fabric does), learning senders into the
// worker's neighbour table, asking "who has" for a next hop it does not know
// yet, and the destination MAC of a packet leaving on a port. Drop reasons:
// arp (a request, reply, probe or announcement consumed here); the caller
// gives neighbor_unresolved when l2_destination has no MAC yet.
#pragma once

#include <cstdint>
#include <cstring>

#include "dataplane/pipeline/context.hpp"

namespace asenet::dataplane {

/// The sender's hardware address of a parsed ARP frame.
inline MacAddr arp_sender(const uint8_t* frame) noexcept {
  MacAddr sender{};
  std::memcpy(sender.bytes.data(), frame + kEthHeaderLen + 8, 6);
  return sender;
}

/// Learns the sender of an ARP packet; a request for any address but the
/// sender's own (a duplicate-address probe) is answered with the fabric's MAC.
/// The request's mbuf becomes the reply and goes back out of the port it came
/// in on; anything else is consumed (dropped as arp).
void answer_arp(rte_mbuf* mb, PacketMeta& m, const TableSpec& spec, WorkerContext& ctx) noexcept;

/// Asks "who has `ip`" on `port` (at most once a second per address).
void send_arp_request(WorkerContext& ctx, const TableSpec& spec, Port port, uint32_t ip, uint64_t now) noexcept;

/// The destination MAC of a packet leaving on `port` for `dst` by `hop`:
/// static peer MACs, or ([l2] arp) the neighbour table; nullptr when the
/// neighbour is not known yet (an ARP request has been sent).
inline const MacAddr* l2_destination(WorkerContext& ctx, const TableSpec& spec, Port port, uint32_t dst,
                                     const NextHop& hop, uint64_t now) noexcept {
  if (!spec.l2.arp || ctx.neighbors == nullptr) return &spec.peer_macs[static_cast<size_t>(port)];
  uint32_t ip = spec.l2.next_hop[static_cast<size_t>(port)];
  if (hop.type == NextHopType::kVirtualAppliance && hop.ip != 0) ip = hop.ip;
  if (ip == 0) ip = dst;
  if (const MacAddr* mac = ctx.neighbors->lookup(port, ip, now, spec.l2.neighbor_timeout_ns)) return mac;
  send_arp_request(ctx, spec, port, ip, now);
  return nullptr;
}

}  // namespace asenet::dataplane

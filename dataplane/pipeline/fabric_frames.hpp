// Frames the pipeline cuts or makes on the fabric's behalf: bytes past the
// IPv4 total length are cut off and a packet over the MTU with DF set is
// answered with ICMP fragmentation-needed (RFC 1191), both from parse_stage;
// and the LB's RSTs for ESTABLISHED flows that idle out (the flow table's
// idle hook). None drops anything itself (parse_stage counts mtu_exceeded).
#pragma once

#include <cstdint>

#include "dataplane/pipeline/context.hpp"

struct rte_mbuf;

namespace asenet::dataplane {

/// Cuts a frame to `len` bytes, freeing whole segments past it.
void trim_frame(rte_mbuf* m, uint32_t len) noexcept;

/// Answers a DF packet over spec.mtu with ICMP fragmentation-needed, back out
/// the port it came in on, to the sender's MAC (the previous hop), from the
/// fabric's address on that side: [l2] *_fabric_ip, else the sender's subnet
/// gateway (.1) on the VNet side, else the address the packet was sent to.
/// Sent at once and counted (icmp_frag_needed); nothing when no mbuf is free.
void send_frag_needed(rte_mbuf* mb, const PacketMeta& m, const TableSpec& spec, WorkerContext& ctx) noexcept;

/// FlowTable idle hook (arg: the WorkerContext): the LB's RST to both ends of
/// an ESTABLISHED flow that idled out (Standard LB enableTcpReset, 7.3), sent
/// at once and counted (resets_sent, resets_unsent).
void send_idle_resets(void* arg, const Flow& f) noexcept;

}  // namespace asenet::dataplane

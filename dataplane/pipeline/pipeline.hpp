// The packet pipeline: plain noexcept stages over a burst, then one emit().
// Stage order (docs/design/pipeline.md):
//   parse -> flow lookup -> [misses: route -> lb -> nsg -> snat -> nsg (hairpins)
//   -> install] -> forward -> emit
// A flow hit carries the whole cached action; only a flow's first packet walks
// the slow path. One stage per file, each opening with what it does and the
// drop reasons it gives:
//   parse_stage.cpp  stamp_burst, parse_stage   flow_stage.cpp    flow_stage, run_timers
//   route_stage.cpp  route_stage                lb_stage.cpp      lb_stage
//   nsg_stage.cpp    nsg_stage, nsg_tuple       snat_stage.cpp    snat_stage
//   install_stage.cpp install_stage             forward_stage.cpp forward_stage
//   emit_stage.cpp   emit, flow-log starts      trace.cpp         trace records
//                                               capture.cpp       live capture copies
// and beside them: context.hpp (Burst, WorkerContext, counters), stage_util.hpp
// (what several stages share), l2.{hpp,cpp} (ARP), nat_rewrite.hpp (header
// rewriting), fabric_frames.{hpp,cpp} (frames the fabric cuts or makes).
// Stages are called once per burst, so the split into files costs one call
// per stage and burst; what runs per packet across files is inline in headers.
#pragma once

#include <cstdint>

#include "dataplane/core/time.hpp"
#include "dataplane/pipeline/context.hpp"

namespace asenet::dataplane {

/// Fills meta[i].in_port, now_ns and seq for packets just received, and
/// prefetches every frame's headers for parse.
void stamp_burst(Burst& b, WorkerContext& ctx, const Port* in_ports) noexcept;

/// Parses headers; drops malformed packets and, when the fabric decrements the
/// TTL, packets that would expire (TTL 0 or 1).
void parse_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept;
/// Looks every packet still to do up in the connection table; hits take the
/// flow's cached action and update its TCP state and timer; misses are marked
/// for the slow path. Returns true when some misses were deferred because an
/// earlier miss of the same burst shares their tuple (run the stages again).
bool flow_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept;
/// Routes packets that are still alive and did not hit a flow.
void route_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept;
/// Frontends (VIP, ILB): port match, Maglev backend, DNAT; marks SNAT for
/// instances calling the Internet or a VIP.
void lb_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept;
/// Evaluates the NSGs on a new flow's path: one 4-category rte_acl classify
/// for all levels, or (with NAT) outbound levels on the original addresses
/// and inbound ones on the translated. `hairpin_pass`: only the inbound levels
/// of VIP hairpins, once their SNAT port is known.
void nsg_stage(Burst& b, const TableSet& ts, WorkerContext& ctx, bool hairpin_pass = false) noexcept;
/// Takes a SNAT port for every new flow that needs one.
void snat_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept;
/// Installs a flow for every allowed new flow (both directions' actions).
void install_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept;
void forward_stage(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept;
/// Sends forwarded packets per port in bulk, frees drops, counts, traces.
void emit(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept;

/// Runs the worker's flow timers up to `now`, attributing what they make to
/// input packet `seq` (replay clock ticks).
void run_timers(WorkerContext& ctx, const TableSet& ts, uint64_t now, uint64_t seq) noexcept;

/// All stages in order over packets of one capture second (process_burst).
inline void process_group(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  parse_stage(b, ts, ctx);
  bool again;
  do {  // a second pass only when a burst holds a new flow and its reply
    again = flow_stage(b, ts, ctx);
    if (b.slow == 0) continue;  // every packet hit its flow: nothing for the slow stages
    route_stage(b, ts, ctx);
    lb_stage(b, ts, ctx);
    nsg_stage(b, ts, ctx);
    snat_stage(b, ts, ctx);
    nsg_stage(b, ts, ctx, true);
    install_stage(b, ts, ctx);
  } while (again);
  forward_stage(b, ts, ctx);
  emit(b, ts, ctx);
}

/// All stages in order. Any worker, lock-free, no allocation. A burst that
/// spans capture seconds runs one second at a time, so timers fire at the same
/// packet whatever the burst boundaries (replay stays deterministic).
inline void process_burst(Burst& b, const TableSet& ts, WorkerContext& ctx) noexcept {
  // Packet times never go down within a burst: one compare against the end of
  // the first packet's second tells whether it spans more.
  const uint64_t second_end = (b.meta[0].now_ns / kNsPerSecond + 1) * kNsPerSecond;
  const bool one_second = b.meta[b.count - 1].now_ns < second_end;
  if (one_second) {
    process_group(b, ts, ctx);
    return;
  }
  Burst g;
  uint16_t i = 0;
  while (i < b.count) {
    const uint64_t second = b.meta[i].now_ns / kNsPerSecond;
    g.count = 0;
    for (; i < b.count && b.meta[i].now_ns / kNsPerSecond == second; ++i) {
      g.pkts[g.count] = b.pkts[i];
      g.meta[g.count++] = b.meta[i];
    }
    process_group(g, ts, ctx);
  }
  b.count = 0;
}

/// Live, several workers: what another worker's ARP packet (a copy) teaches
/// this worker's neighbour table ([l2] arp); nothing is answered or sent.
void learn_from_arp(const rte_mbuf* m, Port side, const TableSpec& spec, WorkerContext& ctx) noexcept;

/// The NSG view of a packet: ports only for TCP and UDP.
FiveTuple nsg_tuple(const PacketMeta& m) noexcept;

}  // namespace asenet::dataplane

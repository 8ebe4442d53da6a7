// What one worker owns and every stage is handed: the burst it works on, its
// context (tables, clock, sinks, counters) and the wiring of its tables into
// it. No stage shares anything with another worker.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "dataplane/core/drop_reason.hpp"
#include "dataplane/core/packet.hpp"
#include "dataplane/core/time.hpp"
#include "dataplane/flow/flow_log.hpp"
#include "dataplane/flow/flow_table.hpp"
#include "dataplane/flow/neighbors.hpp"
#include "dataplane/flow/snat.hpp"
#include "dataplane/pipeline/capture.hpp"
#include "dataplane/pipeline/probe.hpp"
#include "dataplane/pipeline/trace.hpp"
#include "dataplane/tables/table_set.hpp"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace asenet::dataplane {

inline constexpr uint16_t kBurstSize = 32;

struct Burst {
  std::array<rte_mbuf*, kBurstSize> pkts{};
  std::array<PacketMeta, kBurstSize> meta{};
  uint16_t count = 0;
  uint16_t slow = 0;  ///< packets flow_stage sent down the slow path (route .. install) in this pass
};

struct alignas(64) WorkerCounters {
  std::array<uint64_t, kNumPorts> rx{};
  std::array<uint64_t, kNumPorts> tx{};
  uint64_t forwarded = 0;      ///< input packets that left on some port
  uint64_t handed_off = 0;     ///< live, several workers: received here, processed by the owning worker
  uint64_t handed_in = 0;      ///< live, several workers: received by another worker, processed here
  uint64_t peer_sent = 0;      ///< a pool: received here, sent to the node that owns the connection
  uint64_t peer_received = 0;  ///< a pool: sent here by another node (processed here or handed to a worker)
  uint64_t peer_dropped = 0;   ///< a pool: to send to a node, but its link was down or full
  uint64_t peer_refused = 0;   ///< a pool: from a peer link, not a peer frame, or a pool of other shape, or not ours
  uint64_t peer_asked = 0;     ///< a pool, after a membership change: sent to a moved connection's previous owner
  uint64_t peer_returned = 0;  ///< a pool: asked as the previous owner, not held here, sent back to the owner
  uint64_t flows_created = 0;
  uint64_t flows_hit = 0;
  uint64_t resets_sent = 0;       ///< RSTs the LB sent for flows that idled out (tcp_reset)
  uint64_t resets_unsent = 0;     ///< RSTs not sent: no mbuf (mempool exhausted) or the queue was full
  uint64_t arp_replies = 0;       ///< [l2] ARP requests the fabric answered
  uint64_t arp_requests = 0;      ///< [l2] ARP requests the fabric sent to resolve a next hop
  uint64_t icmp_frag_needed = 0;  ///< ICMP fragmentation-needed the fabric sent for DF packets over the MTU
  uint64_t busy_cycles = 0;       ///< live: TSC cycles of polls that found packets (and the work on them)
  uint64_t idle_cycles = 0;       ///< live: TSC cycles of empty polls, and of sleeping (--idle-sleep)
  std::array<uint64_t, static_cast<size_t>(DropReason::kCount)> drops{};
  /// snat_exhausted drops per instance, indexed like TableSpec::ase_instances.
  std::array<uint64_t, 256> snat_exhausted{};
};

enum class ClockMode : uint8_t {
  kTsc,              ///< live: rte_rdtsc scaled to ns, read once per burst
  kPacketTimestamp,  ///< replay: the mbuf's timestamp dynfield (the capture's time)
  kFake,             ///< tests: WorkerContext::fake_now_ns
};

/// Everything one worker owns. Passed by reference into every stage; never shared.
struct WorkerContext {
  unsigned worker_id = 0;
  std::array<uint16_t, kNumPorts> tx_port_id{};  ///< DPDK port id of each side
  uint16_t tx_queue = 0;
  ClockMode clock = ClockMode::kTsc;
  uint64_t fake_now_ns = 0;
  uint64_t tsc_hz = 1;
  int ts_dynfield = -1;   ///< offset of the timestamp dynfield (kPacketTimestamp)
  int seq_dynfield = -1;  ///< offset of the sequence dynfield, or -1 (live: counted here)
  uint64_t next_seq = 0;
  FlowTable* flows = nullptr;  ///< this worker's connection table (nullptr: stateless)
  SnatTable* snat = nullptr;   ///< this worker's SNAT ports (nullptr: no SNAT, flows to the Internet keep their source)
  RuleTally* rules = nullptr;  ///< bytes and packets per NSG rule (nullptr: not counted)
  RuleSet* rule_sets = nullptr;  ///< rules->sets(): where a hit counts (Flow::rule_set indexes it)
  rte_mempool* pool = nullptr;   ///< for packets the worker makes itself (the LB's idle resets)
  // While timers run (FlowTable::advance): the tables, and the packet at whose
  // time they run, which generated packets are attributed to.
  const TableSet* timer_tables = nullptr;
  uint64_t timer_seq = 0;
  uint64_t timer_ns = 0;
  /// Tracing on when set (replay sets it before start; live arms and disarms
  /// it from the control thread).
  std::atomic<TraceSink*> trace{nullptr};
  /// A live capture of one side when set (asenetctl capture; control thread).
  std::atomic<CaptureSink*> capture{nullptr};
  /// NSG flow log events (nullptr: off). Set before the worker starts, with
  /// the same sink in its WorkerTables' FlowEndHook.
  FlowLogSink* flow_log = nullptr;
  /// [l2] arp: this worker's neighbour table (nullptr: static peer MACs).
  NeighborTable* neighbors = nullptr;
  NeighborHandoff* neighbor_copy = nullptr;  ///< answered once a loop iteration (worker_main)
  /// asenetd's probe engine: where answers to its health probes go (nullptr: none sent).
  ProbeReplySink* probe_replies = nullptr;
  /// Frames the control thread made (health probes) for this worker to send:
  /// mbuf->port is the side. Single producer, this worker the consumer.
  rte_ring* control_tx = nullptr;
  WorkerCounters counters{};
  /// Highest seq this worker has completely finished (emitted or dropped); the
  /// replay reader orders output by it. Written release, read acquire.
  std::atomic<uint64_t> done_seq{0};
  std::atomic<bool> done_any{false};
};

/// The live clock: TSC cycles as nanoseconds (split so it cannot overflow:
/// whole seconds, then the remainder).
constexpr uint64_t tsc_to_ns(uint64_t cycles, uint64_t hz) noexcept {
  return (cycles / hz) * kNsPerSecond + ((cycles % hz) * kNsPerSecond) / hz;
}

/// A worker's tables wired into its context: connection table, SNAT ports,
/// neighbours, the mbuf pool for packets it makes, the LB's idle resets.
void attach_worker_tables(WorkerContext& ctx, WorkerTables& tables, rte_mempool* pool) noexcept;
/// Turns flow log events on for a worker: the pipeline's and its tables'
/// flow-end hook's sink are one and the same.
void set_flow_log(WorkerContext& ctx, WorkerTables& tables, FlowLogSink* sink) noexcept;

/// A frame the fabric made (ARP, an idle reset, ICMP, a probe) about to be
/// sent on `side`: a live capture of that side gets it too.
inline void capture_made(WorkerContext& ctx, size_t side, rte_mbuf* m, uint64_t now_ns) noexcept {
  if (CaptureSink* cap = ctx.capture.load(std::memory_order_acquire);
      cap != nullptr && static_cast<size_t>(cap->port) == side)
    capture_frames(&m, 1, true, now_ns, ctx.worker_id, *cap);
}

/// mbuf->port of a packet the fabric made itself (an idle reset), so that
/// replay can order it before the input packet it is attributed to.
inline constexpr uint16_t kMadeByFabric = 0xfffe;

}  // namespace asenet::dataplane

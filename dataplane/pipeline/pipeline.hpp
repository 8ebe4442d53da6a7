// The packet pipeline: plain noexcept stages over a burst, then one emit().
// Stage order (docs/design/pipeline.md):
//   parse -> flow lookup -> [misses: route -> nsg -> install] -> forward -> emit
// A flow hit carries the whole cached action; only a flow's first packet walks
// the slow path. Later stages (LB before route, NAT after nsg) slot in there.
#pragma once

#include "dataplane/core/time.hpp"

#include <array>
#include <atomic>
#include <cstdint>

#include "dataplane/flow/flow_log.hpp"
#include "dataplane/flow/flow_table.hpp"
#include "dataplane/flow/neighbors.hpp"
#include "dataplane/flow/snat.hpp"
#include "dataplane/core/drop_reason.hpp"
#include "dataplane/core/packet.hpp"
#include "dataplane/pipeline/probe.hpp"
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

/// What one packet did, for `--trace` (replay) and `asenetctl trace` (live).
struct TraceRecord {
  uint64_t seq = 0;
  uint64_t now_ns = 0;
  unsigned worker = 0;
  // The packet as it arrived.
  uint32_t src = 0, dst = 0;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
  uint8_t tcp_flags = 0;
  uint16_t length = 0;  ///< IPv4 total length (0 when not parsed)
  Port in_port = Port::kInternet;
  Verdict verdict = Verdict::kDrop;
  Port out_port = Port::kInternet;
  DropReason reason = DropReason::kNone;
  bool routed = false;
  NextHop next_hop{};
  FlowState flow = FlowState::kNone;
  NsgVerdicts nsg{};
  bool rewrite = false;  ///< NAT: the packet's addresses after translation below
  uint32_t new_src = 0, new_dst = 0;
  uint16_t new_sport = 0, new_dport = 0;
};

/// Which packets a live trace keeps: those matching every field given.
struct TraceFilter {
  uint8_t ports = 0x7;  ///< bit per entry side
  bool match_src = false, match_dst = false, match_sport = false, match_dport = false, match_proto = false;
  uint32_t src = 0, dst = 0;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
  [[nodiscard]] bool matches(const PacketMeta& m) const noexcept {
    return (ports >> static_cast<unsigned>(m.in_port) & 1) != 0 && (!match_src || m.src_ip == src) &&
           (!match_dst || m.dst_ip == dst) && (!match_sport || m.sport == sport) &&
           (!match_dport || m.dport == dport) && (!match_proto || m.proto == proto);
  }
};

/// Where trace records go when tracing is on. nullptr in WorkerContext =
/// tracing off, no cost beyond one load per burst.
/// Replay: a window of slots indexed by the packet's sequence number
/// (seq & mask); the reader guarantees no two packets in flight share a slot.
/// Live (`live`): a ring this worker alone writes, in order, the packets that
/// match `filter` while the shared `budget` lasts; `head` counts records
/// written (release), the control thread reads behind it and drops what it
/// was too slow for.
struct TraceSink {
  TraceRecord* slots = nullptr;
  uint64_t mask = 0;
  bool live = false;
  TraceFilter filter{};
  std::atomic<int64_t>* budget = nullptr;
  alignas(64) std::atomic<uint64_t> head{0};
};

struct alignas(64) WorkerCounters {
  std::array<uint64_t, kNumPorts> rx{};
  std::array<uint64_t, kNumPorts> tx{};
  uint64_t forwarded = 0;   ///< input packets that left on some port
  uint64_t handed_off = 0;  ///< live, several workers: received here, processed by the owning worker
  uint64_t handed_in = 0;   ///< live, several workers: received by another worker, processed here
  uint64_t flows_created = 0;
  uint64_t flows_hit = 0;
  uint64_t resets_sent = 0;       ///< RSTs the LB sent for flows that idled out (tcp_reset)
  uint64_t resets_unsent = 0;     ///< RSTs not sent: no mbuf (mempool exhausted) or the queue was full
  uint64_t arp_replies = 0;       ///< [l2] ARP requests the fabric answered
  uint64_t arp_requests = 0;      ///< [l2] ARP requests the fabric sent to resolve a next hop
  uint64_t icmp_frag_needed = 0;  ///< ICMP fragmentation-needed the fabric sent for DF packets over the MTU
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
  rte_mempool* pool = nullptr;  ///< for packets the worker makes itself (the LB's idle resets)
  // While timers run (FlowTable::advance): the tables, and the packet at whose
  // time they run, which generated packets are attributed to.
  const TableSet* timer_tables = nullptr;
  uint64_t timer_seq = 0;
  uint64_t timer_ns = 0;
  /// Tracing on when set (replay sets it before start; live arms and disarms
  /// it from the control thread).
  std::atomic<TraceSink*> trace{nullptr};
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

/// Fills meta[i].in_port, now_ns and seq for packets just received.
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

/// mbuf->port of a packet the fabric made itself (an idle reset), so that
/// replay can order it before the input packet it is attributed to.
inline constexpr uint16_t kMadeByFabric = 0xfffe;

/// Runs the worker's flow timers up to `now`, attributing what they make to
/// input packet `seq` (replay clock ticks).
void run_timers(WorkerContext& ctx, const TableSet& ts, uint64_t now, uint64_t seq) noexcept;

/// FlowTable idle hook (arg: the WorkerContext): the LB's RST to both ends of
/// an ESTABLISHED flow that idled out (Standard LB enableTcpReset, 7.3).
void send_idle_resets(void* arg, const Flow& f) noexcept;

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

// LiveDataplane: what asenetd's control thread does to the running data plane:
// publish generations (push, health), read counters (stats, telemetry) and run
// live traces. Control thread only, except telemetry_copy() (any thread).
//
// Ownership: asenetd's main() owns the ports, the mbuf pool, the workers'
// contexts and tables; this class borrows them for the life of the process.
#pragma once

#include <rte_cycles.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "control/model/packet_filter.hpp"
#include "control/report/flow_logs.hpp"
#include "control/report/stats.hpp"
#include "control/report/summary.hpp"
#include "dataplane/flow/snat.hpp"
#include "dataplane/pipeline/pipeline.hpp"
#include "dataplane/runtime/handover.hpp"

struct rte_mempool;
struct rte_ring;

namespace asenet::control {

/// The live clock in ns (the TSC, as the workers read it).
inline uint64_t tsc_now_ns() { return dataplane::tsc_to_ns(rte_rdtsc(), rte_get_tsc_hz()); }

/// A membership change a push carries (bit sets; members 0: unchanged):
/// the pool's members from the commit on, and those before it (0: this
/// node's live ones), whose owners are asked for one idle timeout of the
/// new generation where a slot moves (pool_map.hpp).
struct PoolChange {
  uint32_t members = 0;
  uint32_t previous = 0;
};

class LiveDataplane {
 public:
  LiveDataplane(dataplane::TableHandover& handover, std::vector<std::unique_ptr<dataplane::WorkerContext>>& ctxs,
                std::vector<dataplane::WorkerTables>& tables, std::array<uint16_t, dataplane::kNumPorts> ports,
                rte_mempool* pool);

  /// `generation` counts what was pushed (the first topology is 1, each
  /// push adds one); `health_epoch` counts health changes (asenetctl health
  /// and the probes), which publish new tables too but are no new generation.
  struct PublishResult {
    uint64_t generation = 0;
    uint64_t previous = 0;
    uint64_t health_epoch = 0;
    size_t acl_rules = 0;
    double build_ms = 0;
    double swap_ms = 0;     ///< publish until every worker passed a quiescent point
    std::string spec_hash;  ///< push, prepare, commit: the spec's (wire::spec_hash)
  };
  /// Builds `spec` (health overrides re-applied) as the next generation and
  /// publishes it. On failure the running generation is untouched.
  /// `map`: the pool's owners from this generation on (null: they stay).
  bool publish(dataplane::TableSpec spec, PublishResult& out, std::string& error,
               std::shared_ptr<const dataplane::PoolMap> map = nullptr);
  /// The first generation (asenetd --topology): publish() and its spec hash.
  bool start(dataplane::TableSpec spec, PublishResult& out, std::string& error);
  /// publish(), counted as a push (stats: pushes, pushes_failed).
  bool push(dataplane::TableSpec spec, PublishResult& out, std::string& error, PoolChange members = {});

  /// A push to a pool of nodes in two phases (asenetctl push --socket A
  /// --socket B, pool_push.cpp). prepare() builds `spec` and keeps it staged
  /// under `token`, publishing nothing (out.previous: this node's generation);
  /// commit() publishes what was staged as `generation` (the controller's
  /// choice, above every node's, so that all end on one number) and
  /// abort_staged() drops it. One staged push at a time: a new prepare
  /// replaces an older one, and one left kStagedTtl uncommitted is dropped.
  bool prepare(dataplane::TableSpec spec, const std::string& token, PublishResult& out, std::string& error,
               PoolChange members = {});
  bool commit(const std::string& token, uint64_t generation, PublishResult& out, std::string& error);
  bool abort_staged(const std::string& token);
  /// Drops a staged push older than kStagedTtl (control loop).
  void expire_staged();
  static constexpr std::chrono::seconds kStagedTtl{60};
  /// The live generation's spec as pushed (health overrides and the
  /// generation number left out), hashed: nodes given the same topology show
  /// the same hash (stats spec_hash).
  [[nodiscard]] const std::string& spec_hash() const noexcept { return spec_hash_; }
  /// Marks an instance up or down (a new generation with its Maglev rebuilt);
  /// the change outlives later pushes until changed again.
  bool set_health(const std::string& ase, uint32_t instance, bool up, PublishResult& out, std::string& error);

  [[nodiscard]] StatsSnapshot snapshot() const;
  /// This node's number in its pool and the pool's size (asenetd --node,
  /// --peer); a pool starts with every node a member (pool_map.hpp). Before start().
  void set_pool(unsigned node, unsigned nodes) {
    node_ = node;
    nodes_ = nodes;
    if (nodes > 1)
      pool_map_ =
          std::make_shared<dataplane::PoolMap>(dataplane::PoolMap::full(nodes, static_cast<unsigned>(ctxs_.size())));
  }
  /// The members a push names (its header's "members": node numbers), as a
  /// bit set; false with `error` when this node is no pool or a number is
  /// not one of its nodes. 0: the push names none (the members stay).
  bool parse_members(const std::vector<unsigned>& nodes, uint32_t& members, std::string& error) const;
  /// The pushed generation live (PublishResult) and the health epoch.
  [[nodiscard]] uint64_t generation() const noexcept { return generation_; }
  [[nodiscard]] uint64_t health_epoch() const noexcept { return health_changes_; }
  /// Asks every worker for a copy of its neighbour table and takes the copies
  /// (waiting at most 50 ms; a worker that did not answer keeps its last copy).
  /// snapshot() and the probes read these copies, never the workers' tables.
  void refresh_neighbors();
  /// The neighbours of every worker's last copy, for the snapshot.
  void neighbor_figures(StatsSnapshot& s, const dataplane::TableSpec& sp) const;
  /// Control thread: refreshes the copy telemetry reads.
  void refresh_telemetry();
  /// Any thread (the telemetry thread): the last refreshed snapshot.
  [[nodiscard]] StatsSnapshot telemetry_copy() const;

  /// What `asenetctl trace` asks for: the next `count` packets matching
  /// `filter` and, when `bpf` is not empty, that tcpdump expression (on the
  /// frame as it arrived); with `both_directions`, their connections' replies too.
  struct TraceRequest {
    uint64_t count = 0;
    dataplane::TraceFilter filter{};
    std::string bpf;
    bool both_directions = false;
  };
  /// Arms a trace on every worker; false with a message when refused.
  bool trace_start(const TraceRequest& req, std::string& error);
  /// Collects the records written since the last call as trace.jsonl lines
  /// (ordered by time). `finished` once `count` were traced and collected.
  void trace_collect(std::vector<std::string>& lines, bool& finished);
  /// Disarms; returns {traced, lost}.
  std::pair<uint64_t, uint64_t> trace_stop();
  [[nodiscard]] bool tracing() const noexcept { return trace_active_; }

  /// What `asenetctl capture` asks for: `count` frames of side `port`,
  /// received and/or sent, matching `filter` (tcpdump's language) if given.
  struct CaptureRequest {
    dataplane::Port port = dataplane::Port::kInternet;
    uint64_t count = 0;
    std::string filter;
    bool inbound = true, outbound = true;
    uint16_t snaplen = 0;
  };
  static constexpr uint16_t kCaptureSnapMax = 16384;
  /// Arms a capture on every worker; false with a message when refused.
  bool capture_start(const CaptureRequest& req, std::string& error);
  /// The frames copied since the last call, as one batch of records
  /// (live_capture.cpp); `finished` once `count` were captured or lost.
  void capture_collect(std::string& batch, bool& finished);
  /// Disarms and frees the rings; returns {captured, lost}.
  std::pair<uint64_t, uint64_t> capture_stop();
  [[nodiscard]] bool capturing() const noexcept { return capture_active_; }

  /// NSG flow logs into `dir` (asenetd --flow-logs). Before the workers start.
  void enable_flow_logs(const std::string& dir);
  /// Control loop: collects flow log events, writes every minute that ended
  /// over two minutes ago (`final`: everything). False with `error` on a write failure.
  bool pump_flow_logs(bool final, std::string& error);

  /// Active health probes (ASEs with probe_port): made here, from
  /// 168.63.129.16, and handed to worker 0 through its control ring (DPDK TX
  /// queues belong to one thread each). Before the workers start.
  bool enable_probes(std::string& error);
  /// Control loop: sends due probes, reads answers, marks instances down or up.
  void probe_tick();

  void note_control(uint64_t rejected, uint64_t malformed) noexcept {
    control_rejected_ = rejected;
    control_malformed_ = malformed;
  }
  void note_push_failed() noexcept { ++pushes_failed_; }
  /// The live generation's spec (control thread; valid until the next publish).
  [[nodiscard]] const dataplane::TableSpec& spec() const noexcept { return handover_.acquire()->spec(); }

 private:
  dataplane::TableHandover& handover_;
  std::vector<std::unique_ptr<dataplane::WorkerContext>>& ctxs_;
  std::vector<dataplane::WorkerTables>& tables_;
  std::array<uint16_t, dataplane::kNumPorts> ports_;
  rte_mempool* pool_;
  unsigned node_ = 0, nodes_ = 1;
  std::shared_ptr<const dataplane::PoolMap> pool_map_;  ///< a pool's owners, attached to every TableSet published
  /// The map `change` gives (null: the live one stays), its window one idle timeout of `spec`.
  std::shared_ptr<const dataplane::PoolMap> map_for(PoolChange change, const dataplane::TableSpec& spec) const;
  RuleHits retired_hits_;                                    ///< rule hits of generations no longer live
  std::map<std::pair<std::string, uint32_t>, bool> health_;  ///< live overrides
  uint64_t pushes_ = 0, pushes_failed_ = 0, health_changes_ = 0;
  uint64_t generation_ = 1;  ///< pushed: 1 for the first topology, then one more a push (or a pool's number)
  std::string spec_hash_;
  struct Staged {
    std::string token;
    dataplane::TableSpec spec;                    ///< as pushed (a commit after a health change rebuilds it)
    std::unique_ptr<dataplane::TableSet> tables;  ///< built at prepare
    uint64_t version = 0;                         ///< the tables version it was built on
    std::string hash;
    PoolChange members;  ///< the pool's members from the commit on
    std::chrono::steady_clock::time_point at;
  };
  std::unique_ptr<Staged> staged_;
  /// The next tables for `spec` (health overrides applied), or null with `error`.
  std::unique_ptr<dataplane::TableSet> build_next(dataplane::TableSpec& spec, PublishResult& out, std::string& error);
  /// Publishes `next` (built by build_next at t0) and fills `out`.
  void install(std::unique_ptr<dataplane::TableSet> next, std::chrono::steady_clock::time_point t0, PublishResult& out,
               std::shared_ptr<const dataplane::PoolMap> map = nullptr);
  uint64_t control_rejected_ = 0, control_malformed_ = 0;
  std::vector<std::vector<dataplane::Neighbor>> neighbor_copies_;  ///< per worker, from refresh_neighbors()
  uint64_t neighbors_at_ns_ = 0;

  // Live trace: one ring per worker.
  static constexpr uint64_t kTraceRing = 4096;
  std::vector<std::vector<dataplane::TraceRecord>> trace_rings_;
  std::vector<std::unique_ptr<dataplane::TraceSink>> trace_sinks_;
  std::vector<uint64_t> trace_tail_;
  std::atomic<int64_t> trace_budget_{0};
  uint64_t trace_count_ = 0, trace_emitted_ = 0, trace_lost_ = 0;
  bool trace_active_ = false;
  std::unique_ptr<PacketFilter> trace_filter_;  ///< --filter's program while a trace runs
  /// `expr` compiled into `out` (none when empty); false with a message.
  static bool arm_filter(const std::string& expr, std::unique_ptr<PacketFilter>& out, std::string& error);

  // Live capture: one ring per worker, allocated while a capture runs.
  static constexpr uint64_t kCaptureRing = 4096;
  std::vector<std::vector<uint8_t>> capture_rings_;
  std::vector<std::unique_ptr<dataplane::CaptureSink>> capture_sinks_;
  std::vector<uint64_t> capture_tail_;
  std::atomic<int64_t> capture_budget_{0};
  uint64_t capture_count_ = 0, captured_ = 0, capture_lost_ = 0;
  uint32_t capture_stride_ = 0;
  int64_t capture_wall_offset_ns_ = 0;
  bool capture_active_ = false;
  std::unique_ptr<PacketFilter> capture_filter_;

  // NSG flow logs: one event ring per worker (never blocks a live worker).
  static constexpr uint64_t kFlowLogRing = 1u << 16;
  static constexpr uint64_t kFlowLogGraceNs =
      5 * dataplane::kNsPerSecond;  ///< a minute is written this long after it ends
  std::vector<std::vector<dataplane::FlowLogEvent>> flow_log_rings_;
  std::vector<std::unique_ptr<dataplane::FlowLogSink>> flow_log_sinks_;
  std::unique_ptr<FlowLogWriter> flow_log_writer_;
  void drain_flow_logs(const dataplane::TableSet* retired);

  // Active health probes.
  struct Probe {
    StatsSnapshot::ProbeFigures fig;
    uint64_t next_ns = 0;
    bool pending = false;
    uint16_t sport = 0;
    uint32_t seq = 0;
    uint64_t sent_ns = 0;
    bool request_sent = false;  ///< HTTP: the GET is out, the status line awaited
    uint32_t request_len = 0;
    uint32_t fails = 0, succs = 0;  ///< consecutive
  };
  std::vector<Probe> probes_;
  uint64_t probes_generation_ = 0;
  std::vector<std::unique_ptr<dataplane::ProbeReplySink>> probe_sinks_;
  rte_ring* probe_tx_ = nullptr;
  uint16_t next_probe_sport_ = 0;
  void probe_result(Probe& p, bool ok, const char* why, uint64_t now);
  void refresh_probe_list(uint64_t now);
  void answer_probe(Probe& p, const dataplane::ProbeReply& r, uint64_t now);
  void send_probe(Probe& p, uint64_t now);
  bool send_frame(const uint8_t* frame, size_t len);
  /// The MAC of a VNet address: the fixed peer MAC, or ([l2] arp) what a
  /// worker learned; nullptr when none knows it.
  const dataplane::MacAddr* vnet_mac(uint32_t ip, uint64_t now) const;

  // The parts of snapshot().
  void port_figures(StatsSnapshot& s, const dataplane::WorkerCounters& total) const;
  void worker_figures(StatsSnapshot& s) const;
  void instance_figures(StatsSnapshot& s, const dataplane::TableSpec& sp, const dataplane::WorkerCounters& total) const;
  void memory_figures(StatsSnapshot& s) const;

  /// Bytes and packets per rule: snapshot() folds what the workers gave back.
  mutable RuleTotals rule_totals_;

  mutable std::mutex telemetry_mu_;
  StatsSnapshot telemetry_;
};

}  // namespace asenet::control

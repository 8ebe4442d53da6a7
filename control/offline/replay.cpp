// asenetctl replay: the real data plane (EAL, mbufs, ring PMD ports, worker
// lcores, the same worker loop as asenetd) over pcap files, on packet time.
// The inputs (replay_inputs.cpp) are read here on the main lcore, copied into
// mbufs, stamped with their capture time and sequence number and steered to
// their worker; the outputs come back on rings and are written in input
// order (replay_writer.cpp). Rule changes (--apply) fall at a fixed packet.
#include "control/offline/replay.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "control/offline/replay_inputs.hpp"
#include "control/offline/replay_writer.hpp"
#include "control/report/flow_logs.hpp"
#include "control/report/progress.hpp"
#include "control/report/summary.hpp"
#include "dataplane/core/time.hpp"
#include "dataplane/ports/peer_link.hpp"
#include "dataplane/ports/ports.hpp"
#include "dataplane/runtime/handover.hpp"
#include "dataplane/runtime/worker.hpp"
#include "protocol/json.hpp"

namespace asenet::control {

using namespace asenet::dataplane;

namespace {

// Packets in flight between the reader and the writer. Outputs are written in
// input order, so the window bounds what is held while a slow worker catches up.
constexpr uint64_t kWindow = 4096;
constexpr unsigned kRingSize = 8192;  // > kWindow: the rings can never be full
constexpr uint64_t kFlowLogRing = 1u << 16;

/// One replay, once EAL runs: its data plane, the feeding loop and the report.
class Replay {
 public:
  Replay(const ReplayOptions& opt, Generations& g, Captures& caps)
      : opt_(opt),
        g_(g),
        caps_(caps),
        spec_(g.first),
        handover_(opt.workers),
        flow_log_writer_(opt.out_dir + "/flowlogs") {}
  Replay(const Replay&) = delete;
  Replay& operator=(const Replay&) = delete;

  /// 0 completed, 1 a runtime failure, 2 a capture that could not be read.
  int run();

 private:
  bool make_buffers();
  bool make_workers();
  void launch_workers();
  void cross_to_owner(rte_mbuf* head, Port side, unsigned w, const uint8_t* frame, uint32_t len);
  void push_batch(unsigned w);
  [[nodiscard]] int64_t finished_bound() const;
  void collect_outputs();
  void service();
  void drain_flow_logs();
  void finish_in_flight();
  void apply_due(uint64_t t);
  rte_mbuf* copy_in(const Capture& c);
  rte_mbuf* alloc_waiting();
  void tick_others(unsigned w, uint64_t t, uint64_t seq);
  void feed();
  [[nodiscard]] std::string summary_json(const WorkerCounters& total, uint64_t dropped);
  void print_summary(const WorkerCounters& total, uint64_t dropped) const;
  int report();

  const ReplayOptions& opt_;
  Generations& g_;
  Captures& caps_;
  TableSpec spec_;  ///< the generation running now
  std::string err_;

  rte_mempool* pool_ = nullptr;
  int ts_off_ = -1, seq_off_ = -1;
  uint64_t ts_flag_ = 0;
  ReplayPorts ports_;
  TableHandover handover_;
  std::unique_ptr<ReplayWriter> writer_;
  TraceSink sink_{};
  std::vector<std::unique_ptr<WorkerContext>> ctxs_;
  std::vector<WorkerTables> worker_tables_;
  std::vector<WorkerSetup> setups_;
  std::vector<PoolMembership> nodes_;  ///< --nodes: each node's place in the pool
  uint64_t crossings_ = 0;             ///< --nodes: packets that reached a node other than their owner
  std::atomic<bool> stop_{false};

  // NSG flow logs: only when some generation has an NSG with flow logs on.
  // The rings block when full (the reader drains them), so no event is lost.
  bool flow_logs_ = false;
  std::vector<std::vector<FlowLogEvent>> flow_log_rings_;
  std::vector<std::unique_ptr<FlowLogSink>> flow_log_sinks_;
  FlowLogWriter flow_log_writer_;

  std::array<uint64_t, kNumPorts> in_by_side_{};
  uint64_t next_seq_ = 0;
  std::vector<int64_t> first_enq_, last_enq_;  ///< per worker: first and last seq given to it
  std::vector<std::array<rte_mbuf*, kBurstSize>> batch_;
  std::vector<unsigned> batch_n_;
  uint64_t last_second_ = UINT64_MAX;
  RuleHits retired_hits_;
  size_t next_apply_ = 0;
  uint64_t first_ns_ = UINT64_MAX;
  uint64_t last_ns_ = 0;  ///< the last packet's time: the replay's clock at its end
  double elapsed_s_ = 0;  ///< feeding the inputs until the last packet was finished
};

bool Replay::make_buffers() {
  pool_ = rte_pktmbuf_pool_create("replay_pool", 2 * kWindow + 4096, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  rte_mbuf_dynfield seq_desc{};
  std::snprintf(seq_desc.name, sizeof seq_desc.name, "asenet_dynfield_seq");
  seq_desc.size = sizeof(uint64_t);
  seq_desc.align = alignof(uint64_t);
  if (pool_ == nullptr || rte_mbuf_dyn_rx_timestamp_register(&ts_off_, &ts_flag_) != 0 ||
      (seq_off_ = rte_mbuf_dynfield_register(&seq_desc)) < 0) {
    std::cerr << "asenetctl replay: cannot allocate mbufs: " << rte_strerror(rte_errno) << "\n";
    return false;
  }
  if (!create_replay_ports(opt_.workers, kRingSize, pool_, ports_, err_)) {
    std::cerr << "asenetctl replay: " << err_ << "\n";
    return false;
  }
  auto tables = TableSet::build(spec_, opt_.workers, err_);
  if (!tables) {
    std::cerr << "asenetctl replay: building tables: " << err_ << "\n";
    return false;
  }
  handover_.publish(std::move(tables));
  writer_ = std::make_unique<ReplayWriter>(opt_, kWindow, ts_off_);
  sink_.slots = writer_->trace_slots();
  sink_.mask = kWindow - 1;
  return true;
}

bool Replay::make_workers() {
  for (const auto& n : g_.first.nsgs) flow_logs_ = flow_logs_ || n.flow_logs;
  for (const auto& s : g_.later)
    for (const auto& n : s.nsgs) flow_logs_ = flow_logs_ || n.flow_logs;
  // --report needs each packet's verdict too: it reads the same trace records.
  const bool tracing = opt_.trace || opt_.report;
  setups_.resize(opt_.workers);
  for (unsigned k = 0; k < opt_.nodes && opt_.nodes > 1; ++k) nodes_.push_back(PoolMembership{k, opt_.nodes, {}});
  flow_log_rings_.resize(flow_logs_ ? opt_.workers : 0);
  for (unsigned w = 0; w < opt_.workers; ++w) {
    WorkerTables tables;
    if (!make_worker_tables("replay_w" + std::to_string(w), g_.topo.emulator.flow_table_size, tables, err_)) {
      std::cerr << "asenetctl replay: connection table: " << err_ << " (lower [emulator] flow_table_size)\n";
      return false;
    }
    auto c = std::make_unique<WorkerContext>();
    c->worker_id = w;
    attach_worker_tables(*c, tables, pool_);
    worker_tables_.push_back(std::move(tables));
    for (size_t s = 0; s < kNumPorts; ++s) c->tx_port_id[s] = ports_.out_port[s];
    c->tx_queue = static_cast<uint16_t>(w);
    c->clock = ClockMode::kPacketTimestamp;
    c->ts_dynfield = ts_off_;
    c->seq_dynfield = seq_off_;
    c->trace = tracing ? &sink_ : nullptr;
    if (flow_logs_) {
      flow_log_rings_[w].resize(kFlowLogRing);
      auto fs = std::make_unique<FlowLogSink>();
      fs->slots = flow_log_rings_[w].data();
      fs->size = kFlowLogRing;
      fs->block = true;
      set_flow_log(*c, worker_tables_.back(), fs.get());
      flow_log_sinks_.push_back(std::move(fs));
    }
    setups_[w].ctx = c.get();
    setups_[w].sources = {RxSource{ports_.in_port, static_cast<uint16_t>(w), Port::kInternet, true}};
    setups_[w].tables = &handover_;
    setups_[w].stop = &stop_;
    setups_[w].yield_when_idle = true;
    if (opt_.nodes > 1) {
      setups_[w].workers = opt_.workers / opt_.nodes;
      setups_[w].replay_node = &nodes_[w / setups_[w].workers];
    }
    ctxs_.push_back(std::move(c));
  }
  first_enq_.assign(opt_.workers, -1);
  last_enq_.assign(opt_.workers, -1);
  batch_.resize(opt_.workers);
  batch_n_.assign(opt_.workers, 0);
  return true;
}

/// --nodes: the router's ECMP hands the packet to a node by a hash of its
/// 5-tuple (not symmetric, as a router's is not); when that node does not own
/// it (worker w's node), it crosses the peer link: the header that node would
/// put on it, and the owner takes it off (worker.cpp). ARP and frames without
/// an IPv4 5-tuple stay with their owner, as a router would not spread them.
void Replay::cross_to_owner(rte_mbuf* head, Port side, unsigned w, const uint8_t* frame, uint32_t len) {
  const unsigned per = opt_.workers / opt_.nodes;
  PacketMeta m;
  if (parse_packet(frame, len, len, m) != DropReason::kNone || (m.flags & kFlagHasPorts) == 0) return;
  uint64_t h = (uint64_t{m.src_ip} << 32 | m.dst_ip) * 0x9e3779b97f4a7c15ull;
  h ^= (uint64_t{m.sport} << 24 | uint64_t{m.dport} << 8 | m.proto) * 0xc2b2ae3d27d4eb4full;
  const unsigned at = static_cast<unsigned>((h ^ (h >> 31)) % opt_.nodes);
  if (at == w / per || !peer_encapsulate(head, side, nodes_[at], per)) return;
  head->port = kPeerFrame;
  crossings_++;
}

void Replay::launch_workers() {
  unsigned w = 0;
  unsigned lcore;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    if (w < opt_.workers) rte_eal_remote_launch(worker_main, &setups_[w++], lcore);
  }
}

void Replay::push_batch(unsigned w) {
  if (batch_n_[w] == 0) return;
  const auto first = static_cast<int64_t>(*RTE_MBUF_DYNFIELD(batch_[w][0], seq_off_, uint64_t*));
  const auto last = static_cast<int64_t>(*RTE_MBUF_DYNFIELD(batch_[w][batch_n_[w] - 1], seq_off_, uint64_t*));
  // Cannot fail: the ring holds more than the window.
  rte_ring_enqueue_bulk(ports_.in_rings[w], reinterpret_cast<void* const*>(batch_[w].data()), batch_n_[w], nullptr);
  if (first_enq_[w] < 0) first_enq_[w] = first;
  last_enq_[w] = last;
  batch_n_[w] = 0;
}

/// The last packet every worker is done with. Order matters: read how far
/// each worker got (acquire) before draining its output rings, so every
/// output at or below the bound is collected.
int64_t Replay::finished_bound() const {
  int64_t bound = static_cast<int64_t>(next_seq_) - 1;
  for (unsigned w = 0; w < opt_.workers; ++w) {
    if (last_enq_[w] < 0) continue;
    const bool any = ctxs_[w]->done_any.load(std::memory_order_acquire);
    const auto done = static_cast<int64_t>(ctxs_[w]->done_seq.load(std::memory_order_acquire));
    if (!any)
      bound = std::min(bound, first_enq_[w] - 1);
    else if (done < last_enq_[w])
      bound = std::min(bound, done);
  }
  return bound;
}

void Replay::collect_outputs() {
  std::array<rte_mbuf*, 64> buf;
  for (size_t s = 0; s < kNumPorts; ++s) {
    for (unsigned w = 0; w < opt_.workers; ++w) {
      unsigned n;
      while ((n = rte_ring_dequeue_burst(ports_.out_rings[s][w], reinterpret_cast<void**>(buf.data()), 64, nullptr)) >
             0) {
        for (unsigned i = 0; i < n; ++i)
          writer_->take_output(*RTE_MBUF_DYNFIELD(buf[i], seq_off_, uint64_t*), static_cast<uint8_t>(s),
                               static_cast<uint16_t>(w), buf[i]);
      }
    }
  }
}

void Replay::drain_flow_logs() {
  for (auto& fs : flow_log_sinks_) fs->drain([&](const FlowLogEvent& e) { flow_log_writer_.add(e, spec_); });
}

void Replay::service() {
  drain_flow_logs();
  for (unsigned w = 0; w < opt_.workers; ++w) push_batch(w);
  const int64_t bound = finished_bound();
  collect_outputs();
  writer_->flush_to(bound, spec_);
}

void Replay::finish_in_flight() {
  while (writer_->flushed() < next_seq_) {
    service();
    if (writer_->flushed() < next_seq_) sched_yield();
  }
}

/// --apply: the next generation goes live before the first packet at or after
/// its time. Every earlier packet is finished first (and its trace written
/// with the names of its own generation), so the switch falls at the same
/// packet whatever the worker count: deterministic.
void Replay::apply_due(uint64_t t) {
  while (next_apply_ < opt_.applies.size() &&
         t >= first_ns_ + static_cast<uint64_t>(opt_.applies[next_apply_].seconds * 1e9)) {
    finish_in_flight();
    drain_flow_logs();  // events of the old generation resolve with its names
    auto next = TableSet::build(g_.later[next_apply_], opt_.workers, err_);
    if (!next) {
      std::cerr << "asenetctl replay: building " << opt_.applies[next_apply_].path << ": " << err_ << "\n";
      std::abort();  // cannot happen for a spec that compiled; the process ends, EAL memory with it
    }
    if (auto old = handover_.publish(std::move(next))) add_rule_hits(*old, retired_hits_);
    spec_ = g_.later[next_apply_];
    ++next_apply_;
  }
}

/// The capture's current packet in an mbuf chain, waiting for mbufs the
/// writer has not given back yet.
rte_mbuf* Replay::copy_in(const Capture& c) {
  const uint32_t caplen = c.hdr->caplen;
  for (int attempt = 0;; ++attempt) {
    rte_mbuf* head = rte_pktmbuf_alloc(pool_);
    rte_mbuf* tail = head;
    uint32_t off = 0;
    while (head != nullptr && off < caplen) {
      const uint32_t chunk = std::min<uint32_t>(caplen - off, rte_pktmbuf_tailroom(tail));
      std::memcpy(rte_pktmbuf_mtod_offset(tail, uint8_t*, tail->data_len), c.data + off, chunk);
      tail->data_len = static_cast<uint16_t>(tail->data_len + chunk);
      head->pkt_len += chunk;
      off += chunk;
      if (off < caplen) {
        rte_mbuf* seg = rte_pktmbuf_alloc(pool_);
        if (seg == nullptr) {
          rte_pktmbuf_free(head);
          head = nullptr;
          break;
        }
        tail->next = seg;
        tail = seg;
        head->nb_segs++;
      }
    }
    if (head != nullptr) return head;
    if (attempt > 100000) {
      std::cerr << "asenetctl replay: out of mbufs\n";
      std::abort();
    }
    service();
    sched_yield();
  }
}

rte_mbuf* Replay::alloc_waiting() {
  rte_mbuf* m = nullptr;
  while ((m = rte_pktmbuf_alloc(pool_)) == nullptr) {
    service();
    sched_yield();
  }
  return m;
}

/// Capture time enters a new second: every worker but `w` gets a clock tick
/// first, so its timers fire at this packet too (worker.hpp kTickSide).
void Replay::tick_others(unsigned w, uint64_t t, uint64_t seq) {
  const uint64_t second = t / kNsPerSecond;
  if (opt_.workers == 1 || second == last_second_) return;
  last_second_ = second;
  for (unsigned o = 0; o < opt_.workers; ++o) {
    if (o == w) continue;
    rte_mbuf* tick = alloc_waiting();
    tick->port = kTickSide;
    *RTE_MBUF_DYNFIELD(tick, ts_off_, uint64_t*) = t;
    *RTE_MBUF_DYNFIELD(tick, seq_off_, uint64_t*) = seq;
    batch_[o][batch_n_[o]++] = tick;
    if (batch_n_[o] == kBurstSize) push_batch(o);
  }
}

void Replay::feed() {
  Progress progress("replay", "packets");
  while (Capture* c = caps_.earliest()) {
    const uint64_t t = c->time_ns();
    if (first_ns_ == UINT64_MAX) first_ns_ = t;
    last_ns_ = t;
    apply_due(t);
    while (next_seq_ >= writer_->flushed() + kWindow) {
      service();
      sched_yield();
    }
    rte_mbuf* head = copy_in(*c);
    const uint64_t seq = next_seq_++;
    head->port = static_cast<uint16_t>(c->in.side);
    *RTE_MBUF_DYNFIELD(head, ts_off_, uint64_t*) = t;
    *RTE_MBUF_DYNFIELD(head, seq_off_, uint64_t*) = seq;
    head->ol_flags |= ts_flag_;
    writer_->take_input(seq, c->in.side, c->data, c->hdr->caplen);
    in_by_side_[static_cast<size_t>(c->in.side)]++;
    // Steered by the current generation's VIPs, ILBs and instances (this
    // thread publishes the generations, so the one it reads stays alive).
    const unsigned w = steer_worker(c->data, c->hdr->caplen, opt_.workers, handover_.acquire()->fabric_addresses());
    if (opt_.nodes > 1) cross_to_owner(head, c->in.side, w, c->data, c->hdr->caplen);
    tick_others(w, t, seq);
    batch_[w][batch_n_[w]++] = head;
    if (batch_n_[w] == kBurstSize) push_batch(w);
    caps_.advance(*c);
    if ((seq & 255) == 255) service();
    if ((seq & 4095) == 4095) progress.update(next_seq_, caps_.share_read());
  }
  finish_in_flight();
  progress.finish();
  elapsed_s_ = progress.elapsed_s();
}

std::string Replay::summary_json(const WorkerCounters& total, uint64_t dropped) {
  add_rule_hits(*handover_.acquire(), retired_hits_);
  std::ostringstream js;
  js << "{\"packets_in\":" << next_seq_ << ",\"packets_in_by_port\":" << per_port_json(in_by_side_)
     << ",\"packets_forwarded\":" << total.forwarded << ",\"packets_dropped\":" << dropped
     << ",\"packets_out\":" << per_port_json(writer_->out_by_side()) << ",\"drops\":" << drops_json(total)
     << ",\"rule_hits\":" << rule_hits_json(retired_hits_) << ",\"flows_created\":" << total.flows_created
     << ",\"snat_exhausted_by_instance\":" << snat_exhausted_json(total, spec_)
     << ",\"generation\":" << handover_.generation() << ",\"workers\":" << opt_.workers;
  if (opt_.nodes > 1)
    js << ",\"nodes\":" << opt_.nodes << ",\"peer_crossings\":" << crossings_
       << ",\"peer_received\":" << total.peer_received << ",\"peer_refused\":" << total.peer_refused;
  js << ",\"icmp_frag_needed_sent\":" << total.icmp_frag_needed;
  if (flow_logs_) js << ",\"flow_log_tuples\":" << flow_log_writer_.tuples_written();
  const auto& cut = caps_.cut_short();
  if (!cut.empty()) {
    js << ",\"inputs_cut_short\":[";
    for (size_t i = 0; i < cut.size(); ++i) js << (i ? "," : "") << json_str(cut[i]);
    js << "]";
  }
  // A failed replay says so in the summary, which is complete for what ran:
  // the exit status is 2 and "status" tells a script not to trust the counts
  // as the whole capture's.
  js << ",\"status\":" << (caps_.failed() ? "\"failed\"" : "\"completed\"");
  if (caps_.failed()) js << ",\"error\":" << json_str(caps_.failure());
  // Every mbuf back in the pool: nothing leaked, whatever the input was.
  js << ",\"mbufs_in_use_at_end\":" << rte_mempool_in_use_count(pool_);
  // --timing: how long the packets took. Off by default: it differs from run
  // to run, and the contract promises byte-identical outputs.
  if (opt_.timing)
    js << ",\"run\":{\"elapsed_s\":" << elapsed_s_ << ",\"packets_per_second\":"
       << (elapsed_s_ > 0 ? static_cast<uint64_t>(static_cast<double>(next_seq_) / elapsed_s_) : 0) << "}";
  js << "}";
  return js.str();
}

void Replay::print_summary(const WorkerCounters& total, uint64_t dropped) const {
  const auto& out = writer_->out_by_side();
  std::cout << "replayed " << next_seq_ << " packets (internet " << in_by_side_[0] << ", vnet " << in_by_side_[1]
            << ", onprem " << in_by_side_[2] << ") through generation " << handover_.generation() << " on "
            << opt_.workers << " worker" << (opt_.workers > 1 ? "s" : "");
  if (opt_.nodes > 1)
    std::cout << " (" << opt_.nodes << " nodes of " << opt_.workers / opt_.nodes << "; " << crossings_
              << " packets crossed a peer link to their owner, " << total.peer_refused << " refused)";
  std::cout << "\n";
  std::cout << "  forwarded " << total.forwarded << ": internet " << out[0] << ", vnet " << out[1] << ", onprem "
            << out[2] << "\n";
  std::cout << "  dropped   " << dropped;
  bool first = true;
  for (size_t r = 1; r < total.drops.size(); ++r) {
    if (total.drops[r] == 0) continue;
    std::cout << (first ? ": " : ", ") << drop_reason_name(static_cast<DropReason>(r)) << " " << total.drops[r];
    first = false;
  }
  std::cout << "\n  written   " << opt_.out_dir << "/{internet,vnet,onprem}.pcap, summary.json"
            << (opt_.trace ? ", trace.jsonl" : "") << "\n";
  std::cout << "  " << rated_line(next_seq_, "packets", elapsed_s_) << "\n";
  if (caps_.failed()) std::cout << "  FAILED    " << caps_.failure() << " (summary.json says \"status\":\"failed\")\n";
}

/// After the last packet: flow logs flushed, files closed, summary written.
int Replay::report() {
  int rc = 0;
  drain_flow_logs();
  // The capture is over: flows still open end at its last packet, with their
  // counts, as asenetd's end them when it stops.
  for (size_t w = 0; w < worker_tables_.size() && flow_logs_; ++w)
    end_logged_flows(*worker_tables_[w].flows, last_ns_, static_cast<uint16_t>(ctxs_[w]->worker_id),
                     [&](const FlowLogEvent& e) { flow_log_writer_.add(e, spec_); });
  if (flow_logs_ && !flow_log_writer_.flush_all(err_)) {
    std::cerr << "asenetctl replay: flow logs: " << err_ << "\n";
    rc = 1;
  }
  writer_->close();
  caps_.close();
  const WorkerCounters total = sum_counters(ctxs_);
  uint64_t dropped = 0;
  for (auto d : total.drops) dropped += d;
  const std::string js = summary_json(total, dropped);
  {
    std::ofstream f(opt_.out_dir + "/summary.json", std::ios::binary | std::ios::trunc);
    f << js << "\n";
  }
  if (opt_.json) {
    std::cout << js << "\n";
  } else {
    print_summary(total, dropped);
  }
  return caps_.failed() ? 2 : rc;
}

int Replay::run() {
  if (!make_buffers() || !make_workers()) return 1;  // the process ends soon; EAL memory goes with it
  launch_workers();
  int rc = writer_->open() ? 0 : 1;
  feed();
  stop_.store(true);
  rte_eal_mp_wait_lcore();
  const int end = report();
  destroy_replay_ports(ports_);
  rte_mempool_free(pool_);
  return end != 0 ? end : rc;
}

}  // namespace

int run_replay(const ReplayOptions& opt) {
  Generations g;
  if (const int rc = load_generations(opt, g); rc != 0) return rc;
  // Inputs first: a bad file must fail before anything starts.
  Captures caps;
  if (!caps.open(opt.inputs)) return 2;
  std::error_code ec;
  std::filesystem::create_directories(opt.out_dir, ec);
  if (ec) {
    std::cerr << opt.out_dir << ": cannot create output directory: " << ec.message() << "\n";
    return 2;
  }
  std::vector<std::string> eal = {"asenetctl-replay",
                                  "--no-huge",
                                  "--no-shconf",
                                  "-m",
                                  "512",
                                  "--no-pci",
                                  "--no-telemetry",
                                  "--log-level=error",
                                  "--lcores",
                                  floating_lcores(opt.workers + 1),
                                  "--file-prefix",
                                  "asenet-replay-" + std::to_string(getpid())};
  eal.insert(eal.end(), opt.eal_args.begin(), opt.eal_args.end());
  std::string err;
  if (eal_init(eal, err) < 0) {
    std::cerr << "asenetctl replay: " << err << "\n";
    return 1;
  }
  int rc = 0;
  {
    Replay replay(opt, g, caps);
    rc = replay.run();
  }
  // The file prefix is ours alone: leave no runtime directory behind.
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  std::filesystem::remove_all(runtime_dir, ec);
  return rc;
}

}  // namespace asenet::control

#include "daemon/agent.hpp"
#include "dataplane/core/time.hpp"

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <tuple>

#include "control/compiler/compile.hpp"
#include "protocol/json.hpp"
#include "control/reference/verify.hpp"
#include "dataplane/core/frames.hpp"

namespace asenet::control {

using namespace asenet::dataplane;

LiveDataplane::LiveDataplane(TableHandover& handover, std::vector<std::unique_ptr<WorkerContext>>& ctxs,
                             std::vector<WorkerTables>& tables, std::array<uint16_t, kNumPorts> ports,
                             rte_mempool* pool)
    : handover_(handover), ctxs_(ctxs), tables_(tables), ports_(ports), pool_(pool) {
  trace_rings_.resize(ctxs.size());
  trace_tail_.assign(ctxs.size(), 0);
  for (size_t w = 0; w < ctxs.size(); ++w) {
    trace_rings_[w].resize(kTraceRing);
    trace_sinks_.push_back(std::make_unique<TraceSink>());
  }
}

bool LiveDataplane::publish(TableSpec spec, PublishResult& out, std::string& error) {
  const auto t0 = std::chrono::steady_clock::now();
  // Health set live outlives a push: an instance marked down stays down.
  for (auto& ase : spec.ases) {
    bool changed = false;
    for (size_t i = 0; i < ase.instances.size(); ++i) {
      const auto it = health_.find({ase.name, ase.instances[i]});
      if (it != health_.end() && (ase.up[i] != 0) != it->second) {
        ase.up[i] = it->second ? 1 : 0;
        changed = true;
      }
    }
    if (changed) rebuild_maglev(ase);
  }
  spec.some_frontend_down = false;
  for (const auto& ase : spec.ases) spec.some_frontend_down = spec.some_frontend_down || ase.maglev.empty();
  const TableSet* current = handover_.acquire();
  out.previous = current != nullptr ? current->generation() : 0;
  spec.generation = out.previous + 1;
  auto next = TableSet::build(spec, static_cast<unsigned>(ctxs_.size()), error);
  if (!next) {
    error = "building tables: " + error + " (generation " + std::to_string(out.previous) + " stays live)";
    return false;
  }
  out.acl_rules = next->acl_rule_count();
  const auto t1 = std::chrono::steady_clock::now();
  std::unique_ptr<TableSet> old = handover_.publish(std::move(next));
  const auto t2 = std::chrono::steady_clock::now();
  // No worker reads `old` any more: its counters are final, and its flow log
  // events can be named with its rules.
  if (old) add_rule_hits(*old, retired_hits_);
  if (flow_log_writer_) drain_flow_logs(old.get());
  old.reset();
  out.generation = handover_.generation();
  out.build_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  out.swap_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  return true;
}

bool LiveDataplane::push(TableSpec spec, PublishResult& out, std::string& error) {
  if (!publish(std::move(spec), out, error)) {
    ++pushes_failed_;
    return false;
  }
  ++pushes_;
  return true;
}

bool LiveDataplane::set_health(const std::string& ase, uint32_t instance, bool up, PublishResult& out,
                               std::string& error) {
  const TableSpec& cur = spec();
  const AseSpec* a = cur.find_ase(ase);
  if (a == nullptr) {
    error = "no ASE named '" + ase + "' in generation " + std::to_string(cur.generation);
    return false;
  }
  if (std::find(a->instances.begin(), a->instances.end(), instance) == a->instances.end()) {
    error = "ASE " + ase + " has no instance " + format_ipv4(instance);
    return false;
  }
  const auto saved = health_;
  health_[{ase, instance}] = up;
  if (!publish(cur, out, error)) {
    health_ = saved;
    return false;
  }
  ++health_changes_;
  return true;
}

void LiveDataplane::neighbor_figures(StatsSnapshot& s, const TableSpec& sp) const {
  const uint64_t now = tsc_to_ns(rte_rdtsc(), rte_get_tsc_hz());
  for (size_t w = 0; w < tables_.size(); ++w) {
    if (w >= neighbor_copies_.size()) break;
    for (const auto& n : neighbor_copies_[w]) {
      if (n.ip == 0) continue;
      StatsSnapshot::NeighborFigures f;
      f.port = static_cast<Port>(n.port);
      f.ip = n.ip;
      f.worker = static_cast<unsigned>(w);
      const uint64_t at = n.resolved ? n.updated_ns : n.requested_ns;
      if (n.resolved && now - n.updated_ns < sp.l2.neighbor_timeout_ns) {
        char buf[18];
        const auto& b = n.mac.bytes;
        std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
        f.mac = buf;
      }
      f.age_s = now > at ? static_cast<double>(now - at) / 1e9 : 0;
      s.neighbors.push_back(std::move(f));
    }
  }
  std::sort(s.neighbors.begin(), s.neighbors.end(), [](const auto& a, const auto& b) {
    return std::tie(a.port, a.ip, a.worker) < std::tie(b.port, b.ip, b.worker);
  });
}

StatsSnapshot LiveDataplane::snapshot() const {
  // Workers write their counters without atomics; these are aligned 64-bit
  // loads on the control thread (never torn on the machines DPDK runs on),
  // so each figure is exact at some instant during the read.
  StatsSnapshot s;
  const TableSet* ts = handover_.acquire();
  const TableSpec& sp = ts->spec();
  s.generation = sp.generation;
  s.workers = static_cast<unsigned>(ctxs_.size());
  const WorkerCounters total = sum_counters(ctxs_);
  for (size_t p = 0; p < kNumPorts; ++p) {
    s.ports[p].rx = total.rx[p];
    s.ports[p].tx = total.tx[p];
    s.packets_in += total.rx[p];
    rte_eth_stats es{};
    if (rte_eth_stats_get(ports_[p], &es) == 0) {
      s.ports[p].nic_rx = es.ipackets;
      s.ports[p].nic_tx = es.opackets;
      s.ports[p].imissed = es.imissed;
      s.ports[p].ierrors = es.ierrors;
      s.ports[p].oerrors = es.oerrors;
      s.ports[p].rx_nombuf = es.rx_nombuf;
    }
  }
  s.forwarded = total.forwarded;
  s.drops = total.drops;
  for (auto d : total.drops) s.dropped += d;
  s.flows_created = total.flows_created;
  for (const auto& c : ctxs_) {
    s.resets_sent += c->counters.resets_sent;
    s.icmp_frag_needed += c->counters.icmp_frag_needed;
    s.resets_unsent += c->counters.resets_unsent;
  }
  for (const auto& t : tables_) {
    s.flows_live += t.flows->size();
    s.flow_capacity += t.flows->capacity();
  }
  for (size_t w = 0; w < ctxs_.size(); ++w) {
    StatsSnapshot::WorkerFigures f;
    for (auto r : ctxs_[w]->counters.rx) f.packets += r;
    f.handed_off = ctxs_[w]->counters.handed_off;
    f.handed_in = ctxs_[w]->counters.handed_in;
    if (w < tables_.size()) f.flows_live = tables_[w].flows->size();
    s.per_worker.push_back(f);
  }
  s.l2 = sp.l2.arp;
  if (s.l2) neighbor_figures(s, sp);
  if (s.l2) {
    for (const auto& c2 : ctxs_) {
      s.arp_replies += c2->counters.arp_replies;
      s.arp_requests += c2->counters.arp_requests;
    }
  }
  s.rule_hits = retired_hits_;
  add_rule_hits(*ts, s.rule_hits);
  std::map<uint32_t, uint64_t> snat_use;
  for (const auto& t : tables_)
    for (const auto& u : t.snat->by_instance())
      if (u.ip != 0) snat_use[u.ip] += u.ports;
  for (const auto& ase : sp.ases) {
    for (size_t i = 0; i < ase.instances.size(); ++i) {
      StatsSnapshot::InstanceFigures f;
      f.ase = ase.name;
      f.ip = ase.instances[i];
      f.up = ase.up[i] != 0;
      f.snat_ports_in_use = snat_use.count(f.ip) ? snat_use[f.ip] : 0;
      f.snat_ports_preallocated = ase.snat_ports[i].size();
      const auto pos =
          std::lower_bound(sp.ase_instances.begin(), sp.ase_instances.end(), f.ip) - sp.ase_instances.begin();
      if (static_cast<size_t>(pos) < total.snat_exhausted.size())
        f.snat_exhausted = total.snat_exhausted[static_cast<size_t>(pos)];
      s.instances.push_back(std::move(f));
    }
  }
  for (unsigned i = 0; i < rte_socket_count(); ++i) {
    rte_malloc_socket_stats ms{};
    if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &ms) == 0) {
      s.heap_bytes_in_use += ms.heap_allocsz_bytes;
      s.heap_bytes_total += ms.heap_totalsz_bytes;
      s.heap_allocations += ms.alloc_count;
    }
  }
  if (pool_ != nullptr) {
    s.mbufs_in_use = rte_mempool_in_use_count(pool_);
    s.mbufs_total = pool_->size;
  }
  s.pushes = pushes_;
  s.pushes_failed = pushes_failed_;
  s.health_changes = health_changes_;
  s.control_rejected = control_rejected_;
  s.control_malformed = control_malformed_;
  s.tracing = trace_active_;
  for (const auto& p : probes_) s.probes.push_back(p.fig);
  if (flow_log_writer_) {
    s.flow_logs = true;
    s.flow_log_tuples = flow_log_writer_->tuples_written();
    s.flow_log_files = flow_log_writer_->files_written();
    for (const auto& fs : flow_log_sinks_) s.flow_log_events_dropped += fs->dropped;
  }
  return s;
}

void LiveDataplane::enable_flow_logs(const std::string& dir) {
  // Live time is the TSC in ns; flow logs want Unix time.
  const uint64_t tsc_ns = tsc_to_ns(rte_rdtsc(), rte_get_tsc_hz());
  const auto wall =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  flow_log_writer_ = std::make_unique<FlowLogWriter>(dir, static_cast<int64_t>(wall) - static_cast<int64_t>(tsc_ns));
  flow_log_rings_.resize(ctxs_.size());
  for (size_t w = 0; w < ctxs_.size(); ++w) {
    flow_log_rings_[w].resize(kFlowLogRing);
    auto s = std::make_unique<FlowLogSink>();
    s->slots = flow_log_rings_[w].data();
    s->size = kFlowLogRing;
    s->block = false;
    set_flow_log(*ctxs_[w], tables_[w], s.get());
    flow_log_sinks_.push_back(std::move(s));
  }
}

void LiveDataplane::drain_flow_logs(const TableSet* retired) {
  const TableSpec& cur = spec();
  for (auto& s : flow_log_sinks_)
    s->drain([&](const FlowLogEvent& e) {
      const bool old = retired != nullptr && e.generation == retired->generation();
      flow_log_writer_->add(e, old ? retired->spec() : cur);
    });
}

bool LiveDataplane::pump_flow_logs(bool final, std::string& error) {
  if (!flow_log_writer_) return true;
  drain_flow_logs(nullptr);
  if (final) return flow_log_writer_->flush_all(error);
  const uint64_t now = tsc_to_ns(rte_rdtsc(), rte_get_tsc_hz());
  return flow_log_writer_->flush(now - std::min<uint64_t>(now, 120ull * kNsPerSecond), error);
}

namespace {

uint64_t tsc_now_ns() { return tsc_to_ns(rte_rdtsc(), rte_get_tsc_hz()); }

/// A probe's frame (TTL 128, as Azure's probes carry): headers + payload.
std::vector<uint8_t> tcp_frame(const MacAddr& dst_mac, const MacAddr& src_mac, uint32_t src, uint32_t dst,
                               uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                               std::string_view payload = {}) {
  std::vector<uint8_t> f(kTcpFrameLen + payload.size());
  std::memcpy(f.data() + kTcpFrameLen, payload.data(), payload.size());
  write_tcp_frame(f.data(), dst_mac, src_mac, src, dst, sport, dport, seq, ack, flags, 128,
                  static_cast<uint16_t>(payload.size()));
  return f;
}

}  // namespace

bool LiveDataplane::enable_probes(std::string& error) {
  probe_tx_ = rte_ring_create("asenet_probe_tx", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (probe_tx_ == nullptr) {
    error = std::string("rte_ring_create: ") + rte_strerror(rte_errno);
    return false;
  }
  ctxs_[0]->control_tx = probe_tx_;
  for (auto& c : ctxs_) {
    probe_sinks_.push_back(std::make_unique<ProbeReplySink>());
    c->probe_replies = probe_sinks_.back().get();
  }
  return true;
}

void LiveDataplane::refresh_neighbors() {
  if (!spec().l2.arp) return;
  neighbor_copies_.resize(tables_.size());
  for (auto& t : tables_) t.neighbor_copy->request();
  std::vector<bool> got(tables_.size(), false);
  const uint64_t hz = rte_get_tsc_hz();
  const uint64_t until = rte_rdtsc() + hz / 20;  // 50 ms: a running worker answers within a loop iteration
  size_t left = tables_.size();
  while (left > 0 && rte_rdtsc() < until) {
    for (size_t w = 0; w < tables_.size(); ++w)
      if (!got[w] && tables_[w].neighbor_copy->take(neighbor_copies_[w])) {
        got[w] = true;
        --left;
      }
    if (left > 0) rte_pause();
  }
  neighbors_at_ns_ = tsc_now_ns();
}

const MacAddr* LiveDataplane::vnet_mac(uint32_t ip, uint64_t now) const {
  const TableSpec& sp = spec();
  if (!sp.l2.arp) return &sp.peer_macs[static_cast<size_t>(Port::kVnet)];
  for (const auto& copy : neighbor_copies_)  // any worker may have learned it
    for (const auto& n : copy)
      if (n.ip == ip && n.port == static_cast<uint8_t>(Port::kVnet) && n.resolved &&
          now - n.updated_ns < sp.l2.neighbor_timeout_ns)
        return &n.mac;
  return nullptr;
}

bool LiveDataplane::send_frame(const uint8_t* frame, size_t len) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) return false;
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(len)));
  if (p == nullptr) {
    rte_pktmbuf_free(m);
    return false;
  }
  std::memcpy(p, frame, len);
  m->port = static_cast<uint16_t>(Port::kVnet);  // the side worker 0 sends it on
  if (rte_ring_enqueue(probe_tx_, m) != 0) {
    rte_pktmbuf_free(m);
    return false;
  }
  return true;
}

void LiveDataplane::probe_result(Probe& p, bool ok, const char* why, uint64_t /*now*/) {
  p.pending = false;
  p.request_sent = false;
  p.fig.last = why;
  if (ok) {
    ++p.fig.succeeded;
    ++p.succs;
    p.fails = 0;
  } else {
    ++p.fig.failed;
    ++p.fails;
    p.succs = 0;
  }
  const AseSpec* ase = spec().find_ase(p.fig.ase);
  if (ase == nullptr) return;
  PublishResult r;
  std::string err;
  if (p.fig.up && p.fails >= ase->probe_down) {
    p.fig.up = false;
    if (!set_health(p.fig.ase, p.fig.ip, false, r, err)) p.fig.up = true;
  } else if (!p.fig.up && p.succs >= ase->probe_up) {
    p.fig.up = true;
    if (!set_health(p.fig.ase, p.fig.ip, true, r, err)) p.fig.up = false;
  }
}

void LiveDataplane::probe_tick() {
  if (probe_tx_ == nullptr) return;
  const uint64_t now = tsc_now_ns();
  // The probe list follows the live generation: one probe per instance of an
  // ASE with probe_port (its state kept across generations).
  if (probes_generation_ != spec().generation) {
    probes_generation_ = spec().generation;
    std::vector<Probe> next;
    for (const auto& a : spec().ases) {
      if (a.probe_port == 0) continue;
      for (size_t i = 0; i < a.instances.size(); ++i) {
        Probe p;
        p.fig.ase = a.name;
        p.fig.ip = a.instances[i];
        p.fig.port = a.probe_port;
        p.fig.up = a.up[i] != 0;
        // The first probe two intervals after the ASE appears (instances get
        // a moment to start), instances spread over 100 ms steps.
        p.next_ns = now + 2 * uint64_t{a.probe_interval_ms} * 1000000ull + i * 100000000ull;
        for (const auto& old : probes_)
          if (old.fig.ase == p.fig.ase && old.fig.ip == p.fig.ip && old.fig.port == p.fig.port) {
            p = old;
            p.fig.up = a.up[i] != 0;
          }
        next.push_back(std::move(p));
      }
    }
    probes_ = std::move(next);
  }
  // Answers.
  for (auto& sink : probe_sinks_) {
    sink->drain([&](const ProbeReply& r) {
      for (auto& p : probes_) {
        if (!p.pending || r.src != p.fig.ip || r.sport != p.fig.port || r.dport != p.sport) continue;
        const TableSpec& sp = spec();
        const MacAddr* mac = vnet_mac(p.fig.ip, now);
        const AseSpec* ase = sp.find_ase(p.fig.ase);
        const bool http = ase != nullptr && ase->probe_http;
        auto reset = [&](uint32_t seq) {  // close the probe's connection as a prober does
          if (mac == nullptr) return;
          const auto f =
              tcp_frame(*mac, sp.fabric_mac, kAzureProbeSource, p.fig.ip, p.sport, p.fig.port, seq, 0, kTcpRst);
          send_frame(f.data(), f.size());
        };
        if ((r.tcp_flags & kTcpRst) != 0) {
          probe_result(p, false, "refused", now);
        } else if ((r.tcp_flags & (kTcpSyn | kTcpAck)) == (kTcpSyn | kTcpAck) && r.ack == p.seq + 1 &&
                   !p.request_sent) {
          if (!http) {  // TCP probe: the handshake is the answer
            reset(p.seq + 1);
            probe_result(p, true, "ok", now);
          } else if (mac != nullptr) {  // HTTP probe: ACK with the GET
            const std::string req = "GET " + ase->probe_path + " HTTP/1.1\r\nHost: " + format_ipv4(p.fig.ip) +
                                    "\r\nUser-Agent: Load Balancer Agent\r\nConnection: close\r\n\r\n";
            const auto f = tcp_frame(*mac, sp.fabric_mac, kAzureProbeSource, p.fig.ip, p.sport, p.fig.port, p.seq + 1,
                                     r.seq + 1, kTcpPsh | kTcpAck, req);
            p.request_sent = send_frame(f.data(), f.size());
            p.request_len = static_cast<uint32_t>(req.size());
          }
        } else if (p.request_sent && r.payload_len > 0) {
          // Azure: an HTTP probe passes on status 200 only.
          const std::string_view line(r.payload.data(), std::min<size_t>(r.payload_len, r.payload.size()));
          const bool ok = line.size() >= 12 && line.substr(0, 7) == "HTTP/1." && line.substr(9, 3) == "200";
          reset(p.seq + 1 + p.request_len);
          probe_result(p, ok, ok ? "ok" : "http_status", now);
        }
      }
    });
  }
  // Due probes.
  for (auto& p : probes_) {
    if (now < p.next_ns) continue;
    const TableSpec& sp = spec();
    const AseSpec* ase = sp.find_ase(p.fig.ase);
    if (ase == nullptr) continue;
    const uint64_t interval = uint64_t{ase->probe_interval_ms} * 1000000ull;
    p.next_ns = now + interval;
    if (p.pending) probe_result(p, false, "timeout", now);  // no answer within an interval
    // Azure's probes cross the NSGs like any inbound packet (azure-semantics
    // 7.2): a rule that denies 168.63.129.16 marks the instance down.
    p.sport = static_cast<uint16_t>(kProbePortBase + (next_probe_sport_++ % kProbePortCount));
    const auto verdict =
        verify_flow(sp, VerifyQuery{NsgDirection::kInbound, 6, p.fig.ip, p.fig.port, kAzureProbeSource, p.sport});
    ++p.fig.sent;
    if (verdict && !verdict->allow) {
      probe_result(p, false, "nsg_deny", now);
      continue;
    }
    const MacAddr* mac = vnet_mac(p.fig.ip, now);
    if (mac == nullptr) {
      // Ask for the instance's MAC (the worker learns the answer) and count
      // this probe as failed: no answer could come.
      std::array<uint8_t, kArpFrameLen> arp{};
      const SubnetSpec* s = sp.subnet_of(p.fig.ip);
      write_arp_request(arp.data(), sp.fabric_mac, s != nullptr ? s->prefix.addr + 1 : (p.fig.ip & 0xffffff00u) + 1,
                        p.fig.ip);
      send_frame(arp.data(), arp.size());
      probe_result(p, false, "no_neighbor", now);
      continue;
    }
    p.seq = static_cast<uint32_t>(now ^ (uint64_t{p.fig.ip} << 16));
    const auto f = tcp_frame(*mac, sp.fabric_mac, kAzureProbeSource, p.fig.ip, p.sport, p.fig.port, p.seq, 0, kTcpSyn);
    if (send_frame(f.data(), f.size())) {
      p.pending = true;
      p.sent_ns = now;
    } else {
      probe_result(p, false, "tx_full", now);
    }
  }
}

void LiveDataplane::refresh_telemetry() {
  StatsSnapshot s = snapshot();
  std::lock_guard<std::mutex> lock(telemetry_mu_);
  telemetry_ = std::move(s);
}

StatsSnapshot LiveDataplane::telemetry_copy() const {
  std::lock_guard<std::mutex> lock(telemetry_mu_);
  return telemetry_;
}

bool LiveDataplane::trace_start(uint64_t count, const TraceFilter& filter, std::string& error) {
  if (trace_active_) {
    error = "a trace is already running (one at a time)";
    return false;
  }
  if (count == 0 || count > 1000000) {
    error = "--count must be 1-1000000";
    return false;
  }
  trace_count_ = count;
  trace_emitted_ = trace_lost_ = 0;
  trace_budget_.store(static_cast<int64_t>(count), std::memory_order_relaxed);
  for (size_t w = 0; w < ctxs_.size(); ++w) {
    TraceSink& sink = *trace_sinks_[w];
    sink.slots = trace_rings_[w].data();
    sink.mask = kTraceRing - 1;
    sink.live = true;
    sink.filter = filter;
    sink.budget = &trace_budget_;
    sink.head.store(0, std::memory_order_relaxed);
    trace_tail_[w] = 0;
    ctxs_[w]->trace.store(&sink, std::memory_order_release);
  }
  trace_active_ = true;
  return true;
}

void LiveDataplane::trace_collect(std::vector<std::string>& lines, bool& finished) {
  finished = false;
  if (!trace_active_) return;
  std::vector<TraceRecord> got;
  for (size_t w = 0; w < ctxs_.size(); ++w) {
    TraceSink& sink = *trace_sinks_[w];
    const uint64_t head = sink.head.load(std::memory_order_acquire);
    uint64_t tail = trace_tail_[w];
    if (head - tail > kTraceRing) {  // the worker lapped us
      trace_lost_ += head - tail - kTraceRing;
      tail = head - kTraceRing;
    }
    const size_t first = got.size();
    for (uint64_t i = tail; i < head; ++i) got.push_back(trace_rings_[w][i & (kTraceRing - 1)]);
    // Records the worker may have overwritten while we copied are not trusted.
    const uint64_t after = sink.head.load(std::memory_order_acquire);
    if (after - tail > kTraceRing) {
      const uint64_t unsafe = std::min<uint64_t>(after - tail - kTraceRing, head - tail);
      got.erase(got.begin() + static_cast<std::ptrdiff_t>(first),
                got.begin() + static_cast<std::ptrdiff_t>(first + unsafe));
      trace_lost_ += unsafe;
    }
    trace_tail_[w] = head;
  }
  std::stable_sort(got.begin(), got.end(), [](const TraceRecord& a, const TraceRecord& b) {
    if (a.now_ns != b.now_ns) return a.now_ns < b.now_ns;
    return a.worker < b.worker;
  });
  const TableSpec& sp = spec();
  for (const auto& r : got) lines.push_back(trace_line(trace_emitted_++, r, sp, true));
  finished = trace_emitted_ + trace_lost_ >= trace_count_;
}

std::pair<uint64_t, uint64_t> LiveDataplane::trace_stop() {
  if (!trace_active_) return {0, 0};
  for (auto& c : ctxs_) c->trace.store(nullptr, std::memory_order_release);
  // Every worker has left the burst it may have been tracing: the sinks can be reused.
  handover_.synchronize();
  trace_active_ = false;
  return {trace_emitted_, trace_lost_};
}

// ---------------------------------------------------------------------------
// Formats

}  // namespace asenet::control

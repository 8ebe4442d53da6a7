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
#include "protocol/wire.hpp"
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

std::unique_ptr<TableSet> LiveDataplane::build_next(TableSpec& spec, PublishResult& out, std::string& error) {
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
  spec.generation = (current != nullptr ? current->generation() : 0) + 1;  // the tables' own number
  auto next = TableSet::build(spec, static_cast<unsigned>(ctxs_.size()), error);
  if (!next) {
    error = "building tables: " + error + " (generation " + std::to_string(generation()) + " stays live)";
    return nullptr;
  }
  out.acl_rules = next->acl_rule_count();
  return next;
}

void LiveDataplane::install(std::unique_ptr<TableSet> next, std::chrono::steady_clock::time_point t0,
                            PublishResult& out, std::shared_ptr<const PoolMap> map) {
  const auto t1 = std::chrono::steady_clock::now();
  next->set_rules_epoch(rule_totals_.epoch_for(next->spec()));
  if (map) pool_map_ = std::move(map);
  next->set_pool_map(pool_map_);
  std::unique_ptr<TableSet> old = handover_.publish(std::move(next));
  const auto t2 = std::chrono::steady_clock::now();
  // No worker reads `old` any more: its counters are final, and its flow log
  // events can be named with its rules.
  if (old) add_rule_hits(*old, retired_hits_);
  if (flow_log_writer_) drain_flow_logs(old.get());
  old.reset();
  // What people see: the pushed generation, apart from the health epoch
  // (the tables' own number, spec.generation, counts both).
  out.previous = out.generation = generation();
  out.health_epoch = health_epoch();
  out.build_ms = std::chrono::duration<double, std::milli>(t1 - t0).count();
  out.swap_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
}

bool LiveDataplane::publish(TableSpec spec, PublishResult& out, std::string& error,
                            std::shared_ptr<const PoolMap> map) {
  const auto t0 = std::chrono::steady_clock::now();
  auto next = build_next(spec, out, error);
  if (!next) return false;
  install(std::move(next), t0, out, std::move(map));
  return true;
}

bool LiveDataplane::start(TableSpec spec, PublishResult& out, std::string& error) {
  spec_hash_ = wire::spec_hash(spec);
  return publish(std::move(spec), out, error);
}

bool LiveDataplane::push(TableSpec spec, PublishResult& out, std::string& error, PoolChange members) {
  std::string hash = wire::spec_hash(spec);
  auto map = map_for(members, spec);
  if (!publish(std::move(spec), out, error, std::move(map))) {
    ++pushes_failed_;
    return false;
  }
  ++pushes_;
  out.generation = ++generation_;
  spec_hash_ = std::move(hash);
  out.spec_hash = spec_hash_;
  return true;
}

bool LiveDataplane::parse_members(const std::vector<unsigned>& nodes, uint32_t& members, std::string& error) const {
  members = 0;
  if (nodes.empty()) return true;
  if (nodes_ <= 1) {
    error = "members: this asenetd is no pool (start it with --node and --peer)";
    return false;
  }
  for (const unsigned n : nodes) {
    if (n >= nodes_) {
      error = "members: node " + std::to_string(n) + " is not in this pool of " + std::to_string(nodes_) +
              " (nodes 0 to " + std::to_string(nodes_ - 1) + ")";
      return false;
    }
    members |= 1u << n;
  }
  return true;
}

std::shared_ptr<const PoolMap> LiveDataplane::map_for(PoolChange change, const TableSpec& spec) const {
  if (change.members == 0 || !pool_map_) return nullptr;
  const uint32_t previous = change.previous != 0 ? change.previous : pool_map_->members;
  if (change.members == pool_map_->members && previous == change.members) return nullptr;
  // The previous owners count for the longest a connection may idle and
  // still be alive: the generation's idle timeout or its FIN timer.
  const uint64_t window = std::max(spec.flow_idle_timeout_ns, spec.tcp_fin_timeout_ns);
  return std::make_shared<PoolMap>(PoolMap::changed(*pool_map_, change.members, previous, tsc_now_ns(), window));
}

bool LiveDataplane::set_health(const std::string& ase, uint32_t instance, bool up, PublishResult& out,
                               std::string& error) {
  const TableSpec& cur = spec();
  const AseSpec* a = cur.find_ase(ase);
  if (a == nullptr) {
    error = "no ASE named '" + ase + "' in generation " + std::to_string(generation());
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
  out.health_epoch = health_epoch();
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

void LiveDataplane::port_figures(StatsSnapshot& s, const WorkerCounters& total) const {
  for (size_t p = 0; p < kNumPorts; ++p) {
    s.ports[p].rx = total.rx[p];
    s.ports[p].tx = total.tx[p];
    s.packets_in += total.rx[p];
    rte_eth_stats es{};
    if (rte_eth_stats_get(ports_[p], &es) == 0) {
      s.ports[p].nic_rx = es.ipackets;
      s.ports[p].rx_bytes = es.ibytes;
      s.ports[p].tx_bytes = es.obytes;
      s.ports[p].nic_tx = es.opackets;
      s.ports[p].imissed = es.imissed;
      s.ports[p].ierrors = es.ierrors;
      s.ports[p].oerrors = es.oerrors;
      s.ports[p].rx_nombuf = es.rx_nombuf;
    }
  }
}

void LiveDataplane::worker_figures(StatsSnapshot& s) const {
  for (const auto& t : tables_) {
    s.flows_live += t.flows->size();
    const auto by = t.flows->by_tcp_state();
    for (size_t st = 0; st < by.size(); ++st) s.flows_by_state[st] += by[st];
    s.flow_capacity += t.flows->capacity();
  }
  for (size_t w = 0; w < ctxs_.size(); ++w) {
    const WorkerCounters& c = ctxs_[w]->counters;
    s.resets_sent += c.resets_sent;
    s.icmp_frag_needed += c.icmp_frag_needed;
    s.resets_unsent += c.resets_unsent;
    StatsSnapshot::WorkerFigures f;
    for (auto r : c.rx) f.packets += r;
    f.handed_off = c.handed_off;
    f.handed_in = c.handed_in;
    f.peer_sent = c.peer_sent;
    f.peer_received = c.peer_received;
    f.peer_dropped = c.peer_dropped;
    f.peer_refused = c.peer_refused;
    f.peer_asked = c.peer_asked;
    f.peer_returned = c.peer_returned;
    f.busy_cycles = c.busy_cycles;
    f.idle_cycles = c.idle_cycles;
    if (w < tables_.size()) f.flows_live = tables_[w].flows->size();
    s.per_worker.push_back(f);
  }
}

void LiveDataplane::instance_figures(StatsSnapshot& s, const TableSpec& sp, const WorkerCounters& total) const {
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> snat_use;  // ports, destinations
  for (const auto& t : tables_)
    for (const auto& u : t.snat->by_instance())
      if (u.ip != 0) {
        snat_use[u.ip].first += u.ports;
        snat_use[u.ip].second += u.destinations;
      }
  for (const auto& ase : sp.ases) {
    for (size_t i = 0; i < ase.instances.size(); ++i) {
      StatsSnapshot::InstanceFigures f;
      f.ase = ase.name;
      f.ip = ase.instances[i];
      f.up = ase.up[i] != 0;
      if (const auto u = snat_use.find(f.ip); u != snat_use.end()) {
        f.snat_ports_in_use = u->second.first;
        f.snat_destinations = u->second.second;
      }
      f.snat_ports_preallocated = ase.snat_ports[i].size();
      const size_t pos = TableSpec::sorted_index(sp.ase_instances, f.ip);
      if (pos < total.snat_exhausted.size()) f.snat_exhausted = total.snat_exhausted[pos];
      s.instances.push_back(std::move(f));
    }
  }
}

void LiveDataplane::memory_figures(StatsSnapshot& s) const {
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
}

StatsSnapshot LiveDataplane::snapshot() const {
  // Workers write their counters without atomics; these are aligned 64-bit
  // loads on the control thread (never torn on the machines DPDK runs on),
  // so each figure is exact at some instant during the read.
  StatsSnapshot s;
  const TableSet* ts = handover_.acquire();
  const TableSpec& sp = ts->spec();
  s.generation = generation();
  s.spec_hash = spec_hash_;
  s.health_epoch = health_epoch();
  s.tables_version = sp.generation;
  s.workers = static_cast<unsigned>(ctxs_.size());
  s.node = node_;
  s.nodes = nodes_;
  if (const PoolMap* map = ts->pool_map(); map != nullptr) {
    for (unsigned n = 0; n < map->nodes; ++n) {
      if (map->member(n)) s.members.push_back(n);
      s.slots_by_node.push_back(map->slots_of(n));
    }
    s.membership_changes = map->changes;
    const uint64_t now = tsc_now_ns();
    s.previous_owners_s = map->in_window(now) ? static_cast<double>(map->prev_until_ns - now) / 1e9 : 0.0;
  }
  const WorkerCounters total = sum_counters(ctxs_);
  port_figures(s, total);
  s.forwarded = total.forwarded;
  s.drops = total.drops;
  for (auto d : total.drops) s.dropped += d;
  s.flows_created = total.flows_created;
  worker_figures(s);
  s.l2 = sp.l2.arp;
  if (s.l2) {
    neighbor_figures(s, sp);
    for (const auto& c : ctxs_) {
      s.arp_replies += c->counters.arp_replies;
      s.arp_requests += c->counters.arp_requests;
    }
  }
  s.rule_hits = retired_hits_;
  add_rule_hits(*ts, s.rule_hits);
  std::vector<RuleTally*> tallies;
  for (auto& t : tables_) {
    tallies.push_back(t.rules.get());
    if (t.rules) s.rule_uncounted_flows += t.rules->uncounted();
  }
  s.rule_traffic = rule_totals_.collect(tallies);
  instance_figures(s, sp, total);
  memory_figures(s);
  s.pushes = pushes_;
  s.pushes_failed = pushes_failed_;
  s.health_changes = health_changes_;
  s.control_rejected = control_rejected_;
  s.control_malformed = control_malformed_;
  s.tracing = trace_active_;
  s.capturing = capture_active_;
  for (const auto& p : probes_) s.probes.push_back(p.fig);
  if (flow_log_writer_) {
    s.flow_logs = true;
    s.flow_log_tuples = flow_log_writer_->tuples_written();
    s.flow_log_files = flow_log_writer_->files_written();
    s.flow_log_records = flow_log_writer_->records_written();
    s.flow_log_tuples_lost = flow_log_writer_->tuples_lost();
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
  const uint64_t now = tsc_to_ns(rte_rdtsc(), rte_get_tsc_hz());
  if (final) {
    // The workers have stopped: flows still open end now, with their counts.
    for (size_t w = 0; w < tables_.size(); ++w)
      end_logged_flows(*tables_[w].flows, now, static_cast<uint16_t>(ctxs_[w]->worker_id),
                       [&](const FlowLogEvent& e) { flow_log_writer_->add(e, spec()); });
    return flow_log_writer_->flush_all(error);
  }
  // A minute is appended once it is kFlowLogGraceNs old: the events of its
  // last moments have left the rings (drained every 200 ms) and the timers
  // due in it have fired (within a second of their time).
  return flow_log_writer_->flush(now - std::min<uint64_t>(now, kFlowLogGraceNs), error);
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

void LiveDataplane::refresh_telemetry() {
  StatsSnapshot s = snapshot();
  std::lock_guard<std::mutex> lock(telemetry_mu_);
  telemetry_ = std::move(s);
}

StatsSnapshot LiveDataplane::telemetry_copy() const {
  std::lock_guard<std::mutex> lock(telemetry_mu_);
  return telemetry_;
}

}  // namespace asenet::control

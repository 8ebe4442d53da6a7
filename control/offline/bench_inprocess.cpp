#include "control/offline/bench_inprocess.hpp"

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <memory>
#include <numeric>

#include "dataplane/core/time.hpp"
#include "dataplane/flow/flow_table.hpp"
#include "dataplane/pipeline/pipeline.hpp"

namespace asenet::control::bench {

using namespace asenet::dataplane;

namespace {

struct Worker {
  unsigned id = 0;
  const Scenario* sc = nullptr;
  const TableSet* ts = nullptr;
  const ReplayPorts* ports = nullptr;
  rte_mempool* pool = nullptr;
  WorkerTables tables;
  WorkerContext ctx;
  double seconds = 0;
  unsigned rounds = 3;
  bool stages = false;
  // Results.
  uint64_t packets = 0, cycles = 0, created = 0, drops = 0;
  uint64_t gen_packets = 0, gen_cycles = 0;
  std::vector<double> round_cycles;  ///< cycles per packet of each round, generator included
  std::array<uint64_t, kNumStages> stage_cycles{};
  uint64_t stage_packets = 0;
  // The established pass in random order on cold frames (measure_random).
  bool random = false;
  std::vector<double> random_round_cycles;  ///< per packet, generator taken out
  double random_gen_per_pkt = 0;
  std::array<uint64_t, kNumStages> random_stage_cycles{};
  uint64_t random_stage_packets = 0;
};

void drain(Worker& w) {
  std::array<void*, 64> sink;
  for (size_t s = 0; s < kNumPorts; ++s) {
    unsigned n;
    while ((n = rte_ring_dequeue_burst(w.ports->out_rings[s][w.id], sink.data(), 64, nullptr)) > 0)
      rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(sink.data()), n);
  }
}

void fill(Worker& w, Burst& b, std::array<Port, kBurstSize>& sides, uint64_t first, uint8_t flags) {
  if (rte_pktmbuf_alloc_bulk(w.pool, b.pkts.data(), kBurstSize) != 0) {
    b.count = 0;
    return;
  }
  for (uint16_t k = 0; k < kBurstSize; ++k) write_frame(*w.sc, b.pkts[k], w.id, first + k, flags, sides[k]);
  b.count = kBurstSize;
}

/// Every flow's first packet (established scenarios): the slow path, untimed.
int warm_up(void* arg) {
  Worker& w = *static_cast<Worker*>(arg);
  if (!w.sc->established) return 0;
  Burst b;
  std::array<Port, kBurstSize> sides{};
  for (uint64_t next = 0; next < w.sc->flows; next += kBurstSize) {
    fill(w, b, sides, next, kTcpSyn);
    if (b.count == 0) return 1;
    stamp_burst(b, w.ctx, sides.data());
    process_burst(b, *w.ts, w.ctx);
    drain(w);
  }
  return 0;
}

/// The generator alone: what making a burst costs, taken out of the figures.
/// Five short runs and the cheapest counts: a run the kernel preempted (or
/// one that first touched the pool's pages) costs more than the generator
/// does, and a figure too high would be taken out of the pipeline's and leave
/// it too low (below zero, once, on a busy machine).
void measure_generator(Worker& w, Burst& b, std::array<Port, kBurstSize>& sides) {
  for (int run = 0; run < 5; ++run) {
    uint64_t packets = 0;
    const uint64_t c0 = rte_rdtsc();
    for (int r = 0; r < 400; ++r) {
      fill(w, b, sides, static_cast<uint64_t>(run * 400 + r) * kBurstSize, kTcpAck);
      rte_pktmbuf_free_bulk(b.pkts.data(), b.count);
      packets += b.count;
    }
    const uint64_t cycles = rte_rdtsc() - c0;
    if (w.gen_packets == 0 || cycles * w.gen_packets < w.gen_cycles * packets) {
      w.gen_cycles = cycles;
      w.gen_packets = packets;
    }
  }
}

/// The timed rounds; the median one counts (this machine's figures vary from
/// run to run by more than the effects measured). Established: seconds/rounds
/// each. New flows: each round from an empty table to half full (or
/// `seconds`); between rounds every flow expires (untimed). Returns the
/// connection cursor reached, or -1 when no mbuf could be had.
int64_t measure_rounds(Worker& w, Burst& b, std::array<Port, kBurstSize>& sides) {
  const bool est = w.sc->established;
  FlowTable& flows = *w.tables.flows;
  const uint64_t hz = rte_get_tsc_hz();
  struct Round {
    uint64_t packets = 0, cycles = 0, created = 0;
  };
  std::array<Round, kMaxRounds> rounds{};
  const unsigned nr = std::clamp(w.rounds, 1u, static_cast<unsigned>(kMaxRounds));
  uint64_t cursor = est ? 0 : w.sc->flows;
  for (unsigned round = 0; round < nr; ++round) {
    if (!est && round > 0) {
      w.ctx.fake_now_ns += 3600ull * kNsPerSecond;  // past every timer: the wheel frees them all
      flows.advance(w.ctx.fake_now_ns);
    }
    Round& rd = rounds[round];
    const uint64_t created_before = w.ctx.counters.flows_created;
    const uint64_t start = rte_rdtsc();
    const double secs = est ? w.seconds / nr : w.seconds;
    const uint64_t deadline = start + static_cast<uint64_t>(secs * static_cast<double>(hz));
    for (;;) {
      for (int r = 0; r < 64; ++r) {
        if (est && cursor + kBurstSize > w.sc->flows) cursor = 0;
        fill(w, b, sides, cursor, est ? kTcpAck : kTcpSyn);  // ACKs of live flows, or SYNs of new ones
        if (b.count == 0) return -1;                         // cannot happen: each burst is drained
        cursor += kBurstSize;
        stamp_burst(b, w.ctx, sides.data());
        rd.packets += b.count;
        process_burst(b, *w.ts, w.ctx);
        drain(w);
      }
      if (rte_rdtsc() >= deadline) break;
      if (!est && flows.size() >= flows.capacity() / 2) break;
    }
    rd.cycles = rte_rdtsc() - start;
    rd.created = w.ctx.counters.flows_created - created_before;
    w.round_cycles.push_back(static_cast<double>(rd.cycles) / static_cast<double>(rd.packets));
  }
  std::sort(rounds.begin(), rounds.begin() + nr, [](const Round& a, const Round& b) {
    return a.cycles * b.packets < b.cycles * a.packets;  // cycles per packet, ascending
  });
  const Round& median = rounds[nr / 2];
  w.packets = median.packets;
  w.cycles = median.cycles;
  w.created = median.created;
  return static_cast<int64_t>(cursor);
}

/// Per-stage cost: the same traffic, the stages called one by one as
/// process_group() does, a TSC read after each (about 20 cycles per burst,
/// under one per packet). Guides optimisation; the totals stay the truth.
/// One burst through the stages one by one, as process_group() does, with a
/// TSC read after each (about 20 cycles a burst, under one a packet), added
/// into `cycles`.
void time_stages(Worker& w, Burst& b, std::array<uint64_t, kNumStages>& cycles) {
  const TableSet& t = *w.ts;
  WorkerContext& ctx = w.ctx;
  uint64_t t0 = rte_rdtsc(), t1;
  auto lap = [&](size_t i) {
    t1 = rte_rdtsc();
    cycles[i] += t1 - t0;
    t0 = t1;
  };
  parse_stage(b, t, ctx);
  lap(0);
  bool again;
  do {
    again = flow_stage(b, t, ctx);
    lap(1);
    if (b.slow == 0) continue;  // as process_group does
    route_stage(b, t, ctx);
    lap(2);
    lb_stage(b, t, ctx);
    lap(3);
    nsg_stage(b, t, ctx);
    lap(4);
    snat_stage(b, t, ctx);
    nsg_stage(b, t, ctx, true);
    lap(5);
    install_stage(b, t, ctx);
    lap(6);
  } while (again);
  forward_stage(b, t, ctx);
  lap(7);
  emit(b, t, ctx);
  lap(8);
}

int measure_stages(Worker& w, Burst& b, std::array<Port, kBurstSize>& sides, uint64_t cursor) {
  const bool est = w.sc->established;
  FlowTable& flows = *w.tables.flows;
  uint64_t c2 = est ? 0 : cursor;
  for (int r = 0; r < 2000 && (est || flows.size() + 2 * kBurstSize < flows.capacity()); ++r) {
    if (est && c2 + kBurstSize > w.sc->flows) c2 = 0;
    fill(w, b, sides, c2, est ? kTcpAck : kTcpSyn);
    if (b.count == 0) return 1;
    c2 += kBurstSize;
    stamp_burst(b, w.ctx, sides.data());
    time_stages(w, b, w.stage_cycles);
    drain(w);
    w.stage_packets += kBurstSize;
  }
  return 0;
}

/// Established traffic as a NIC would deliver it, against the two biases of
/// measure_rounds (flows visited in the order they were installed, each
/// frame written just before it is processed, so hot in L1): connections in
/// a random order (a multiplicative permutation of their index), and every
/// frame written kAhead bursts before it is processed (16,384 packets in
/// flight: about 3 MiB of mbuf and header lines, more than L2), so that it
/// arrives from the last-level cache, where DDIO would place it. The mbuf's
/// first line is written just before the burst is processed, as a PMD's
/// rx_burst writes it.
constexpr unsigned kAhead = 512;

/// A step coprime to n: k * step mod n visits every index once per n steps.
uint64_t coprime_step(uint64_t n) {
  uint64_t m = std::max<uint64_t>(2, 0x9E3779B1ull % n);
  while (std::gcd(m, n) != 1) ++m;
  return m;
}

int measure_random(Worker& w) {
  const uint64_t n = w.sc->flows, step = coprime_step(n);
  uint64_t k = 0;
  std::vector<std::array<rte_mbuf*, kBurstSize>> q(kAhead);
  std::vector<std::array<Port, kBurstSize>> qs(kAhead);
  auto refill = [&](size_t j) {
    if (rte_pktmbuf_alloc_bulk(w.pool, q[j].data(), kBurstSize) != 0) return false;
    for (uint16_t i = 0; i < kBurstSize; ++i, ++k)
      write_frame(*w.sc, q[j][i], w.id, (k % n) * step % n, kTcpAck, qs[j][i]);
    return true;
  };
  for (size_t j = 0; j < kAhead; ++j)
    if (!refill(j)) return 1;
  const uint64_t hz = rte_get_tsc_hz();
  Burst b;
  size_t head = 0;
  // Burst j of the queue into b, as a PMD's rx_burst leaves it: the mbuf's
  // first line just written (packet type, lengths), the frame where DMA put it.
  auto take = [&](size_t j) {
    for (uint16_t i = 0; i < kBurstSize; ++i) {
      q[j][i]->packet_type = 0;
      b.pkts[i] = q[j][i];
    }
    b.count = kBurstSize;
  };
  // One timed run of `secs`: the pipeline, or (generator) the same loop
  // freeing each burst instead. Cycles per packet.
  auto run = [&](bool pipeline, double secs) -> double {
    uint64_t packets = 0;
    const uint64_t start = rte_rdtsc(), deadline = start + static_cast<uint64_t>(secs * static_cast<double>(hz));
    while (rte_rdtsc() < deadline) {
      for (int r = 0; r < 64; ++r, head = (head + 1) % kAhead) {
        take(head);
        if (pipeline) {
          stamp_burst(b, w.ctx, qs[head].data());
          process_burst(b, *w.ts, w.ctx);
          drain(w);
        } else {
          rte_pktmbuf_free_bulk(b.pkts.data(), kBurstSize);
        }
        packets += kBurstSize;
        if (!refill(head)) return -1;
      }
    }
    return static_cast<double>(rte_rdtsc() - start) / static_cast<double>(packets);
  };
  const unsigned nr = std::clamp(w.rounds, 1u, static_cast<unsigned>(kMaxRounds));
  // The generator alone, cheapest of three runs (see measure_generator).
  w.random_gen_per_pkt = run(false, 0.1);
  for (int g = 0; g < 2 && w.random_gen_per_pkt > 0; ++g) {
    const double c = run(false, 0.1);
    if (c > 0 && c < w.random_gen_per_pkt) w.random_gen_per_pkt = c;
  }
  for (unsigned r = 0; r < nr && w.random_gen_per_pkt > 0; ++r) {
    const double c = run(true, w.seconds / nr);
    if (c < 0) break;
    w.random_round_cycles.push_back(c - w.random_gen_per_pkt);
  }
  // The same traffic through the stages one by one (for the figures by stage).
  for (int r = 0; r < 4000 && w.stages; ++r, head = (head + 1) % kAhead) {
    take(head);
    stamp_burst(b, w.ctx, qs[head].data());
    time_stages(w, b, w.random_stage_cycles);
    drain(w);
    w.random_stage_packets += kBurstSize;
    if (!refill(head)) return 1;
  }
  for (auto& burst : q) rte_pktmbuf_free_bulk(burst.data(), kBurstSize);
  return w.random_round_cycles.size() == nr ? 0 : 1;
}

/// The measured loop: the generator alone first (its cost is taken out), then
/// the pipeline for `seconds` (new flows: until the table is half full, so
/// every connection is measured at a similar load), then the per-stage pass.
int measure(void* arg) {
  Worker& w = *static_cast<Worker*>(arg);
  Burst b;
  std::array<Port, kBurstSize> sides{};
  measure_generator(w, b, sides);
  const int64_t cursor = measure_rounds(w, b, sides);
  if (cursor < 0) return 1;
  for (auto d : w.ctx.counters.drops) w.drops += d;
  if (w.stages && measure_stages(w, b, sides, static_cast<uint64_t>(cursor)) != 0) return 1;
  return w.random ? measure_random(w) : 0;
}

/// Runs `fn` on workers[0..n) at once: worker 0 on the main lcore, the others
/// on the next worker lcores. Returns when all are done.
void run_on_lcores(int (*fn)(void*), std::vector<std::unique_ptr<Worker>>& workers, unsigned n) {
  std::vector<unsigned> used;
  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  for (unsigned i = 1; i < n && lcore < RTE_MAX_LCORE; ++i) {
    rte_eal_remote_launch(fn, workers[i].get(), lcore);
    used.push_back(lcore);
    lcore = rte_get_next_lcore(lcore, 1, 0);
  }
  fn(workers[0].get());
  for (unsigned l : used) rte_eal_wait_lcore(l);
}

}  // namespace

bool run_workers(const Scenario& sc, const BenchOptions& opt, const TableSet& ts, const ReplayPorts& ports,
                 const std::vector<rte_mempool*>& pools, unsigned n, unsigned table, unsigned round, RunResult& out,
                 std::string& err) {
  std::vector<std::unique_ptr<Worker>> ws;
  for (unsigned i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>();
    w->id = i;
    w->sc = &sc;
    w->ts = &ts;
    w->ports = &ports;
    w->pool = pools[i];
    w->seconds = opt.seconds;
    w->rounds = opt.rounds;
    w->stages = opt.stages && n == 1;
    w->random = sc.established && n == 1;
    if (!make_worker_tables("bench" + std::to_string(round) + "_" + std::to_string(i), table, w->tables, err))
      return false;
    attach_worker_tables(w->ctx, w->tables, pools[i]);
    w->ctx.worker_id = i;
    w->ctx.tx_queue = static_cast<uint16_t>(i);
    w->ctx.clock = ClockMode::kFake;
    for (size_t s = 0; s < kNumPorts; ++s) w->ctx.tx_port_id[s] = ports.out_port[s];
    ws.push_back(std::move(w));
  }
  run_on_lcores(warm_up, ws, n);
  run_on_lcores(measure, ws, n);
  const double hz = static_cast<double>(rte_get_tsc_hz());
  double pkt_rate = 0;
  for (const auto& w : ws) {
    const double per_pkt = static_cast<double>(w->cycles) / static_cast<double>(w->packets);
    const double gen = static_cast<double>(w->gen_cycles) / static_cast<double>(w->gen_packets);
    pkt_rate += hz / (per_pkt - gen);
    out.packets += w->packets;
    out.created += w->created;
    out.drops += w->drops;
    out.flows_live += w->tables.flows->size();
    for (size_t d = 0; d < out.drop_reasons.size(); ++d) out.drop_reasons[d] += w->ctx.counters.drops[d];
    out.conn_per_s += static_cast<double>(w->created) / (static_cast<double>(w->cycles) / hz) *
                      (per_pkt / (per_pkt - gen));  // generator cost taken out, as for packets
  }
  const Worker& w0 = *ws[0];
  out.mpps = pkt_rate / 1e6;
  out.per_pkt = static_cast<double>(w0.cycles) / static_cast<double>(w0.packets);
  out.gen_per_pkt = static_cast<double>(w0.gen_cycles) / static_cast<double>(w0.gen_packets);
  for (double c : w0.round_cycles) out.round_cycles.push_back(c - out.gen_per_pkt);
  out.flow_table_bytes = w0.tables.flows->memory_bytes();
  out.snat_bytes = w0.tables.snat->memory_bytes();
  out.flow_capacity = w0.tables.flows->capacity();
  if (!w0.random_round_cycles.empty()) {
    std::vector<double> r = w0.random_round_cycles;
    out.random_round_cycles = r;
    std::sort(r.begin(), r.end());
    out.random_per_pkt = r[r.size() / 2];
    out.random_gen_per_pkt = w0.random_gen_per_pkt;
    out.have_random = true;
    for (size_t i = 0; i < kNumStages && w0.random_stage_packets > 0; ++i)
      out.random_stages[i] =
          static_cast<double>(w0.random_stage_cycles[i]) / static_cast<double>(w0.random_stage_packets);
  }
  if (w0.stage_packets > 0) {
    out.have_stages = true;
    for (size_t i = 0; i < kNumStages; ++i)
      out.stages[i] = static_cast<double>(w0.stage_cycles[i]) / static_cast<double>(w0.stage_packets);
  }
  return true;
}

}  // namespace asenet::control::bench

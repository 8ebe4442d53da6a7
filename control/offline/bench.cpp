#include "control/offline/bench.hpp"
#include "dataplane/core/time.hpp"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <rte_ring.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "control/offline/classbench.hpp"
#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "dataplane/flow/flow_table.hpp"
#include "dataplane/core/checksum.hpp"
#include "dataplane/core/frames.hpp"
#include "dataplane/pipeline/pipeline.hpp"
#include "dataplane/ports/ports.hpp"

namespace asenet::control {

using namespace asenet::dataplane;

namespace {

// ---------------------------------------------------------------------------
// Scenarios

/// The traffic asenetd replays on the vdevs (a looped capture).
enum class VdevTraffic {
  kEstablished,  ///< 1,000 connections per side: a SYN, then eight ACKs each (established after the first lap)
  kChurn,        ///< 16,000 connections per side: SYN then RST, so every lap's SYN opens a new connection
};

struct Scenario {
  std::string name;
  bool established = true;  ///< else every packet is a SYN of a new connection
  unsigned flows = 0;       ///< established: live flows per worker
  unsigned rules = 0;       ///< NSG rules in all
  std::string classbench;   ///< the ClassBench filter file the rules come from ("": synthetic)
  VdevTraffic vdev = VdevTraffic::kEstablished;
};

constexpr unsigned kMaxRounds = 9;
constexpr unsigned kPriorities = 3996;  ///< 100-4095 per direction and NSG; 4096 is the final allow
constexpr unsigned kMaxRules = 4 * kPriorities + 1;

std::string find_classbench(const BenchOptions& opt) {
  std::vector<std::filesystem::path> tries;
  if (!opt.classbench.empty()) {
    tries.emplace_back(opt.classbench);
  } else {
    tries.emplace_back("../shared/testdata/classbench");
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    // build/control/asenetctl -> <repo>/../shared/testdata/classbench
    if (!ec) tries.push_back(self.parent_path() / "../../../shared/testdata/classbench");
  }
  for (const auto& t : tries) {
    std::error_code ec;
    if (std::filesystem::is_directory(t, ec)) return std::filesystem::canonical(t, ec).string();
  }
  return {};
}

std::optional<Scenario> resolve(const BenchOptions& opt, std::string& why) {
  Scenario s;
  s.name = opt.scenario;
  s.rules = opt.nsg_rules;
  s.flows = opt.flows;
  if (s.name == "established") {
  } else if (s.name == "flows-1m") {
    s.flows = 1000000;
  } else if (s.name == "new-flows" || s.name == "nsg-1k" || s.name == "nsg-10k") {
    s.established = false;
    s.vdev = VdevTraffic::kChurn;
    if (s.name != "new-flows") {
      const bool big = s.name == "nsg-10k";
      s.rules = big ? 10000 : 1000;
      const std::string dir = find_classbench(opt);
      if (!dir.empty()) {
        const std::string f = dir + (big ? "/rules_10k/acl1_10k" : "/rules_1k/acl1_1k");
        if (std::filesystem::exists(f)) s.classbench = f;
      }
    }
  } else {
    why = "--scenario must be established, new-flows, nsg-1k, nsg-10k or flows-1m";
    return std::nullopt;
  }
  if (s.rules < 1 || s.rules > kMaxRules) {
    why = "--nsg-rules must be 1-" + std::to_string(kMaxRules) + " (four NSG directions of " +
          std::to_string(kPriorities) + " priorities, and the final allow)";
    return std::nullopt;
  }
  if (s.established && (s.flows < 1024 || s.flows > 4000000)) {
    why = "--flows must be 1024-4000000";
    return std::nullopt;
  }
  if (opt.rounds < 1 || opt.rounds > kMaxRounds) {
    why = "--rounds must be 1-" + std::to_string(kMaxRounds);
    return std::nullopt;
  }
  if (opt.workers < 1 || opt.workers > 16) {
    why = "--workers must be 1-16";
    return std::nullopt;
  }
  return s;
}

// ---------------------------------------------------------------------------
// The topology: an ASE with three instances, and NSGs holding the scenario's rules

/// The body of one NSG rule (all but its name, priority and direction).
struct RuleBody {
  std::string access, protocol, src, sport, dst, dport;
};

std::string ports_text(PortSpan p) {
  if (p.lo == 0 && p.hi == 65535) return "*";
  return p.lo == p.hi ? std::to_string(p.lo) : std::to_string(p.lo) + "-" + std::to_string(p.hi);
}

std::string prefix_text(Cidr c) { return c.len == 0 ? "*" : format_cidr(c); }

/// Synthetic: deny rules for unrelated /16s and ports, so the classifier
/// cannot stop early and every connection is admitted by the final allow.
std::vector<RuleBody> synthetic_rules(unsigned n) {
  std::vector<RuleBody> out;
  for (unsigned i = 0; i < n; ++i)
    out.push_back({"Deny", "Tcp", std::to_string(11 + i / 256 % 200) + "." + std::to_string(i % 256) + ".0.0/16", "*",
                   "*", std::to_string(1000 + i % 50000)});
  return out;
}

/// ClassBench filters as NSG rules, each an Allow: the classifier's work does
/// not depend on the action, and every connection is then admitted whichever
/// rule matches it (the rate counts every connection).
std::vector<RuleBody> classbench_rules(const std::string& path, unsigned n) {
  std::vector<RuleBody> out;
  for (const AclRule& r : load_classbench_rules(path)) {
    if (out.size() == n) break;
    std::string proto = "*";
    if (r.proto_mask == 0xff && r.proto == 6) proto = "Tcp";
    if (r.proto_mask == 0xff && r.proto == 17) proto = "Udp";
    if (r.proto_mask == 0xff && r.proto == 1) proto = "Icmp";
    const bool ports = proto == "Tcp" || proto == "Udp";
    out.push_back({"Allow", proto, prefix_text(r.src), ports ? ports_text(r.sport) : "*", prefix_text(r.dst),
                   ports ? ports_text(r.dport) : "*"});
  }
  return out;
}

/// Rules in order fill the ASE subnet's NSG inbound, then outbound, then a
/// second NSG (a VM's NIC in another subnet) inbound and outbound, 3,996
/// priorities each; the last rule admits HTTPS to the ASE.
std::string bench_topology(const std::vector<RuleBody>& rules, unsigned flow_table) {
  std::string subnet_nsg, nic_nsg;
  for (size_t i = 0; i < rules.size(); ++i) {
    const size_t slot = i / kPriorities;
    const RuleBody& r = rules[i];
    std::string& nsg = slot < 2 ? subnet_nsg : nic_nsg;
    nsg += "[[nsgs.rules]]\nname = \"r" + std::to_string(i) +
           "\"\npriority = " + std::to_string(100 + i % kPriorities) + "\ndirection = \"" +
           (slot % 2 == 0 ? "Inbound" : "Outbound") + "\"\naccess = \"" + r.access + "\"\nprotocol = \"" + r.protocol +
           "\"\nsource_address_prefixes = \"" + r.src + "\"\nsource_port_ranges = \"" + r.sport +
           "\"\ndestination_address_prefixes = \"" + r.dst + "\"\ndestination_port_ranges = \"" + r.dport + "\"\n";
  }
  subnet_nsg +=
      "[[nsgs.rules]]\nname = \"AllowHttps\"\npriority = 4096\ndirection = \"Inbound\"\naccess = \"Allow\"\n"
      "protocol = \"Tcp\"\nsource_address_prefixes = \"*\"\nsource_port_ranges = \"*\"\n"
      "destination_address_prefixes = \"*\"\ndestination_port_ranges = \"443\"\n";
  std::string t =
      "[emulator]\nera = \"current\"\nenforce_limits = false\nflow_table_size = " + std::to_string(flow_table) +
      "\n[vnet]\nname = \"vvnet\"\naddress_space = \"10.0.0.0/16\"\n"
      "[[subnets]]\nname = \"ase\"\nprefix = \"10.0.1.0/24\"\nnsg = \"n\"\n"
      "[[ases]]\nname = \"ase\"\nsubnet = \"ase\"\npublic_vip = \"192.23.1.2\"\n"
      "instances = [\"10.0.1.4\", \"10.0.1.5\", \"10.0.1.6\"]\n";
  if (!nic_nsg.empty())
    t += "[[subnets]]\nname = \"vms\"\nprefix = \"10.0.2.0/24\"\n[[hosts]]\nname = \"vm\"\nip = \"10.0.2.4\"\nnsg = "
         "\"h\"\n";
  t += "[[nsgs]]\nname = \"n\"\n" + subnet_nsg;
  if (!nic_nsg.empty()) t += "[[nsgs]]\nname = \"h\"\n" + nic_nsg;
  return t;
}

// ---------------------------------------------------------------------------
// In-memory traffic

constexpr uint32_t kVip = 0xc0170102;       // 192.23.1.2
constexpr uint32_t kInstance = 0x0a000104;  // 10.0.1.4 (.5, .6)

/// A 64-byte frame on the wire (60 here, FCS aside): the fabric's own TCP
/// frame writer, padded to Ethernet's minimum.
void write_tcp_frame60(uint8_t* f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t flags) {
  static constexpr MacAddr kClientMac{{0x02, 0, 0, 0, 0, 0}};
  std::memset(f + kTcpFrameLen, 0, 60 - kTcpFrameLen);
  write_tcp_frame(f, kFabricMac, kClientMac, src, dst, sport, dport, 0, 0, flags, 64);
}

/// Connection i of worker w: even = a client to VIP:443 (LB, DNAT), odd = an
/// instance to its own Internet server (SNAT ports are per destination).
void write_connection(rte_mbuf* m, unsigned w, uint64_t i, uint8_t flags, Port& side) {
  auto* f = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, 60));
  const auto port = static_cast<uint16_t>(1024 + i % 60000);
  const uint32_t base = static_cast<uint32_t>(w) << 26;  // each worker its own clients and servers
  if (i % 2 == 0) {
    write_tcp_frame60(f, 0x0c000000u + base + static_cast<uint32_t>(i / 60000), kVip, port, 443, flags);
    side = Port::kInternet;
  } else {
    write_tcp_frame60(f, kInstance + static_cast<uint32_t>(i % 3), 0x0d000000u + base + static_cast<uint32_t>(i), port,
                      443, flags);
    side = Port::kVnet;
  }
}

// ---------------------------------------------------------------------------
// One in-process worker

constexpr const char* kStages[] = {"parse", "flow", "route", "lb", "nsg", "nat", "install", "forward", "emit"};
constexpr size_t kNumStages = 9;

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
  for (uint16_t k = 0; k < kBurstSize; ++k) write_connection(b.pkts[k], w.id, first + k, flags, sides[k]);
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

/// The measured loop: the generator alone first (its cost is taken out), then
/// the pipeline for `seconds` (new flows: until the table is half full, so
/// every connection is measured at a similar load), then the per-stage pass.
int measure(void* arg) {
  Worker& w = *static_cast<Worker*>(arg);
  const bool est = w.sc->established;
  Burst b;
  std::array<Port, kBurstSize> sides{};
  {
    const uint64_t c0 = rte_rdtsc();
    for (int r = 0; r < 2000; ++r) {
      fill(w, b, sides, static_cast<uint64_t>(r) * kBurstSize, kTcpAck);
      rte_pktmbuf_free_bulk(b.pkts.data(), b.count);
      w.gen_packets += b.count;
    }
    w.gen_cycles = rte_rdtsc() - c0;
  }
  FlowTable& flows = *w.tables.flows;
  const uint64_t hz = rte_get_tsc_hz();
  // Rounds: the median one counts (this machine's figures vary from run to
  // run by more than the effects measured). Established: seconds/rounds each.
  // New flows: each round from an empty table to half full (or `seconds`);
  // between rounds every flow expires (untimed).
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
        if (b.count == 0) return 1;                          // cannot happen: each burst is drained
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
  for (auto d : w.ctx.counters.drops) w.drops += d;
  if (!w.stages) return 0;
  // Per-stage cost: the same traffic, the stages called one by one as
  // process_group() does, a TSC read after each (about 20 cycles per burst,
  // under one per packet). Guides optimisation; the totals stay the truth.
  uint64_t c2 = est ? 0 : cursor;
  for (int r = 0; r < 2000 && (est || flows.size() + 2 * kBurstSize < flows.capacity()); ++r) {
    if (est && c2 + kBurstSize > w.sc->flows) c2 = 0;
    fill(w, b, sides, c2, est ? kTcpAck : kTcpSyn);
    if (b.count == 0) return 1;
    c2 += kBurstSize;
    stamp_burst(b, w.ctx, sides.data());
    const TableSet& t = *w.ts;
    WorkerContext& ctx = w.ctx;
    uint64_t t0 = rte_rdtsc(), t1;
    auto lap = [&](size_t i) {
      t1 = rte_rdtsc();
      w.stage_cycles[i] += t1 - t0;
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
    drain(w);
    w.stage_packets += kBurstSize;
  }
  return 0;
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

struct RunResult {
  double mpps = 0;     ///< pipeline packets per second, all workers (generator cost taken out)
  double per_pkt = 0;  ///< cycles per packet on one worker, generator included
  double gen_per_pkt = 0;
  double conn_per_s = 0;  ///< new flows
  uint64_t packets = 0, created = 0, drops = 0;
  uint32_t flows_live = 0;
  std::array<double, kNumStages> stages{};
  bool have_stages = false;
  std::vector<double> round_cycles;  ///< worker 0, generator cost taken out
  uint64_t flow_table_bytes = 0, snat_bytes = 0;
  uint32_t flow_capacity = 0;
};

/// One measurement with `n` workers, each with its own tables.
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
  if (w0.stage_packets > 0) {
    out.have_stages = true;
    for (size_t i = 0; i < kNumStages; ++i)
      out.stages[i] = static_cast<double>(w0.stage_cycles[i]) / static_cast<double>(w0.stage_packets);
  }
  return true;
}

// ---------------------------------------------------------------------------
// asenetd and dpdk-testpmd on the same pcap vdevs

/// Runs argv with stdout+stderr to `log`; returns the child's pid, or -1.
pid_t spawn_logged(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> av;
  std::vector<std::string> copy = argv;
  for (auto& a : copy) av.push_back(a.data());
  av.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, av[0], &fa, nullptr, av.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

struct VdevResult {
  double testpmd_mpps = 0, asenetd_mpps = 0;
  uint64_t asenetd_created = 0;
};

/// The vdev comparison: two pcap vdevs (clients to the VIP on one, instances
/// to the Internet on the other, looped by infinite_rx), the same two lcores,
/// first through dpdk-testpmd's io forwarding, then through asenetd with the
/// scenario's NSGs. Returns false with a reason when either cannot run.
bool vdev_comparison(const BenchOptions& opt, const Scenario& sc, const std::vector<RuleBody>& rules, VdevResult& res,
                     std::string& why) {
  char tmpl[] = "/tmp/asenet-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    why = "mkdtemp failed";
    return false;
  }
  const std::string dir = tmpl;
  const bool churn = sc.vdev == VdevTraffic::kChurn;
  const uint32_t conns = churn ? 16000 : 1000;
  auto write_cap = [&](const std::string& path, bool inbound) {
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
    if (d == nullptr) return false;
    uint8_t f[60];
    const int rounds = churn ? 2 : 9;
    for (uint32_t i = 0; i < conns; ++i) {
      for (int round = 0; round < rounds; ++round) {
        const uint8_t flags = round == 0 ? 0x02 : churn ? 0x04 : 0x10;  // SYN, then RST or ACKs
        write_tcp_frame60(f, inbound ? 0x0c000000u + i : kInstance + i % 3, inbound ? kVip : 0x0d000000u + i,
                          static_cast<uint16_t>(20000 + i % 40000), 443, flags);
        pcap_pkthdr h{};
        h.caplen = h.len = sizeof f;
        pcap_dump(reinterpret_cast<u_char*>(d), &h, f);
      }
    }
    pcap_dump_close(d);
    pcap_close(dead);
    return true;
  };
  const std::string in_cap = dir + "/in.pcap", out_cap = dir + "/out.pcap";
  if (!write_cap(in_cap, true) || !write_cap(out_cap, false)) {
    why = "cannot write the captures";
    return false;
  }
  const std::string v0 = "net_pcap0,rx_pcap=" + in_cap + ",infinite_rx=1";
  const std::string v1 = "net_pcap1,rx_pcap=" + out_cap + ",infinite_rx=1";
  const std::string cpus = floating_lcores(2);
  const std::string secs = std::to_string(opt.seconds);
  const std::string mbufs = "131072";  // infinite_rx holds each capture in mbufs
  // testpmd: io forwarding, one forwarding lcore, port stats every second.
  const std::string tp_log = dir + "/testpmd.log";
  const pid_t tp = spawn_logged({"dpdk-testpmd",
                                 "--lcores",
                                 cpus,
                                 "--no-huge",
                                 "--no-shconf",
                                 "-m",
                                 "1024",
                                 "--no-pci",
                                 "--log-level=error",
                                 "--file-prefix",
                                 "asenet-tp-" + std::to_string(getpid()),
                                 "--vdev",
                                 v0,
                                 "--vdev",
                                 v1,
                                 "--",
                                 "--forward-mode=io",
                                 "--auto-start",
                                 "--stats-period=1",
                                 "--nb-cores=1",
                                 "--total-num-mbufs=" + mbufs},
                                tp_log);
  if (tp < 0) {
    why = "cannot run dpdk-testpmd (apt-get install dpdk)";
    return false;
  }
  // testpmd prints "Rx-pps: N" per port every second, from its start (it
  // loads the captures into mbufs first). Wait for a block with traffic, then
  // for `seconds` more blocks; the last block counts.
  auto rates = [&] {
    std::ifstream f(tp_log);
    std::string line;
    std::vector<double> pps;
    while (std::getline(f, line)) {
      const auto k = line.find("Rx-pps:");
      if (k != std::string::npos) pps.push_back(std::stod(line.substr(k + 7)));
    }
    return pps;
  };
  const auto t0 = std::chrono::steady_clock::now();
  size_t first_busy = SIZE_MAX;
  std::vector<double> pps;
  const auto blocks = static_cast<size_t>(std::max(1.0, opt.seconds));
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    pps = rates();
    for (size_t i = 0; i + 1 < pps.size() && first_busy == SIZE_MAX; i += 2)
      if (pps[i] + pps[i + 1] > 0) first_busy = i;
    if (first_busy != SIZE_MAX && pps.size() >= first_busy + 2 * (blocks + 1)) break;
  }
  kill(tp, SIGINT);
  int st = 0;
  waitpid(tp, &st, 0);
  if (first_busy == SIZE_MAX || pps.size() < first_busy + 4) {
    why = "testpmd printed no rates (see " + tp_log + ")";
    return false;
  }
  res.testpmd_mpps = (pps[pps.size() - 1] + pps[pps.size() - 2]) / 1e6;
  const std::string topo = dir + "/topology.toml", summary = dir + "/summary.json";
  {
    std::ofstream t(topo);
    t << bench_topology(rules, 65536) << "\n[ports]\ninternet = \"" << v0 << "\"\nvnet = \"" << v1
      << "\"\nonprem = \"net_null0,no-rx=1\"\n";
  }
  const pid_t ad = spawn_logged({opt.asenetd,
                                 "--lcores",
                                 cpus,
                                 "--no-huge",
                                 "--no-shconf",
                                 "-m",
                                 "1024",
                                 "--no-pci",
                                 "--log-level=error",
                                 "--file-prefix",
                                 "asenet-ad-" + std::to_string(getpid()),
                                 "--",
                                 "--topology",
                                 topo,
                                 "--duration",
                                 secs,
                                 "--summary",
                                 summary,
                                 "--mbufs",
                                 mbufs},
                                dir + "/asenetd.log");
  if (ad < 0) {
    why = "cannot run " + opt.asenetd;
    return false;
  }
  waitpid(ad, &st, 0);
  std::ifstream s(summary);
  std::string js((std::istreambuf_iterator<char>(s)), std::istreambuf_iterator<char>());
  const auto k = js.find("\"packets_forwarded\":");
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || k == std::string::npos) {
    why = "asenetd failed (see " + dir + "/asenetd.log)";
    return false;
  }
  res.asenetd_mpps = std::stod(js.substr(k + 20)) / opt.seconds / 1e6;
  if (const auto c = js.find("\"flows_created\":"); c != std::string::npos)
    res.asenetd_created = std::stoull(js.substr(c + 16));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::remove_all("/var/run/dpdk/asenet-tp-" + std::to_string(getpid()), ec);
  std::filesystem::remove_all("/var/run/dpdk/asenet-ad-" + std::to_string(getpid()), ec);
  return true;
}

std::string rounds_text(const RunResult& r, const char* sep) {
  std::string s;
  for (double c : r.round_cycles) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.1f", s.empty() ? "" : sep, c);
    s += buf;
  }
  return s;
}

std::string stage_json(const RunResult& r) {
  std::string s = "{";
  for (size_t i = 0; i < kNumStages && r.have_stages; ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s\"%s\":%.1f", i ? "," : "", kStages[i], r.stages[i]);
    s += buf;
  }
  return s + "}";
}

}  // namespace

int run_bench(const BenchOptions& opt) {
  std::string why;
  const auto sc_opt = resolve(opt, why);
  if (!sc_opt) {
    std::cerr << "asenetctl bench: " << why << "\n";
    return 2;
  }
  Scenario sc = *sc_opt;
  std::vector<RuleBody> rules;
  try {
    rules = sc.classbench.empty() ? synthetic_rules(sc.rules - 1) : classbench_rules(sc.classbench, sc.rules - 1);
  } catch (const std::exception& e) {
    std::cerr << "asenetctl bench: " << e.what() << "\n";
    return 1;
  }
  sc.rules = static_cast<unsigned>(rules.size()) + 1;  // a ClassBench set may hold fewer
  // Established: the flows and some room. New flows: twice what is measured
  // (the run stops at half the table).
  const unsigned table = sc.established ? sc.flows + 1024 : 2000000;
  Topology topo;
  try {
    topo = load_topology_text(bench_topology(rules, table), "bench");
  } catch (const TopologyError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  const std::string prefix = "asenet-bench-" + std::to_string(getpid());
  // Memory: each worker's tables, twice over for the scaling run, and the pools.
  const uint64_t per_worker_mib = static_cast<uint64_t>(table) * 300 / (1 << 20) + 64;
  const uint64_t mem_mib = std::max<uint64_t>(1024, per_worker_mib * (opt.workers + 1) + 256);
  std::string err;
  if (eal_init(
          {"asenetctl-bench", "--no-huge", "--no-shconf", "-m", std::to_string(mem_mib), "--no-pci", "--no-telemetry",
           "--log-level=error", "--lcores", floating_lcores(opt.workers), "--file-prefix", prefix},
          err) < 0) {
    std::cerr << "asenetctl bench: " << err << "\n";
    return 1;
  }
  // EAL --no-huge memory is faulted in on first touch (hugepages are not):
  // fault it all in now, so that no page fault lands in the measured loop.
  rte_memseg_list_walk(
      [](const rte_memseg_list* msl, void*) {
        if (msl->base_va != nullptr && msl->len > 0) madvise(msl->base_va, msl->len, MADV_POPULATE_WRITE);
        return 0;
      },
      nullptr);
  int rc = 0;
  {
    std::vector<rte_mempool*> pools;
    for (unsigned i = 0; i < opt.workers; ++i) {
      rte_mempool* p = rte_pktmbuf_pool_create(("bench_pool" + std::to_string(i)).c_str(), 8191, 256, 0,
                                               RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
      if (p == nullptr) {
        std::cerr << "asenetctl bench: cannot create the mbuf pools\n";
        return 1;
      }
      pools.push_back(p);
    }
    ReplayPorts ports;
    auto ts = TableSet::build(compile(topo, 1), opt.workers, err);
    if (!ts || !create_replay_ports(opt.workers, 4096, pools[0], ports, err)) {
      std::cerr << "asenetctl bench: " << err << "\n";
      return 1;
    }
    RunResult one, many;
    if (!run_workers(sc, opt, *ts, ports, pools, 1, table, 0, one, err) ||
        (opt.workers > 1 && !run_workers(sc, opt, *ts, ports, pools, opt.workers, table, 1, many, err))) {
      std::cerr << "asenetctl bench: " << err << "\n";
      return 1;
    }
    const RunResult& main = opt.workers > 1 ? many : one;
    if (main.drops != 0 && sc.established) rc = 1;
    const double hz = static_cast<double>(rte_get_tsc_hz());
    VdevResult vd;
    bool have_vdev = false;
    if (opt.baseline) {
      // EAL is still up here, but the comparison runs in child processes.
      have_vdev = vdev_comparison(opt, sc, rules, vd, why);
      if (!have_vdev) {
        std::cerr << "asenetctl bench: baseline: " << why << "\n";
        rc = 1;
      }
    }
    const double mem_mib_flows = static_cast<double>(one.flow_table_bytes) / (1 << 20);
    const double mem_mib_snat = static_cast<double>(one.snat_bytes) / (1 << 20);
    const std::string rule_source =
        sc.classbench.empty() ? "synthetic" : "classbench:" + std::filesystem::path(sc.classbench).filename().string();
    // The headline: asenetd on the vdevs when the baseline ran (so that ratio =
    // mpps / baseline, like for like), else the pipeline in process.
    const double mpps = have_vdev ? vd.asenetd_mpps : main.mpps;
    if (opt.json) {
      std::printf("{\"scenario\":\"%s\",\"workers\":%u,\"mpps\":%.3f,\"cycles_per_packet\":%.1f,\"mpps_source\":\"%s\"",
                  sc.name.c_str(), opt.workers, mpps, hz / (mpps * 1e6),
                  have_vdev ? "asenetd on two pcap vdevs, one forwarding lcore" : "pipeline in process");
      if (have_vdev)
        std::printf(
            ",\"baseline\":{\"testpmd_io_mpps\":%.3f},\"ratio\":%.3f,\"vdev\":{\"traffic\":\"%s\","
            "\"asenetd_mpps\":%.3f,\"testpmd_io_mpps\":%.3f,\"asenetd_flows_created\":%llu,"
            "\"asenetd_connections_per_s\":%.0f}",
            vd.testpmd_mpps, vd.asenetd_mpps / vd.testpmd_mpps,
            sc.vdev == VdevTraffic::kChurn ? "syn+rst churn" : "established", vd.asenetd_mpps, vd.testpmd_mpps,
            static_cast<unsigned long long>(vd.asenetd_created), static_cast<double>(vd.asenetd_created) / opt.seconds);
      std::printf(
          ",\"in_process\":{\"mpps\":%.3f,\"cycles_per_packet\":%.1f,\"generator_cycles_per_packet\":%.1f,"
          "\"packets\":%llu,\"stage_cycles_per_packet\":%s,\"rounds_cycles_per_packet\":[%s]}",
          main.mpps, one.per_pkt - one.gen_per_pkt, one.gen_per_pkt, static_cast<unsigned long long>(main.packets),
          stage_json(one).c_str(), rounds_text(one, ",").c_str());
      if (opt.workers > 1)
        std::printf(",\"scaling\":{\"one_worker_mpps\":%.3f,\"workers_mpps\":%.3f,\"ratio\":%.3f}", one.mpps, many.mpps,
                    many.mpps / one.mpps);
      std::printf(
          ",\"flows_live\":%u,\"flows_created\":%llu,\"connections_per_s\":%.0f,\"nsg_rules\":%u,"
          "\"acl_rules\":%zu,\"rule_source\":\"%s\",\"drops\":%llu,\"memory\":{\"flow_capacity\":%u,"
          "\"flow_table_mib\":%.1f,\"snat_tables_mib\":%.1f,\"bytes_per_flow\":%.0f,"
          "\"flow_struct_bytes\":%zu}}\n",
          main.flows_live, static_cast<unsigned long long>(main.created), sc.established ? 0.0 : main.conn_per_s,
          sc.rules, ts->acl_rule_count(), rule_source.c_str(), static_cast<unsigned long long>(main.drops),
          one.flow_capacity, mem_mib_flows, mem_mib_snat, static_cast<double>(one.flow_table_bytes) / one.flow_capacity,
          sizeof(Flow));
    } else {
      std::printf("scenario %s: %u NSG rules (%s; %zu rte_acl rules), %u live flows, %u worker%s\n", sc.name.c_str(),
                  sc.rules, rule_source.c_str(), ts->acl_rule_count(), main.flows_live, opt.workers,
                  opt.workers > 1 ? "s" : "");
      std::printf(
          "  in process: %.2f Mpps (one worker: %.1f cycles/packet, the median of rounds %s; generator alone "
          "%.1f more)\n",
          main.mpps, one.per_pkt - one.gen_per_pkt, rounds_text(one, " ").c_str(), one.gen_per_pkt);
      if (one.have_stages) {
        std::printf("  cycles/packet by stage:");
        for (size_t i = 0; i < kNumStages; ++i) std::printf("%s %s %.1f", i ? "," : "", kStages[i], one.stages[i]);
        std::printf("\n");
      }
      if (!sc.established)
        std::printf("  new connections: %.2f M/s (%llu created, %llu dropped)\n", main.conn_per_s / 1e6,
                    static_cast<unsigned long long>(main.created), static_cast<unsigned long long>(main.drops));
      if (opt.workers > 1)
        std::printf("  scaling: one worker %.2f Mpps, %u workers %.2f Mpps, ratio %.2f\n", one.mpps, opt.workers,
                    many.mpps, many.mpps / one.mpps);
      std::printf("  memory: %u-flow table %.1f MiB (%.0f bytes a flow, hash keys included), SNAT tables %.1f MiB\n",
                  one.flow_capacity, mem_mib_flows, static_cast<double>(one.flow_table_bytes) / one.flow_capacity,
                  mem_mib_snat);
      if (have_vdev) {
        std::printf(
            "  on two pcap vdevs (%s), one forwarding lcore: asenetd %.2f Mpps, dpdk-testpmd io %.2f Mpps, "
            "ratio %.2f\n",
            sc.vdev == VdevTraffic::kChurn ? "SYN+RST churn: a new connection every other packet" : "established",
            vd.asenetd_mpps, vd.testpmd_mpps, vd.asenetd_mpps / vd.testpmd_mpps);
        if (sc.vdev == VdevTraffic::kChurn)
          std::printf("  asenetd on the vdevs: %.2f M connections/s (each opened, reset and replaced)\n",
                      static_cast<double>(vd.asenetd_created) / opt.seconds / 1e6);
      }
    }
    destroy_replay_ports(ports);
  }
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all("/var/run/dpdk/" + prefix, ec);
  return rc;
}

}  // namespace asenet::control

// asenetctl bench: a scenario's traffic (bench_traffic.cpp) through the real
// pipeline in process (bench_inprocess.cpp), then asenetd against
// dpdk-testpmd on the pcap vdevs (bench_vdev.cpp), printed as text or one
// JSON document with the ratios.
#include "control/offline/bench.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>

#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "control/offline/bench_inprocess.hpp"
#include "control/offline/bench_replay.hpp"
#include "control/offline/bench_tables.hpp"
#include "control/offline/bench_traffic.hpp"
#include "control/offline/bench_vdev.hpp"
#include "control/report/progress.hpp"
#include "dataplane/flow/flow_table.hpp"
#include "dataplane/ports/ports.hpp"

namespace asenet::control {

using namespace asenet::dataplane;
using namespace asenet::control::bench;

namespace {

std::string list_text(const std::vector<double>& v, const char* sep) {
  std::string s;
  for (double c : v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.1f", s.empty() ? "" : sep, c);
    s += buf;
  }
  return s;
}

std::string stage_json(const RunResult& r, bool random = false) {
  std::string s = "{";
  for (size_t i = 0; i < kNumStages && r.have_stages; ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s\"%s\":%.1f", i ? "," : "", kStages[i],
                  random ? r.random_stages[i] : r.stages[i]);
    s += buf;
  }
  return s + "}";
}

/// Everything a bench run found, for printing.
struct Report {
  const BenchOptions& opt;
  const Scenario& sc;
  RunResult one, many;  ///< one worker; --workers N (when above 1)
  VdevResult vd;
  bool have_vdev = false;
  size_t acl_rules = 0;
  [[nodiscard]] const RunResult& main() const { return opt.workers > 1 ? many : one; }
  [[nodiscard]] std::string rule_source() const {
    return sc.classbench.empty() ? "synthetic"
                                 : "classbench:" + std::filesystem::path(sc.classbench).filename().string();
  }
};

/// The keys that tell the realistic figures beside the historical ones:
/// established in random order on cold frames, what one new connection
/// costs, testpmd's 5tswap forwarding (it rewrites L2-L4 too).
std::string realistic_json(const Report& r) {
  const double hz = static_cast<double>(rte_get_tsc_hz());
  std::string s;
  char buf[256];
  if (r.one.have_random) {
    std::snprintf(buf, sizeof buf,
                  ",\"established_random\":{\"cycles_per_packet\":%.1f,\"mpps\":%.3f,"
                  "\"generator_cycles_per_packet\":%.1f,\"rounds_cycles_per_packet\":[",
                  r.one.random_per_pkt, hz / r.one.random_per_pkt / 1e6, r.one.random_gen_per_pkt);
    s += buf + list_text(r.one.random_round_cycles, ",") + "],\"stage_cycles_per_packet\":" + stage_json(r.one, true) +
         ",\"order\":\"random\",\"frames\":\"written 16384 packets before they are processed\"}";
  }
  if (!r.sc.established) {
    std::snprintf(buf, sizeof buf, ",\"connection_cycles\":%.1f", r.one.per_pkt - r.one.gen_per_pkt);
    s += buf;
  }
  if (r.have_vdev && r.vd.testpmd_5tswap_mpps > 0) {
    std::snprintf(buf, sizeof buf, ",\"testpmd_5tswap_mpps\":%.3f,\"ratio_5tswap\":%.3f", r.vd.testpmd_5tswap_mpps,
                  r.vd.asenetd_mpps / r.vd.testpmd_5tswap_mpps);
    s += buf;
  }
  return s;
}

void print_json(const Report& r) {
  const BenchOptions& opt = r.opt;
  const Scenario& sc = r.sc;
  const RunResult& main = r.main();
  const RunResult& one = r.one;
  const VdevResult& vd = r.vd;
  const double hz = static_cast<double>(rte_get_tsc_hz());
  // The headline: asenetd on the vdevs when the baseline ran (so that ratio =
  // mpps / baseline, like for like), else the pipeline in process.
  const double mpps = r.have_vdev ? vd.asenetd_mpps : main.mpps;
  std::printf("{\"scenario\":\"%s\",\"workers\":%u,\"mpps\":%.3f,\"cycles_per_packet\":%.1f,\"mpps_source\":\"%s\"",
              sc.name.c_str(), opt.workers, mpps, hz / (mpps * 1e6),
              r.have_vdev ? "asenetd on two pcap vdevs, one forwarding lcore" : "pipeline in process");
  if (r.have_vdev)
    std::printf(
        ",\"baseline\":{\"testpmd_io_mpps\":%.3f},\"ratio\":%.3f,\"vdev\":{\"traffic\":\"%s\","
        "\"asenetd_mpps\":%.3f,\"testpmd_io_mpps\":%.3f,\"asenetd_flows_created\":%llu,"
        "\"asenetd_connections_per_s\":%.0f}",
        vd.testpmd_mpps, vd.asenetd_mpps / vd.testpmd_mpps,
        sc.vdev == VdevTraffic::kChurn ? "syn+rst churn" : "established", vd.asenetd_mpps, vd.testpmd_mpps,
        static_cast<unsigned long long>(vd.asenetd_created), static_cast<double>(vd.asenetd_created) / opt.seconds);
  std::printf("%s", realistic_json(r).c_str());
  std::printf(
      ",\"in_process\":{\"mpps\":%.3f,\"cycles_per_packet\":%.1f,\"generator_cycles_per_packet\":%.1f,"
      "\"packets\":%llu,\"stage_cycles_per_packet\":%s,\"rounds_cycles_per_packet\":[%s]}",
      main.mpps, one.per_pkt - one.gen_per_pkt, one.gen_per_pkt, static_cast<unsigned long long>(main.packets),
      stage_json(one).c_str(), list_text(one.round_cycles, ",").c_str());
  if (opt.workers > 1)
    std::printf(",\"scaling\":{\"one_worker_mpps\":%.3f,\"workers_mpps\":%.3f,\"ratio\":%.3f}", one.mpps, r.many.mpps,
                r.many.mpps / one.mpps);
  std::printf(
      ",\"flows_live\":%u,\"flows_created\":%llu,\"connections_per_s\":%.0f,\"nsg_rules\":%u,"
      "\"acl_rules\":%zu,\"rule_source\":\"%s\",\"drops\":%llu,\"memory\":{\"flow_capacity\":%u,"
      "\"flow_table_mib\":%.1f,\"snat_tables_mib\":%.1f,\"flow_and_snat_mib\":%.1f,\"bytes_per_flow\":%.0f,"
      "\"flow_struct_bytes\":%zu}}\n",
      main.flows_live, static_cast<unsigned long long>(main.created), sc.established ? 0.0 : main.conn_per_s, sc.rules,
      r.acl_rules, r.rule_source().c_str(), static_cast<unsigned long long>(main.drops), one.flow_capacity,
      static_cast<double>(one.flow_table_bytes) / (1 << 20), static_cast<double>(one.snat_bytes) / (1 << 20),
      static_cast<double>(one.flow_table_bytes + one.snat_bytes) / (1 << 20),
      static_cast<double>(one.flow_table_bytes) / one.flow_capacity, sizeof(Flow));
}

void print_text(const Report& r) {
  const BenchOptions& opt = r.opt;
  const Scenario& sc = r.sc;
  const RunResult& main = r.main();
  const RunResult& one = r.one;
  const VdevResult& vd = r.vd;
  std::printf("scenario %s: %u NSG rules (%s; %zu rte_acl rules), %u live flows, %u worker%s\n", sc.name.c_str(),
              sc.rules, r.rule_source().c_str(), r.acl_rules, main.flows_live, opt.workers, opt.workers > 1 ? "s" : "");
  std::printf(
      "  in process: %.2f Mpps (one worker: %.1f cycles/packet, the median of rounds %s; generator alone "
      "%.1f more)\n",
      main.mpps, one.per_pkt - one.gen_per_pkt, list_text(one.round_cycles, " ").c_str(), one.gen_per_pkt);
  if (one.have_random)
    std::printf("  in random order, frames from the LLC: %.1f cycles/packet (rounds %s)\n", one.random_per_pkt,
                list_text(one.random_round_cycles, " ").c_str());
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
                r.many.mpps, r.many.mpps / one.mpps);
  std::printf("  memory: %u-flow table %.1f MiB (%.0f bytes a flow, hash keys included), SNAT tables %.1f MiB\n",
              one.flow_capacity, static_cast<double>(one.flow_table_bytes) / (1 << 20),
              static_cast<double>(one.flow_table_bytes) / one.flow_capacity,
              static_cast<double>(one.snat_bytes) / (1 << 20));
  if (r.have_vdev) {
    std::printf(
        "  on two pcap vdevs (%s), one forwarding lcore: asenetd %.2f Mpps, dpdk-testpmd io %.2f Mpps, "
        "ratio %.2f\n",
        sc.vdev == VdevTraffic::kChurn ? "SYN+RST churn: a new connection every other packet" : "established",
        vd.asenetd_mpps, vd.testpmd_mpps, vd.asenetd_mpps / vd.testpmd_mpps);
    if (vd.testpmd_5tswap_mpps > 0)
      std::printf("  dpdk-testpmd 5tswap (rewrites L2-L4): %.2f Mpps, ratio %.2f\n", vd.testpmd_5tswap_mpps,
                  vd.asenetd_mpps / vd.testpmd_5tswap_mpps);
    if (sc.vdev == VdevTraffic::kChurn)
      std::printf("  asenetd on the vdevs: %.2f M connections/s (each opened, reset and replaced)\n",
                  static_cast<double>(vd.asenetd_created) / opt.seconds / 1e6);
  }
}

}  // namespace

namespace bench {

/// EAL for the bench: enough --no-huge memory for each worker's tables
/// (twice over for the scaling run) and the pools, all of it faulted in now
/// (--no-huge memory is faulted in on first touch, hugepages are not), so
/// that no page fault lands in the measured loop.
bool bench_eal(const BenchOptions& opt, unsigned table, const std::string& prefix, std::string& err) {
  // 300 bytes a flow (with its keys and SNAT share), and the mbuf pool.
  const uint64_t per_worker_mib =
      static_cast<uint64_t>(table) * 300 / (1 << 20) + 64 + kBenchPoolMbufs * 2432 / (1 << 20);
  const uint64_t mem_mib = std::max<uint64_t>(1024, per_worker_mib * (opt.workers + 1) + 256);
  if (eal_init(
          {"asenetctl-bench", "--no-huge", "--no-shconf", "-m", std::to_string(mem_mib), "--no-pci", "--no-telemetry",
           "--log-level=error", "--lcores", floating_lcores(opt.workers), "--file-prefix", prefix},
          err) < 0)
    return false;
  rte_memseg_list_walk(
      [](const rte_memseg_list* msl, void*) {
        if (msl->base_va != nullptr && msl->len > 0) madvise(msl->base_va, msl->len, MADV_POPULATE_WRITE);
        return 0;
      },
      nullptr);
  return true;
}

}  // namespace bench

namespace {

/// With EAL up: the tables, one worker, then --workers, then the vdevs.
/// 0, or the exit code after printing why.
int measure_all(const Topology& topo, unsigned table, const std::vector<RuleBody>& rules, Report& r) {
  const BenchOptions& opt = r.opt;
  std::string err;
  std::vector<rte_mempool*> pools;
  for (unsigned i = 0; i < opt.workers; ++i) {
    rte_mempool* p = rte_pktmbuf_pool_create(("bench_pool" + std::to_string(i)).c_str(), kBenchPoolMbufs, 256, 0,
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
  r.acl_rules = ts->acl_rule_count();
  // Progress between runs only (drawing in a timed loop would be measured):
  // each run's share of the time, estimated from --seconds; the vdev runs
  // (testpmd io, 5tswap, asenetd) each start EAL in a process of their own.
  const double one = 2 * opt.seconds + 1, many = opt.workers > 1 ? opt.seconds + 1 : 0,
               vdev = opt.baseline ? 3 * (opt.seconds + 2) : 0, total = one + many + vdev;
  Progress progress("bench", "runs");
  char each[64];
  std::snprintf(each, sizeof each, " (%u rounds in %g s)", opt.rounds, opt.seconds);
  progress.step(std::string("one worker in process") + each, 0);
  bool ok = run_workers(r.sc, opt, *ts, ports, pools, 1, table, 0, r.one, err);
  if (ok && opt.workers > 1) {
    progress.step(std::to_string(opt.workers) + " workers in process" + each, one / total);
    ok = run_workers(r.sc, opt, *ts, ports, pools, opt.workers, table, 1, r.many, err);
  }
  if (!ok) {
    std::cerr << "asenetctl bench: " << err << "\n";
    return 1;
  }
  int rc = r.main().drops != 0 && r.sc.established ? 1 : 0;
  if (opt.baseline) {
    // EAL is still up here, but the comparison runs in child processes.
    progress.step("on the pcap vdevs: dpdk-testpmd io and 5tswap, then asenetd", (one + many) / total);
    std::string why;
    r.have_vdev = vdev_comparison(opt, r.sc, rules, r.vd, why);
    if (!r.have_vdev) {
      std::cerr << "asenetctl bench: baseline: " << why << "\n";
      rc = 1;
    }
  }
  progress.finish();
  const unsigned runs = 1 + (opt.workers > 1 ? 1 : 0) + (opt.baseline ? 1 : 0);
  std::cerr << "bench: " << runs << (runs == 1 ? " run" : " runs") << " in " << std::fixed << std::setprecision(3)
            << progress.elapsed_s() << " s\n"
            << std::defaultfloat;
  destroy_replay_ports(ports);
  return rc;
}

/// Replay's rate without its fixed cost (EAL's start and exit); 0 when the
/// capture is too short for the difference to mean anything.
double steady_mpps(const ReplayBenchResult& r) {
  const double s = r.replay_s - r.replay_eal_s;
  return s > 0.1 * r.replay_s ? static_cast<double>(r.packets) / s / 1e6 : 0;
}

/// --scenario replay: no EAL here; replay runs in its own process.
int bench_replay(const BenchOptions& opt, const std::vector<RuleBody>& rules) {
  ReplayBenchResult r;
  std::string why;
  if (!replay_comparison(opt, rules, r, why)) {
    std::cerr << "asenetctl bench: replay: " << why << "\n";
    return 1;
  }
  const double n = static_cast<double>(r.packets);
  if (opt.json) {
    std::printf(
        "{\"scenario\":\"replay\",\"packets\":%llu,\"libpcap_seconds\":%.3f,\"libpcap_mpps\":%.3f,"
        "\"replay_seconds\":%.3f,\"replay_mpps\":%.3f,\"replay_ratio\":%.3f,\"replay_trace_seconds\":%.3f,"
        "\"replay_trace_mpps\":%.3f,\"replay_trace_ratio\":%.3f,\"replay_fixed_seconds\":%.3f,"
        "\"replay_steady_mpps\":%.3f}\n",
        static_cast<unsigned long long>(r.packets), r.libpcap_s, n / r.libpcap_s / 1e6, r.replay_s,
        n / r.replay_s / 1e6, r.libpcap_s / r.replay_s, r.replay_trace_s, n / r.replay_trace_s / 1e6,
        r.libpcap_s / r.replay_trace_s, r.replay_eal_s, steady_mpps(r));
    return 0;
  }
  std::printf("scenario replay: %llu packets (64-byte frames to the VIP, 30 a connection)\n",
              static_cast<unsigned long long>(r.packets));
  std::printf("  libpcap reading and writing them: %.2f s (%.2f Mpps)\n", r.libpcap_s, n / r.libpcap_s / 1e6);
  std::printf(
      "  asenetctl replay: %.2f s (%.2f Mpps), ratio %.2f (its fixed cost, one packet: %.2f s; without it %.2f Mpps)\n",
      r.replay_s, n / r.replay_s / 1e6, r.libpcap_s / r.replay_s, r.replay_eal_s, steady_mpps(r));
  std::printf("  asenetctl replay --trace: %.2f s (%.2f Mpps), ratio %.2f\n", r.replay_trace_s,
              n / r.replay_trace_s / 1e6, r.libpcap_s / r.replay_trace_s);
  return 0;
}

/// --scenario flow-tables: the key store against rte_table_hash_key16_ext.
int bench_tables(const BenchOptions& opt, const std::string& prefix) {
  TablesResult r;
  std::string why;
  const bool ok = compare_tables(opt.flows, r, why);
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all("/var/run/dpdk/" + prefix, ec);
  if (!ok) {
    std::cerr << "asenetctl bench: flow-tables: " << why << "\n";
    return 1;
  }
  if (opt.json) {
    std::printf(
        "{\"scenario\":\"flow-tables\",\"keys\":%u,\"rte_hash_cycles_per_lookup\":%.1f,"
        "\"key16_ext_cycles_per_lookup\":%.1f,\"key16_ext_over_rte_hash\":%.3f,\"rte_hash_mib\":%.1f,\"key16_ext_mib\":"
        "%.1f,\"rte_hash_with_flow_cycles\":%.1f,\"key16_ext_with_flow_cycles\":%.1f,\"flow_table_cycles\":%.1f,"
        "\"flow_index_mib\":%.1f,\"rte_hash_with_flow_over_flow_table\":%.3f}\n",
        r.keys, r.rte_hash_cycles, r.key16_ext_cycles, r.key16_ext_cycles / r.rte_hash_cycles, r.rte_hash_mib,
        r.key16_ext_mib, r.rte_hash_flow_cycles, r.key16_ext_flow_cycles, r.flow_table_cycles, r.flow_index_mib,
        r.rte_hash_flow_cycles / r.flow_table_cycles);
  } else {
    std::printf("scenario flow-tables: %u keys (%u flows), bursts of 32 in random order\n", r.keys, opt.flows);
    std::printf("  rte_hash:                 %6.1f cycles a lookup, %6.1f with the flow's lines read, %.1f MiB\n",
                r.rte_hash_cycles, r.rte_hash_flow_cycles, r.rte_hash_mib);
    std::printf("  rte_table_hash_key16_ext: %6.1f cycles a lookup, %6.1f with the flow's lines read, %.1f MiB\n",
                r.key16_ext_cycles, r.key16_ext_flow_cycles, r.key16_ext_mib);
    std::printf("  the flow table's index:          %6.1f with the flow's lines read, %.1f MiB\n", r.flow_table_cycles,
                r.flow_index_mib);
    std::printf("ratio rte_hash / flow table (with the flow): %.2f\n", r.rte_hash_flow_cycles / r.flow_table_cycles);
  }
  return 0;
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
  if (sc.replay) return bench_replay(opt, rules);
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
  std::string err;
  if (!bench_eal(opt, sc.flow_tables ? 2 * sc.flows : table, prefix, err)) {
    std::cerr << "asenetctl bench: " << err << "\n";
    return 1;
  }
  if (sc.flow_tables) return bench_tables(opt, prefix);
  Report r{opt, sc, {}, {}, {}, false, 0};
  const int rc = measure_all(topo, table, rules, r);
  if (rc == 0 || r.one.packets > 0) {
    if (opt.json)
      print_json(r);
    else
      print_text(r);
  }
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all("/var/run/dpdk/" + prefix, ec);
  return rc;
}

}  // namespace asenet::control

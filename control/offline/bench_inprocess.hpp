// asenetctl bench in process: the real pipeline on in-memory packets, one
// worker per lcore with its own tables, fed from ring ports and drained at
// once. Each round is timed with the TSC; the generator's own cost is
// measured alone and taken out; a separate pass times the stages one by one.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "control/offline/bench_traffic.hpp"
#include "dataplane/core/drop_reason.hpp"
#include "dataplane/ports/ports.hpp"
#include "dataplane/tables/table_set.hpp"

struct rte_mempool;

namespace asenet::control::bench {

inline constexpr const char* kStages[] = {"parse", "flow", "route", "lb", "nsg", "nat", "install", "forward", "emit"};
inline constexpr size_t kNumStages = 9;

struct RunResult {
  double mpps = 0;     ///< pipeline packets per second, all workers (generator cost taken out)
  double per_pkt = 0;  ///< cycles per packet on one worker, generator included
  double gen_per_pkt = 0;
  double conn_per_s = 0;  ///< new flows
  uint64_t packets = 0, created = 0, drops = 0;
  std::array<uint64_t, static_cast<size_t>(dataplane::DropReason::kCount)> drop_reasons{};  ///< all workers, whole run
  uint32_t flows_live = 0;
  std::array<double, kNumStages> stages{};
  bool have_stages = false;
  std::vector<double> round_cycles;  ///< worker 0, generator cost taken out
  uint64_t flow_table_bytes = 0, snat_bytes = 0;
  uint32_t flow_capacity = 0;
  /// Established, one worker: flows in random order, frames from the LLC
  /// (measure_random); cycles per packet with the generator taken out.
  bool have_random = false;
  double random_per_pkt = 0, random_gen_per_pkt = 0;
  std::array<double, kNumStages> random_stages{};  ///< by stage (zero without --stages)
  std::vector<double> random_round_cycles;
};

/// Per worker: the frames measure_random keeps in flight (16,384) and more.
constexpr unsigned kBenchPoolMbufs = 32767;

/// EAL for the bench (bench.cpp): --no-huge memory for `table` flows a worker
/// and the pools, faulted in before anything is measured.
bool bench_eal(const BenchOptions& opt, unsigned table, const std::string& prefix, std::string& err);

/// One measurement with `n` workers, each with its own tables.
bool run_workers(const Scenario& sc, const BenchOptions& opt, const dataplane::TableSet& ts,
                 const dataplane::ReplayPorts& ports, const std::vector<rte_mempool*>& pools, unsigned n,
                 unsigned table, unsigned round, RunResult& out, std::string& err);

}  // namespace asenet::control::bench

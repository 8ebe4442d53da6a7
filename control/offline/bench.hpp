// asenetctl bench: the pipeline's rates in named scenarios, measured in
// process on in-memory packets, and in the same run asenetd against
// dpdk-testpmd's io forwarding on the same pcap vdevs and lcores (printed
// figures and ratios, never a timed test).
#pragma once

#include <cstdint>
#include <string>

namespace asenet::control {

struct BenchOptions {
  /// established | new-flows | nsg-1k | nsg-10k | flows-1m | replay
  std::string scenario = "established";  ///< "" with --topology
  uint64_t packets = 3000000;            ///< replay: packets in the capture
  unsigned flows = 100000;               ///< established: concurrent flows (half in via the VIP, half out via SNAT)
  unsigned nsg_rules = 1000;             ///< established, new-flows: synthetic rules in the NSGs
  double seconds = 2.0;
  unsigned rounds = 3;   ///< measured rounds; the median counts
  unsigned workers = 1;  ///< lcores running the pipeline; above 1, one worker is measured first (scaling)
  bool json = false;
  /// Also time each stage (a second pass that calls the stages one by one
  /// with a TSC read between them; the main figure is measured without it).
  bool stages = true;
  /// Also run asenetd and `dpdk-testpmd` io forwarding on the same pcap vdevs
  /// (infinite_rx) and lcores, and report the ratio.
  bool baseline = true;
  std::string asenetd;   ///< the asenetd binary for the baseline (default: next to asenetctl)
  std::string topology;  ///< --topology: the bench on the user's own topology (bench_topology.cpp)
  std::string pcap;      ///< with --topology: established traffic from this capture
  std::string
      classbench;  ///< nsg-1k / nsg-10k: ClassBench directory (default: ../shared/testdata/classbench if present)
};

int run_bench(const BenchOptions& opt);
/// bench --topology T [--pcap FILE]: in process, on the topology's own rule sets.
int run_topology_bench(const BenchOptions& opt);

}  // namespace asenet::control

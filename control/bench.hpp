// asenetctl bench: the pipeline's established-flow and new-flow rates,
// measured in process on one lcore with in-memory packets (printed figures,
// never a timed test).
#pragma once

#include <string>

namespace asenet::control {

struct BenchOptions {
  std::string scenario = "established";  ///< established | new-flows
  unsigned flows = 100000;                ///< established: concurrent flows (half in via the VIP, half out via SNAT)
  unsigned nsg_rules = 1000;              ///< synthetic rules in the ASE subnet's NSG
  double seconds = 2.0;
  bool json = false;
  /// Also time each stage (a second pass that calls the stages one by one
  /// with a TSC read between them; the main figure is measured without it).
  bool stages = true;
  /// established: also run asenetd and `dpdk-testpmd` io forwarding on the
  /// same pcap vdevs (infinite_rx) and lcores, and report the ratio.
  bool baseline = false;
  std::string asenetd;  ///< the asenetd binary (default: next to asenetctl)
};

int run_bench(const BenchOptions& opt);

}  // namespace asenet::control

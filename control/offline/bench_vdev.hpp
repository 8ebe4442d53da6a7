// asenetctl bench on the pcap vdevs: asenetd and dpdk-testpmd's io
// forwarding on the same two looped captures (clients to the VIP on one,
// instances to the Internet on the other) and the same lcores, one after the
// other in child processes, so that their ratio is like for like.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "control/offline/bench_traffic.hpp"

namespace asenet::control::bench {

struct VdevResult {
  double testpmd_mpps = 0, asenetd_mpps = 0;
  double testpmd_5tswap_mpps = 0;  ///< testpmd --forward-mode=5tswap: swaps and rewrites L2-L4 headers
  uint64_t asenetd_created = 0;
};

/// Runs argv (argv[0] found on PATH) with stdout and stderr to `log`;
/// returns the child's pid, or -1.
pid_t spawn_logged(const std::vector<std::string>& argv, const std::string& log);

/// Runs both; false with a reason when either cannot run.
bool vdev_comparison(const BenchOptions& opt, const Scenario& sc, const std::vector<RuleBody>& rules, VdevResult& res,
                     std::string& why);

}  // namespace asenet::control::bench

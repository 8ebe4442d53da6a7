// asenetctl bench --scenario replay: `asenetctl replay` of a capture against
// libpcap alone reading and writing the same file, in the same run. The
// capture is written first (--packets, 3,000,000 by default: clients calling
// the VIP, a SYN then ACKs per connection, 64-byte frames 1 us apart).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "control/offline/bench_traffic.hpp"

namespace asenet::control::bench {

struct ReplayBenchResult {
  uint64_t packets = 0;
  double libpcap_s = 0;       ///< libpcap: pcap_next_ex and pcap_dump of every packet, best of two
  double replay_s = 0;        ///< asenetctl replay, wall clock, EAL start and exit included
  double replay_trace_s = 0;  ///< the same with --trace
  double replay_eal_s = 0;    ///< asenetctl replay of a one-packet capture: its fixed cost
};

/// Writes the capture, times each. False with a reason when one fails.
bool replay_comparison(const BenchOptions& opt, const std::vector<RuleBody>& rules, ReplayBenchResult& res,
                       std::string& why);

}  // namespace asenet::control::bench

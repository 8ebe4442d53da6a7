// asenetctl replay: the real data plane (EAL, mbufs, ring PMD ports, worker
// lcores, the same worker loop as asenetd) over pcap files, on packet time.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "control/model/packet_filter.hpp"
#include "dataplane/tables/table_spec.hpp"

namespace asenet::control {

struct ReplayInput {
  dataplane::Port side;
  std::string path;
};

struct ReplayOptions {
  std::string topology;
  std::vector<ReplayInput> inputs;
  std::string out_dir;
  unsigned workers = 1;  ///< in all: nodes x workers per node
  /// --nodes: the workers are a pool of this many asenetd nodes of
  /// workers / nodes each (docs/design/scale-out.md). Each packet reaches a
  /// node by a hash of its 5-tuple, as the router's ECMP spreads them; one
  /// that another node owns crosses a peer link to it, in its peer header.
  unsigned nodes = 1;
  bool trace = false;
  /// --trace-filter: only the packets whose frame as it arrived matches go to
  /// trace.jsonl and --report (their sequence numbers kept); null: all.
  std::shared_ptr<const PacketFilter> trace_filter;
  bool report = false;                ///< one human line per packet on stdout
  bool json = false;                  ///< print summary.json on stdout instead of the text summary
  bool timing = false;                ///< summary.json gains "run": elapsed seconds, packets per second
  std::vector<std::string> eal_args;  ///< extra EAL arguments
  /// Rule changes: at `seconds` after the first input packet, the topology
  /// `path` becomes the next generation (in the order given; times ascending).
  struct Apply {
    double seconds = 0;
    std::string path;
  };
  std::vector<Apply> applies;
};

/// Runs a replay. Returns the process exit code (0 ok, 1 runtime failure, 2 bad
/// input) after printing any error on stderr.
int run_replay(const ReplayOptions& opt);

}  // namespace asenet::control

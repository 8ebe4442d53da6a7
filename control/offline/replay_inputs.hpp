// What a replay reads: the topology and the later generations of --apply
// (loaded and compiled before anything runs, so a bad one fails first), and
// the captures, merged in time order (ties: the earlier --in first). A
// capture cut short in its last record is replayed up to there, with a
// warning; any other read error ends that capture and fails the replay.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <string>
#include <vector>

#include "control/model/topology.hpp"
#include "control/offline/replay.hpp"
#include "dataplane/tables/table_spec.hpp"

namespace asenet::control {

/// The topology and every generation the replay will run, compiled.
struct Generations {
  Topology topo;
  dataplane::TableSpec first;
  std::vector<dataplane::TableSpec> later;  ///< one per --apply, in order
};

/// Loads and compiles the topology and every --apply file, checks the other
/// options. 0, or the exit code after printing why (2: bad input).
int load_generations(const ReplayOptions& opt, Generations& g);

/// One capture being read.
struct Capture {
  ReplayInput in;
  pcap_t* pcap = nullptr;
  pcap_pkthdr* hdr = nullptr;  ///< the current packet (valid while !eof)
  const u_char* data = nullptr;
  bool eof = false;
  uint64_t index = 0;    ///< packets of this capture taken so far
  FILE* file = nullptr;  ///< the stdio stream libpcap reads (for progress)
  uint64_t size = 0;     ///< the file's size in bytes

  /// The current packet's capture time in nanoseconds.
  [[nodiscard]] uint64_t time_ns() const noexcept;
};

/// Every capture of a replay, read in time order.
class Captures {
 public:
  Captures() = default;
  Captures(const Captures&) = delete;
  Captures& operator=(const Captures&) = delete;
  ~Captures() { close(); }

  /// Opens every input (regular files, Ethernet link type) and reads the
  /// first packet of each. False, after printing why, on bad input.
  bool open(const std::vector<ReplayInput>& inputs);
  /// The capture whose current packet is earliest (nullptr: all read).
  Capture* earliest() noexcept;
  /// Takes the current packet of `c` and reads its next one.
  void advance(Capture& c);
  void close() noexcept;

  /// The share of the inputs' bytes read so far (0-1), for progress.
  [[nodiscard]] double share_read() const noexcept;
  [[nodiscard]] const std::vector<std::string>& cut_short() const noexcept { return truncated_; }
  [[nodiscard]] bool failed() const noexcept { return read_error_; }
  /// What summary.json says when the replay failed.
  [[nodiscard]] const std::string& failure() const noexcept { return read_error_text_; }

 private:
  void read_next(Capture& c);
  std::vector<Capture> list_;
  std::vector<std::string> truncated_;
  bool read_error_ = false;
  std::string read_error_text_;
};

}  // namespace asenet::control

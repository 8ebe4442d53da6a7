// What a replay writes, in input order whatever the worker count: each
// packet's outputs into {internet,vnet,onprem}.pcap (what the fabric made for
// it first, then by worker), its trace line (--trace) and its report line
// (--report). Packets in flight wait in a window of slots indexed by their
// sequence number until every worker is past them.
#pragma once

#include <pcap/pcap.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "control/offline/replay.hpp"
#include "dataplane/pipeline/pipeline.hpp"

struct rte_mbuf;

namespace asenet::control {

/// One output of a packet.
struct ReplayOutput {
  uint8_t side;
  bool made_by_fabric;  ///< timer-made (an idle reset): written before the packet's own output
  uint16_t worker;
  rte_mbuf* m;
};

/// A packet in flight: where it came in, what came out of it, and for
/// --report a parse of it as it arrived.
struct ReplaySlot {
  std::vector<ReplayOutput> out;  ///< usually one; timers can add more (idle resets)
  dataplane::Port in_side = dataplane::Port::kInternet;
  dataplane::PacketMeta brief{};
  dataplane::DropReason brief_parse = dataplane::DropReason::kNone;
  uint32_t wire_len = 0;
  uint16_t ethertype = 0;
  bool traced = true;  ///< matches --trace-filter (or there is none)
};

/// A one-line description of a packet as it arrived (--report).
std::string describe_packet(const ReplaySlot& s);

class ReplayWriter {
 public:
  /// `window`: packets in flight at most (a power of two); `ts_field`: the
  /// mbuf's timestamp dynfield.
  ReplayWriter(const ReplayOptions& opt, uint64_t window, int ts_field);
  ReplayWriter(const ReplayWriter&) = delete;
  ReplayWriter& operator=(const ReplayWriter&) = delete;
  ~ReplayWriter() { close(); }

  /// Opens the three captures and trace.jsonl. False (printed) when one of
  /// the captures cannot be written; the replay still runs.
  bool open();
  /// Records a packet entering the data plane.
  void take_input(uint64_t seq, dataplane::Port side, const uint8_t* frame, uint32_t len);
  /// Files an output under the input packet `seq` it belongs to.
  void take_output(uint64_t seq, uint8_t side, uint16_t worker, rte_mbuf* m);
  /// Writes every packet up to and including `bound`, in order.
  void flush_to(int64_t bound, const dataplane::TableSpec& spec);
  /// The trace records' window, one per packet in flight (the workers'
  /// TraceSink writes into it, indexed by sequence number).
  dataplane::TraceRecord* trace_slots() noexcept { return trace_slots_.data(); }
  void close() noexcept;

  [[nodiscard]] uint64_t flushed() const noexcept { return flushed_; }
  [[nodiscard]] const std::array<uint64_t, dataplane::kNumPorts>& out_by_side() const noexcept { return out_by_side_; }

 private:
  void report_line(uint64_t seq, const ReplaySlot& sl, const dataplane::TraceRecord& tr,
                   const dataplane::TableSpec& spec) const;
  void write_outputs(ReplaySlot& sl);

  const ReplayOptions& opt_;
  uint64_t window_;
  int ts_field_;
  std::vector<ReplaySlot> slots_;
  std::vector<dataplane::TraceRecord> trace_slots_;
  std::array<pcap_t*, dataplane::kNumPorts> dead_{};
  std::array<pcap_dumper_t*, dataplane::kNumPorts> dumpers_{};
  std::vector<char> trace_buf_;  ///< trace_out_'s buffer: declared first, so it outlives the stream
  std::ofstream trace_out_;
  std::vector<uint8_t> frame_buf_;
  std::array<uint64_t, dataplane::kNumPorts> out_by_side_{};
  uint64_t flushed_ = 0;
};

}  // namespace asenet::control

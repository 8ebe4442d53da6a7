// What the pipeline tells about each packet when asked: the trace record
// (one per packet: how it arrived, every decision, how it left), the filter a
// live trace keeps packets by, and the sink records go to. emit() writes them
// (record_traces, trace.cpp); replay and asenetd's tracer read them.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "dataplane/core/packet.hpp"

namespace asenet::dataplane {

/// What one packet did, for `--trace` (replay) and `asenetctl trace` (live).
struct TraceRecord {
  uint64_t seq = 0;
  uint64_t now_ns = 0;
  unsigned worker = 0;
  // The packet as it arrived.
  uint32_t src = 0, dst = 0;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
  uint8_t tcp_flags = 0;
  uint16_t length = 0;  ///< IPv4 total length (0 when not parsed)
  Port in_port = Port::kInternet;
  Verdict verdict = Verdict::kDrop;
  Port out_port = Port::kInternet;
  DropReason reason = DropReason::kNone;
  bool routed = false;
  NextHop next_hop{};
  FlowState flow = FlowState::kNone;
  NsgVerdicts nsg{};
  bool rewrite = false;  ///< NAT: the packet's addresses after translation below
  uint32_t new_src = 0, new_dst = 0;
  uint16_t new_sport = 0, new_dport = 0;
};

/// Which packets a live trace keeps: those matching every field given.
struct TraceFilter {
  uint8_t ports = 0x7;  ///< bit per entry side
  bool match_src = false, match_dst = false, match_sport = false, match_dport = false, match_proto = false;
  uint32_t src = 0, dst = 0;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
  [[nodiscard]] bool matches(const PacketMeta& m) const noexcept {
    return (ports >> static_cast<unsigned>(m.in_port) & 1) != 0 && (!match_src || m.src_ip == src) &&
           (!match_dst || m.dst_ip == dst) && (!match_sport || m.sport == sport) &&
           (!match_dport || m.dport == dport) && (!match_proto || m.proto == proto);
  }
};

/// A connection's reply as it will arrive (--both-directions): the packet a
/// traced one's answer is, after NAT. proto 0 = an empty slot.
struct TraceReplyKey {
  uint32_t src = 0, dst = 0;
  uint16_t sport = 0, dport = 0;
  uint8_t proto = 0;
  [[nodiscard]] bool operator==(const TraceReplyKey&) const noexcept = default;
  [[nodiscard]] size_t slot() const noexcept {
    const uint64_t h =
        (uint64_t{src} << 32 | dst) * 0x9E3779B97F4A7C15ull ^ (uint64_t{sport} << 24 | uint64_t{dport} << 8 | proto);
    return static_cast<size_t>((h * 0xBF58476D1CE4E5B9ull) >> 56);
  }
};
inline constexpr size_t kTraceReplySlots = 256;

/// Where trace records go when tracing is on. nullptr in WorkerContext =
/// tracing off, no cost beyond one load per burst.
/// Replay: a window of slots indexed by the packet's sequence number
/// (seq & mask); the reader guarantees no two packets in flight share a slot.
/// Live (`live`): a ring this worker alone writes, in order, the packets that
/// match `filter` while the shared `budget` lasts; `head` counts records
/// written (release), the control thread reads behind it and drops what it
/// was too slow for. `frame_filter` (live, a tcpdump filter: libpcap's BPF
/// interpreter, which asenetd supplies so that the data plane needs DPDK
/// only): stamp_burst runs it on each frame as it arrived.
/// `both_directions`: the replies of the connections traced are traced too,
/// found by the key their answer arrives with (`replies`, direct-mapped: a
/// later connection may take an earlier one's slot).
struct TraceSink {
  TraceRecord* slots = nullptr;
  uint64_t mask = 0;
  bool live = false;
  TraceFilter filter{};
  bool (*frame_filter)(const void* state, const uint8_t* frame, uint32_t caplen, uint32_t wire_len) noexcept = nullptr;
  const void* frame_filter_state = nullptr;
  bool both_directions = false;
  std::array<TraceReplyKey, kTraceReplySlots> replies{};
  std::atomic<int64_t>* budget = nullptr;
  alignas(64) std::atomic<uint64_t> head{0};
};

struct Burst;
/// Writes the trace records of a finished burst into `sink` (emit calls it
/// when tracing is on).
void record_traces(const Burst& b, TraceSink& sink, unsigned worker) noexcept;

}  // namespace asenet::dataplane

// NSG flow log events (azure-semantics 6.8, version 2): what a worker reports
// about flows that an NSG with flow logs judged. Workers write fixed-size
// events into a ring they alone write; the control side (replay's reader,
// asenetd's control loop) turns them into Azure's JSON records.
//
// Events: kBegin when a flow is allowed (its first packet), kDeny when a
// first packet is denied, kContinue every 5 minutes of a flow that is still
// carrying packets, kEnd when the flow is removed. Continue and End carry the
// packets and bytes each way since the flow's previous event.
//
// Cost: nothing unless some NSG has flow logs on (TableSet::flow_logs()); then
// one event per new flow and per flow end, and one compare per flow hit.
#pragma once

#include "dataplane/core/time.hpp"

#include <array>
#include <atomic>

#include "dataplane/core/spsc_ring.hpp"
#include <cstdint>

namespace asenet::dataplane {

enum class FlowLogKind : uint8_t { kBegin, kContinue, kEnd, kDeny };

struct FlowLogEvent {
  uint64_t time_ns = 0;
  uint64_t generation = 0;   ///< the TableSet whose rule ids `rule` names (kBegin, kDeny)
  uint64_t flow_serial = 0;  ///< with worker and slot: which flow (kContinue, kEnd)
  uint32_t flow_slot = 0;
  uint16_t worker = 0;
  FlowLogKind kind = FlowLogKind::kBegin;
  uint8_t proto = 0;
  uint32_t src = 0, dst = 0;  ///< the first packet as it arrived
  uint16_t sport = 0, dport = 0;
  uint32_t xdst = 0;  ///< its destination as delivered (after DNAT; = dst otherwise)
  uint16_t xdport = 0;
  uint8_t nrules = 0;
  std::array<uint32_t, 4> rule{};     ///< the deciding rule of each NSG level, in evaluation order
  std::array<uint64_t, 2> packets{};  ///< [0] initiator -> responder, [1] back
  std::array<uint64_t, 2> bytes{};
};

/// One worker's event ring (the storage is the owner's). `block` (replay): when
/// the ring is full the worker waits for the reader, so no event is ever lost
/// and output stays deterministic. Live: a full ring drops the event and counts it.
using FlowLogSink = SpscRing<FlowLogEvent>;

/// Seconds between a logged flow's kContinue events (Azure: every 5 minutes).
inline constexpr uint64_t kFlowLogContinueNs = 300ull * kNsPerSecond;

}  // namespace asenet::dataplane

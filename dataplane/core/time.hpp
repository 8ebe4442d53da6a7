// Time in the data plane: nanoseconds (the packet clock in replay, the TSC
// scaled to ns live), the constants that say so, and a generation's timers.
#pragma once

#include <cstdint>

namespace asenet::dataplane {

inline constexpr uint64_t kNsPerSecond = 1000000000ull;
inline constexpr uint64_t kNsPerMs = 1000000ull;

/// Azure's flow timers (azure-semantics 6.4, 7.6), the defaults of the
/// topology's [emulator] keys and of every spec.
inline constexpr uint32_t kDefaultFlowIdleTimeoutS = 240;  ///< idle: 4 minutes
inline constexpr uint32_t kDefaultTcpFinTimeoutS = 240;    ///< after both FINs
inline constexpr uint32_t kDefaultTcpRstTimeoutS = 15;     ///< after an RST

/// The timers of one TableSet generation (azure-semantics 6.4, 7.6): idle 4 min;
/// after both FINs 240 s; after RST 15 s.
struct FlowTimers {
  uint64_t idle_ns = kDefaultFlowIdleTimeoutS * kNsPerSecond;
  uint64_t fin_ns = kDefaultTcpFinTimeoutS * kNsPerSecond;
  uint64_t rst_ns = kDefaultTcpRstTimeoutS * kNsPerSecond;
};

}  // namespace asenet::dataplane

// asenetd --metrics-listen ADDR:PORT: GET /metrics in Prometheus' text format,
// served by cpp-httplib on its own threads from the agent's last snapshot
// (the mutex-guarded copy DPDK telemetry reads, refreshed by the control
// thread every 200 ms), never from worker state.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "daemon/agent.hpp"

namespace asenet::daemon {

struct ListenAddress {
  std::string host;  ///< an IPv4 or IPv6 address (no names: no resolver at start)
  uint16_t port = 0;
};

/// Parses ADDR:PORT ("127.0.0.1:9469", "0.0.0.0:9469", "[::1]:9469"); nullopt
/// with `error` saying what is wrong.
std::optional<ListenAddress> parse_listen_address(const std::string& text, std::string& error);

class MetricsServer {
 public:
  MetricsServer();
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  /// Binds `at` and serves until stop(); false with `error` if it cannot bind.
  bool start(const ListenAddress& at, const control::LiveDataplane& live, std::string& error);
  /// Stops serving and joins its thread (also done by the destructor).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace asenet::daemon

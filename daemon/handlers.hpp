// asenetd's requests: a table from message type to handler, one function per
// request (push with its plan, the old push, stats, health, trace), and the
// live trace's forwarding. Control thread only.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "daemon/agent.hpp"
#include "protocol/control_socket.hpp"

namespace asenet::daemon {

/// What only takes effect when asenetd starts: a push must match it.
struct StartSettings {
  std::array<std::optional<std::string>, dataplane::kNumPorts> ports;
  uint32_t flow_table_size = 0;
  uint32_t mtu = 1500;  ///< the ports' MTU and the mbufs' size: a push may lower it, not raise it
};

class RequestHandlers {
 public:
  using ClientId = control::ControlServer::ClientId;
  RequestHandlers(control::LiveDataplane& live, control::ControlServer& server, dataplane::TableHandover& handover,
                  StartSettings start);
  /// The server's handler: dispatches by type; a request that throws gets
  /// an error frame ("bad request: ...").
  void handle(ClientId id, control::wire::Type type, std::string_view payload);
  /// Forwards the running trace's lines to its client; ends it when done.
  void pump_trace();
  /// Forwards the running capture's frames to its client; ends it when done.
  void pump_capture();

 private:
  void push_plan(ClientId id, std::string_view payload);
  void push_commit(ClientId id, std::string_view payload);
  /// The checks of a push against how asenetd started (start-only keys, MTU,
  /// L2 mode); false with the reason.
  bool push_allowed(const nlohmann::json& hdr, const dataplane::TableSpec& spec, std::string& why) const;
  void push(ClientId id, std::string_view payload);
  void stats(ClientId id, std::string_view payload);
  void health(ClientId id, std::string_view payload);
  void trace(ClientId id, std::string_view payload);
  void capture(ClientId id, std::string_view payload);
  void refuse_push(ClientId id, const std::string& why);

  control::LiveDataplane& live;
  control::ControlServer& server;
  dataplane::TableHandover& handover;
  const StartSettings start_;
  std::map<control::wire::Type, void (RequestHandlers::*)(ClientId, std::string_view)> table_;
  ClientId tracer = 0;
  ClientId capturer = 0;
};

}  // namespace asenet::daemon

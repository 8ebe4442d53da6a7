// The control socket: a unix stream socket speaking wire.hpp frames.
//
// Server side (asenetd, control thread only): non-blocking, polled from the
// control loop between other work, so a slow or hostile client can never
// stall the data plane or the other clients. Created mode 0600 (0660 with a
// group); each connection's peer credentials are checked as well. A client
// whose message is malformed or too large gets an error frame and is closed;
// one that stops half-way through a message is closed after a timeout.
//
// Client side (asenetctl): blocking calls with a timeout.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "protocol/wire.hpp"

namespace asenet::control {

struct ControlServerOptions {
  std::string path;
  std::optional<gid_t> group;  ///< also allow this group (socket mode 0660)
  size_t max_clients = 16;
  std::chrono::milliseconds partial_timeout{5000};  ///< a half-sent message is dropped after this
  /// A client that sends no whole request this long after connecting (or
  /// after its last reply) is cut, so silent clients cannot hold every slot.
  std::chrono::milliseconds idle_timeout{5000};
  size_t max_output = 16u << 20;  ///< a client that does not read its replies is closed beyond this
};

class ControlServer {
 public:
  using ClientId = uint64_t;
  /// Called for every complete, well-framed request.
  using Handler = std::function<void(ClientId, wire::Type, std::string_view payload)>;

  ControlServer() = default;
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  /// Creates and listens on the socket. Refuses a path where another process
  /// is listening; replaces a stale socket file. False with `error` on failure.
  bool listen(const ControlServerOptions& opt, std::string& error);
  /// Waits up to `timeout_ms` for activity, then accepts, reads, dispatches
  /// complete requests to `handler` and writes pending replies.
  void poll(int timeout_ms, const Handler& handler);
  /// Queues a reply frame for a client (dropped silently if it has gone).
  void send(ClientId id, wire::Type type, std::string_view payload);
  /// Closes a client once its queued output is written.
  void close_after_send(ClientId id);
  /// Exempts a client from the idle cut while it waits for a long answer
  /// (a live trace), or ends the exemption.
  void hold(ClientId id, bool held);
  [[nodiscard]] bool connected(ClientId id) const;
  /// Counters for stats: rejected connections (credentials, too many) and
  /// malformed messages.
  [[nodiscard]] uint64_t rejected() const noexcept { return rejected_; }
  [[nodiscard]] uint64_t malformed() const noexcept { return malformed_; }

 private:
  struct Client {
    ClientId id = 0;
    int fd = -1;
    std::string in;
    std::string out;
    std::chrono::steady_clock::time_point partial_since{};
    std::chrono::steady_clock::time_point idle_since{};  ///< connected, or last request / reply
    bool closing = false;
    bool held = false;
  };
  void accept_clients();
  bool read_client(Client& c, const Handler& handler);
  bool write_client(Client& c);
  bool peer_allowed(int fd) const;
  void drop(size_t index);
  Client* find(ClientId id);
  const Client* find(ClientId id) const;

  ControlServerOptions opt_;
  int listen_fd_ = -1;
  std::vector<Client> clients_;
  ClientId next_id_ = 1;
  uint64_t rejected_ = 0;
  uint64_t malformed_ = 0;
};

class ControlClient {
 public:
  using Deadline = std::chrono::steady_clock::time_point;
  ControlClient() = default;
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  /// Each call gives up at `deadline` (a server that accepts and never
  /// answers, or never reads, cannot hang asenetctl). On failure `error` says
  /// why; rejected() tells whether asenetd turned the connection away (busy,
  /// permission denied), a runtime condition rather than bad input.
  bool connect(const std::string& path, Deadline deadline, std::string& error);
  bool send(wire::Type type, std::string_view payload, Deadline deadline, std::string& error);
  /// Reads one frame; false on timeout, a closed socket or a bad frame.
  bool receive(wire::Type& type, std::string& payload, Deadline deadline, std::string& error);
  bool receive(wire::Type& type, std::string& payload, std::chrono::milliseconds timeout, std::string& error) {
    return receive(type, payload, std::chrono::steady_clock::now() + timeout, error);
  }
  [[nodiscard]] bool rejected() const noexcept { return rejected_; }
  [[nodiscard]] bool timed_out() const noexcept { return timed_out_; }

 private:
  bool read_pending_rejection(std::string& error);
  int fd_ = -1;
  bool rejected_ = false;
  bool timed_out_ = false;
};

/// What asenetd sends a connection it turns away before any request: an
/// error frame whose text starts with one of these.
inline constexpr std::string_view kBusyText = "asenetd is busy";
inline constexpr std::string_view kPermissionText = "permission denied";
[[nodiscard]] inline bool is_rejection(std::string_view text) noexcept {
  return text.substr(0, kBusyText.size()) == kBusyText || text.substr(0, kPermissionText.size()) == kPermissionText;
}

/// The group id of a group name or number, or nullopt.
std::optional<gid_t> lookup_group(const std::string& name);

}  // namespace asenet::control

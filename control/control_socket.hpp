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

#include "control/wire.hpp"

namespace asenet::control {

struct ControlServerOptions {
  std::string path;
  std::optional<gid_t> group;  ///< also allow this group (socket mode 0660)
  size_t max_clients = 16;
  std::chrono::milliseconds partial_timeout{5000};  ///< a half-sent message is dropped after this
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
    bool closing = false;
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
  ControlClient() = default;
  ~ControlClient();
  ControlClient(const ControlClient&) = delete;
  ControlClient& operator=(const ControlClient&) = delete;

  bool connect(const std::string& path, std::string& error);
  bool send(wire::Type type, std::string_view payload, std::string& error);
  /// Reads one frame; false on timeout, a closed socket or a bad frame.
  bool receive(wire::Type& type, std::string& payload, std::chrono::milliseconds timeout, std::string& error);

 private:
  int fd_ = -1;
};

/// The group id of a group name or number, or nullopt.
std::optional<gid_t> lookup_group(const std::string& name);

}  // namespace asenet::control

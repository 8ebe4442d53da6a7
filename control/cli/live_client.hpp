// What the commands that talk to asenetd share (live.cpp defines them;
// capture.cpp uses them too): deadlines, the exit code of a failed exchange,
// and a checked JSON reply.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "protocol/control_socket.hpp"
#include "protocol/wire.hpp"

namespace asenet::control::cli {

/// How long asenetd has to accept a trace or a capture (--timeout overrides).
inline constexpr double kTraceAckTimeoutS = 10;

ControlClient::Deadline deadline_in(double seconds);
/// Exit code and message for a failed exchange: 1 for anything at run time
/// (asenetd unreachable, busy, permission denied, silent past the timeout),
/// 2 only when asenetd refused the request itself as bad input.
int exchange_failed(const std::string& cmd, const ControlClient& c, const std::string& err, double timeout);
/// asenetd's JSON reply, checked: an object whose `uints` keys are unsigned
/// integers and `numbers` keys are numbers. nullopt (after a message) when it
/// is not: a malformed reply is a runtime failure, never a crash.
/// Sends one request and waits for its reply within `timeout` seconds; the
/// exit code (after a message naming `cmd`) when it failed: 2 when asenetd
/// refused the request, 1 for anything at run time.
std::optional<int> request(const std::string& cmd, const std::string& socket, wire::Type type,
                           const std::string& payload, std::string& reply, double timeout);
std::optional<nlohmann::json> checked_reply(const std::string& cmd, const std::string& reply,
                                            std::initializer_list<const char*> uints,
                                            std::initializer_list<const char*> numbers = {});

}  // namespace asenet::control::cli

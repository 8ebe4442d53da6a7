// asenetctl health-relay: one prober's health verdicts carried to every other
// node of a pool (issue 20, item 3), so that the nodes never disagree on which
// instances are up and their Maglev tables stay alike. The prober is an
// asenetd that probes (ASEs with probe_port); the followers run with
// --no-probes and take its verdicts through their control sockets, the way
// `asenetctl health` sets them. Every --interval the relay reads the
// prober's health (stats "health": ASE/IP -> up or down) and each follower's,
// and sends a follower every verdict where it differs.
#include <boost/program_options.hpp>

#include <chrono>
#include <csignal>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/cli/common.hpp"
#include "control/cli/live_client.hpp"
#include "protocol/wire.hpp"

namespace po = boost::program_options;

namespace asenet::control::cli {

namespace {

volatile std::sig_atomic_t g_relay_stop = 0;

/// A node's health map, "ASE/IP" -> up; nullopt (after a message) when the
/// node cannot be read.
std::optional<std::map<std::string, bool>> health_of(const std::string& socket, double timeout) {
  std::string reply;
  if (request("health-relay (" + socket + ")", socket, wire::Type::kStats, "{\"format\":\"json\"}", reply, timeout))
    return std::nullopt;
  const auto j = nlohmann::json::parse(reply, nullptr, false);
  if (!j.is_object() || !j.contains("health") || !j["health"].is_object()) {
    std::cerr << "asenetctl health-relay: " << socket << ": a reply without a health map\n";
    return std::nullopt;
  }
  std::map<std::string, bool> h;
  for (const auto& [k, v] : j["health"].items())
    if (v.is_string()) h[k] = v.get<std::string>() == "up";
  return h;
}

/// One round: every follower gets the prober's verdicts it lacks. Returns
/// false when a node could not be read or refused a verdict.
bool relay_once(const std::string& from, const std::vector<std::string>& to, double timeout) {
  const auto want = health_of(from, timeout);
  if (!want) return false;
  bool ok = true;
  for (const auto& socket : to) {
    const auto have = health_of(socket, timeout);
    if (!have) {
      ok = false;
      continue;
    }
    for (const auto& [key, up] : *want) {
      const auto it = have->find(key);
      if (it != have->end() && it->second == up) continue;
      const auto slash = key.rfind('/');
      if (slash == std::string::npos) continue;
      const nlohmann::json req = {{"ase", key.substr(0, slash)}, {"instance", key.substr(slash + 1)}, {"up", up}};
      std::string reply;
      const std::string cmd = "health-relay (" + socket + ")";
      if (request(cmd, socket, wire::Type::kHealth, req.dump(), reply, timeout) ||
          !checked_reply(cmd, reply, {"generation", "health_epoch"})) {
        ok = false;
        continue;
      }
      std::cout << socket << ": " << key.substr(0, slash) << " " << key.substr(slash + 1) << " " << (up ? "up" : "down")
                << " (from " << from << ")" << std::endl;
    }
  }
  return ok;
}

}  // namespace

int cmd_health_relay(const std::vector<std::string>& args) {
  po::options_description d(
      R"(usage: asenetctl health-relay --from PATH --socket PATH [--socket PATH ...]
                              [--interval S] [--count N] [--timeout S]

Carries one prober's health verdicts to the other nodes of a pool: every
--interval seconds it reads the health of the asenetd at --from (the node
that probes the ASEs' instances) and of every --socket (nodes started with
--no-probes), and gives each node the verdicts where it differs, as
asenetctl health does, printing one line per verdict sent. So every
instance has one prober and every node the same view of it: their Maglev
tables stay alike. Runs until interrupted, or --count rounds; exit 1 when a
node could not be read or refused a verdict in the last round.

options)");
  std::string from;
  std::vector<std::string> to;
  double interval = 1, timeout = 10;
  unsigned count = 0;
  d.add_options()("help,h", "show this help")("from", po::value(&from)->required(), "the prober's --control-socket")(
      "socket", po::value(&to)->required(), "a follower's --control-socket (repeat for each)")(
      "interval", po::value(&interval)->default_value(1), "seconds between rounds")(
      "count", po::value(&count)->default_value(0), "stop after N rounds (0: never)")(
      "timeout", po::value(&timeout)->default_value(10), "seconds to wait for each asenetd");
  if (auto rc = parse_options(d, args, "health-relay")) return *rc;
  if (interval <= 0 || interval > 3600) return bad_usage("health-relay", "--interval must be in (0, 3600]");
  if (timeout <= 0) return bad_usage("health-relay", "--timeout must be above 0");
  for (const auto& s : to)
    if (s == from) return bad_usage("health-relay", "the prober " + from + " is not its own follower");
  std::signal(SIGINT, [](int) { g_relay_stop = 1; });
  std::signal(SIGTERM, [](int) { g_relay_stop = 1; });
  bool ok = true;
  for (unsigned round = 0; !g_relay_stop && (count == 0 || round < count); ++round) {
    if (round > 0) {
      const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(interval);
      while (!g_relay_stop && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (g_relay_stop) break;
    }
    ok = relay_once(from, to, timeout);
  }
  return ok ? 0 : 1;
}

}  // namespace asenet::control::cli

// asenetctl push with several --socket: one generation on a pool of asenetd
// nodes, in two phases. Phase one sends the push to every node as a prepare
// (each decodes, checks against how it started, builds its tables and keeps
// them staged, changing nothing); if any node refuses or cannot be reached,
// every node that prepared is told to drop it and nothing changed anywhere.
// Phase two tells each node to publish what it staged, under one number: one
// above the highest generation any node runs, so that the pool's nodes show
// the same generation (and the same spec_hash) in stats.
#include <algorithm>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/cli/live_client.hpp"
#include "control/cli/pool_push.hpp"
#include "protocol/wire.hpp"

namespace asenet::control::cli {

namespace {

std::string new_token() {
  std::random_device rd;
  std::mt19937_64 g((static_cast<uint64_t>(rd()) << 32) ^ rd());
  char b[17];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(g()));
  return b;
}

/// "push (SOCKET)": how messages name the node.
std::string node(const std::string& socket) { return "push (" + socket + ")"; }

/// Tells every node in `prepared` to drop the staged push (best effort).
void abort_all(const std::vector<std::string>& prepared, const std::string& token, double timeout) {
  const std::string payload = nlohmann::json{{"token", token}, {"action", "abort"}}.dump();
  for (const auto& s : prepared) {
    std::string reply;
    request(node(s) + " abort", s, wire::Type::kPushCommit, payload, reply, timeout);
  }
}

}  // namespace

std::optional<int> add_previous_members(const std::vector<std::string>& sockets, nlohmann::json& header,
                                        double timeout) {
  uint64_t latest = 0;
  std::optional<nlohmann::json> previous;
  std::string from;
  for (const auto& s : sockets) {
    std::string reply;
    const std::string cmd = "push (" + s + ") stats";
    if (auto rc = request(cmd, s, wire::Type::kStats, R"({"format":"json"})", reply, timeout)) return rc;
    const auto j = checked_reply(cmd, reply, {"generation"});
    if (!j) return 1;
    if (!j->contains("pool")) {
      std::cerr << "asenetctl push: " << s << " is no pool's node (asenetd without --node and --peer): "
                << "--members needs one\n";
      return 2;
    }
    const auto& pool = (*j)["pool"];
    const uint64_t changes = pool.value("membership_changes", uint64_t{0});
    if (!previous || changes > latest) {
      latest = changes;
      previous = pool["members"];
      from = s;
    } else if (changes == latest && pool["members"] != *previous) {
      std::cerr << "asenetctl push: " << s << " and " << from << " both took " << changes
                << " membership changes but run different members (" << pool["members"].dump() << " and "
                << previous->dump() << "); push --members to those two alone first to bring them level\n";
      return 2;
    }
  }
  header["previous_members"] = *previous;
  return std::nullopt;
}

int pool_push(const std::vector<std::string>& sockets, nlohmann::json header, const dataplane::TableSpec& spec,
              bool json, double timeout) {
  const std::string token = new_token();
  header["phase"] = "prepare";
  header["token"] = token;
  const std::string payload = wire::encode_push(header.dump(), spec);
  std::vector<std::string> prepared;
  std::vector<nlohmann::json> plans;
  uint64_t highest = 0;
  for (const auto& s : sockets) {
    std::string reply;
    std::optional<nlohmann::json> j;
    const auto rc = request(node(s), s, wire::Type::kPushPlan, payload, reply, timeout);
    if (!rc) j = checked_reply(node(s), reply, {"generation", "previous", "acl_rules"}, {"build_ms"});
    if (rc || !j) {
      abort_all(prepared, token, timeout);
      std::cerr << "asenetctl push: " << s << " did not prepare; the push is dropped on the " << prepared.size()
                << " node(s) that had: no node changed generation\n";
      return rc ? *rc : 1;
    }
    prepared.push_back(s);
    highest = std::max(highest, (*j)["previous"].get<uint64_t>());
    plans.push_back(*j);
  }
  const uint64_t generation = highest + 1;
  const std::string commit = nlohmann::json{{"token", token}, {"action", "commit"}, {"generation", generation}}.dump();
  nlohmann::json nodes = nlohmann::json::array();
  std::vector<std::string> failed;
  for (size_t i = 0; i < sockets.size(); ++i) {
    std::string reply;
    std::optional<nlohmann::json> j;
    if (!request(node(sockets[i]), sockets[i], wire::Type::kPushCommit, commit, reply, timeout))
      j = checked_reply(node(sockets[i]), reply, {"generation", "previous"}, {"swap_ms"});
    if (!j) {
      failed.push_back(sockets[i]);
      continue;
    }
    (*j)["socket"] = sockets[i];
    (*j)["changes"] = plans[i].value("changes", nlohmann::json::array());
    (*j)["acl_rules"] = plans[i]["acl_rules"];
    (*j)["build_ms"] = plans[i]["build_ms"];
    nodes.push_back(*j);
  }
  if (json) {
    std::cout << nlohmann::json{{"generation", generation}, {"nodes", nodes}, {"failed", failed}}.dump() << "\n";
  } else {
    for (const auto& n : nodes) {
      std::cout << n["socket"].get<std::string>() << ": generation " << n["generation"].get<uint64_t>() << " live (was "
                << n["previous"].get<uint64_t>() << "), " << n["acl_rules"].get<uint64_t>() << " ACL rules, built in "
                << n["build_ms"].get<double>() << " ms, swapped in " << n["swap_ms"].get<double>() << " ms, spec "
                << n.value("spec_hash", std::string("?")) << "\n";
      for (const auto& c : n["changes"])
        if (c.is_string()) std::cout << "  " << c.get<std::string>() << "\n";
    }
  }
  if (!failed.empty()) {
    // Prepared everywhere but not committed everywhere: a node went away (or
    // its staged push expired) between the phases. Say which.
    std::cerr << "asenetctl push: generation " << generation << " is live on " << nodes.size() << " of "
              << sockets.size() << " nodes; not committed on";
    for (const auto& f : failed) std::cerr << " " << f;
    std::cerr << " (push again: a node that lags takes the next generation like the others)\n";
    return 1;
  }
  if (!json) std::cout << "generation " << generation << " live on all " << sockets.size() << " nodes\n";
  return 0;
}

}  // namespace asenet::control::cli

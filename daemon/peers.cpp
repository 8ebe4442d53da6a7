#include "daemon/peers.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <iostream>
#include <thread>

#include "daemon/devices.hpp"
#include "dataplane/ports/ports.hpp"

namespace asenet::daemon {

using dataplane::kMaxNodes;

std::optional<PeerPlan> parse_peers(const std::optional<unsigned>& node, const std::vector<std::string>& peers,
                                    std::string& error) {
  PeerPlan plan;
  if (!node) {
    if (!peers.empty()) {
      error = "--peer needs --node (this node's number in the pool, 0 to N-1)";
      return std::nullopt;
    }
    return plan;
  }
  plan.node = *node;
  plan.nodes = static_cast<unsigned>(peers.size()) + 1;
  if (plan.nodes > kMaxNodes) {
    error = "a pool has at most " + std::to_string(kMaxNodes) + " nodes; " + std::to_string(peers.size()) +
            " --peer options name " + std::to_string(plan.nodes);
    return std::nullopt;
  }
  if (plan.node >= plan.nodes) {
    error = "--node " + std::to_string(plan.node) + " with " + std::to_string(peers.size()) + " --peer: a pool of " +
            std::to_string(plan.nodes) + " numbers its nodes 0 to " + std::to_string(plan.nodes - 1);
    return std::nullopt;
  }
  for (const std::string& p : peers) {
    const auto eq = p.find('=');
    unsigned j = 0;
    const auto [end, ec] = std::from_chars(p.data(), p.data() + (eq == std::string::npos ? 0 : eq), j);
    if (eq == std::string::npos || eq == 0 || ec != std::errc{} || end != p.data() + eq || eq + 1 == p.size()) {
      error = "--peer '" + p + "': expected NODE=DEVICE, e.g. 1=net_memif0,role=server,socket=/run/asenet/peer01.sock";
      return std::nullopt;
    }
    if (j >= plan.nodes || j == plan.node || !plan.device[j].empty()) {
      error = "--peer '" + p + "': " +
              (j == plan.node    ? "that is this node (--node " + std::to_string(plan.node) + ")"
               : j >= plan.nodes ? "a pool of " + std::to_string(plan.nodes) + " nodes numbers them 0 to " +
                                       std::to_string(plan.nodes - 1) + " (give one --peer for each other node)"
                                 : "node " + std::to_string(j) + " has a link already");
      return std::nullopt;
    }
    plan.device[j] = p.substr(eq + 1);
  }
  return plan;
}

bool attach_peers(const PeerPlan& plan, unsigned workers, uint16_t mtu,
                  const std::array<uint16_t, dataplane::kNumPorts>& sides, rte_mempool* pool,
                  dataplane::PoolMembership& out, std::string& error) {
  out.node = plan.node;
  out.nodes = plan.nodes;
  for (unsigned j = 0; j < plan.nodes; ++j) {
    if (j == plan.node) continue;
    const std::string where = "--peer " + std::to_string(j) + ": ";
    std::string why;
    const int p = attach_port(plan.device[j], why);
    if (p < 0) {
      error = where + why;
      if (plan.device[j].rfind("net_memif", 0) == 0)
        error += " (net_memif needs EAL's multi-process channel: drop --no-shconf, keep a --file-prefix of its own)";
      return false;
    }
    const auto port = static_cast<uint16_t>(p);
    bool taken = std::find(sides.begin(), sides.end(), port) != sides.end();
    for (unsigned k = 0; k < j; ++k) taken = taken || (k != plan.node && out.peer_port[k] == port);
    if (taken) {
      error = where + "device '" + plan.device[j] + "' is already a side or another peer's link";
      return false;
    }
    // A net_memif client cannot start before its server listens: the nodes
    // of a pool start in any order, so it tries for 30 s.
    bool up = dataplane::setup_port(port, static_cast<uint16_t>(workers), pool, why);
    for (int t = 0; !up && plan.device[j].find("role=client") != std::string::npos && t < 300; ++t) {
      if (t == 0) std::cerr << "asenetd: --peer " << j << ": waiting for node " << j << " to listen\n";
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      up = dataplane::setup_port(port, static_cast<uint16_t>(workers), pool, why);
    }
    // A peer frame is the frame and the peer header: the link carries that much.
    if (!up || !dataplane::set_port_mtu(port, static_cast<uint16_t>(mtu + sizeof(dataplane::PeerHeader)), why)) {
      error = where + why;
      return false;
    }
    out.peer_port[j] = port;
  }
  return true;
}

}  // namespace asenet::daemon

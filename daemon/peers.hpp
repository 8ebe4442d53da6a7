// A node's place in a pool of asenetd nodes (issue 20, item 1;
// docs/design/scale-out.md): --node I and one --peer J=DEVICE per other
// node, checked before EAL starts, then the links attached and started.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/ports/peer_link.hpp"

struct rte_mempool;

namespace asenet::daemon {

/// What --node and --peer say: this node, the pool's size, each peer's device.
struct PeerPlan {
  unsigned node = 0;
  unsigned nodes = 1;
  std::array<std::string, dataplane::kMaxNodes> device;  ///< [node]; empty for this one
};

/// Checks --node and --peer (J=DEVICE, one for every other node 0..N-1, N
/// at most kMaxNodes). nullopt with a message for a person in `error`.
std::optional<PeerPlan> parse_peers(const std::optional<unsigned>& node, const std::vector<std::string>& peers,
                                    std::string& error);

/// Attaches and starts every peer link with `workers` queues each (one per
/// worker, both ways). `sides`: the ports already taken by the sides, which a
/// link may not reuse. False with `error` set.
bool attach_peers(const PeerPlan& plan, unsigned workers, uint16_t mtu,
                  const std::array<uint16_t, dataplane::kNumPorts>& sides, rte_mempool* pool,
                  dataplane::PoolMembership& out, std::string& error);

}  // namespace asenet::daemon

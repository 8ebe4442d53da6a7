// The worker lcore loop shared by asenetd (live ports) and replay (ring ports).
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/pipeline/pipeline.hpp"
#include "dataplane/ports/peer_link.hpp"
#include "dataplane/runtime/handover.hpp"

struct rte_ring;

namespace asenet::dataplane {

/// One queue a worker polls. `side_in_mbuf`: the side the packet entered on is
/// in mbuf->port (replay feeds every side through one ordered queue per worker,
/// so a worker sees its packets in capture order).
struct RxSource {
  uint16_t port_id = 0;
  uint16_t queue = 0;
  Port side = Port::kInternet;
  bool side_in_mbuf = false;
  bool peer = false;  ///< a peer link (PoolMembership): the side is in each frame's peer header
};

struct WorkerSetup {
  WorkerContext* ctx = nullptr;
  std::vector<RxSource> sources;
  TableHandover* tables = nullptr;
  const std::atomic<bool>* stop = nullptr;
  bool yield_when_idle = false;  ///< replay: share the CPU when there is nothing to do
  /// Live: sleep this many microseconds after kIdleSpins empty polls in a
  /// row (0: busy-poll, DPDK's way). A lab on a small machine gives the
  /// kernel, and the programs on its namespaces, the core back so.
  uint32_t idle_sleep_us = 0;
  /// Live with several workers: each worker's incoming ring (multi-producer),
  /// indexed by worker. A packet received by one worker is processed by the
  /// worker steer_worker() names for it, so that both directions of a NATed
  /// flow meet one flow table and one SNAT pool whatever queue RSS chose.
  /// Empty: no steering (one worker, or replay, which steers before the rings).
  std::vector<rte_ring*> handoff;
  /// Live, in a pool of nodes (docs/design/scale-out.md): the owner of a
  /// packet is a node and a worker (steer_unit); a packet another node owns
  /// goes out on the peer link to it, on this worker's queue. Null: one node.
  const PoolMembership* pool = nullptr;
  unsigned workers = 1;  ///< this node's worker count (the handoff rings' when there are several)
  /// Replay --nodes: this worker's node. A frame whose mbuf->port is
  /// kPeerFrame came over a peer link (the replay made the crossing): its
  /// peer header says the side, and is checked as asenetd checks it.
  const PoolMembership* replay_node = nullptr;
};

/// Creates one incoming handoff ring per worker (`size` packets each), for
/// WorkerSetup::handoff. Empty with an error on failure.
std::vector<rte_ring*> make_handoff_rings(const std::string& name, unsigned workers, unsigned size, std::string& error);

/// A replay clock tick: an empty mbuf whose port is kTickSide carries a capture
/// time (timestamp dynfield) and the index of the input packet it precedes
/// (sequence dynfield). The worker runs its timers to that time, attributing
/// what they make to that packet, so timers fire as with one worker.
inline constexpr uint16_t kTickSide = 0xffff;

/// Replay --nodes: in mbuf->port, a frame inside a peer header (WorkerSetup::replay_node).
inline constexpr uint16_t kPeerFrame = 0xfffd;

/// Live steering handles up to this many workers.
inline constexpr unsigned kMaxSteerWorkers = 16;

/// Empty polls in a row before a worker yields, pauses or sleeps.
inline constexpr unsigned kIdleSpins = 64;

/// rte_eal_remote_launch entry point; `arg` is a WorkerSetup*. Runs until *stop.
int worker_main(void* arg);

}  // namespace asenet::dataplane

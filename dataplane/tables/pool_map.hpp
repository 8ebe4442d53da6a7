// Which node and worker of a pool own each connection, and which owned it
// before the last membership change (issue 20, item 5;
// docs/design/scale-out.md, section 5). A connection's steering hash
// (steer_hash in ports.hpp) picks one of `slots` slots; each slot names a
// unit (node * workers + worker). With every node a member the map gives
// what `hash % (nodes * workers)` gives, so a full pool steers as before.
// A node that leaves gives up only its own slots (rendezvous hashing over
// the members that stay); one that comes back takes back exactly its own.
// For one idle timeout after a change the map keeps the slots' previous
// owners: a connection on a moved slot that the new owner does not hold is
// asked of the previous owner first (worker.cpp, Steering::screen).
// Built on the control thread, published in the TableSet, read by workers.
#pragma once

#include <array>
#include <cstdint>

namespace asenet::dataplane {

struct PoolMap {
  static constexpr unsigned kMaxSlots = 2048;
  /// About this many slots at least (a multiple of nodes * workers).
  static constexpr unsigned kMinSlots = 1024;
  unsigned nodes = 1, workers = 1, slots = 1;
  uint32_t members = 1;        ///< bit k: node k owns slots
  uint64_t prev_until_ns = 0;  ///< the previous owners count until then (worker clock); 0: none kept
  uint64_t changes = 0;        ///< membership changes since the node started
  std::array<uint8_t, kMaxSlots> cur{}, prev{};

  /// Every node a member. nodes * workers <= 128.
  static PoolMap full(unsigned nodes, unsigned workers) noexcept;
  /// The map for `members` (bit k: node k), with the owners `previous`
  /// members gave kept as the previous ones until `now_ns + window_ns` where
  /// a slot moves. Every node given the same two sets builds the same map,
  /// whatever it ran before (a node that joins knows no previous map of its
  /// own). `live` counts the change.
  static PoolMap changed(const PoolMap& live, uint32_t members, uint32_t previous, uint64_t now_ns,
                         uint64_t window_ns) noexcept;
  /// changed() from `live`'s members; `live` itself when they are the same.
  static PoolMap with_members(const PoolMap& live, uint32_t members, uint64_t now_ns, uint64_t window_ns) noexcept {
    return members == live.members ? live : changed(live, members, live.members, now_ns, window_ns);
  }

  [[nodiscard]] unsigned slot(uint64_t hash) const noexcept { return static_cast<unsigned>(hash % slots); }
  [[nodiscard]] unsigned owner(uint64_t hash) const noexcept { return cur[slot(hash)]; }
  [[nodiscard]] bool member(unsigned node) const noexcept { return node < 32 && ((members >> node) & 1u) != 0; }
  [[nodiscard]] bool in_window(uint64_t now_ns) const noexcept { return now_ns < prev_until_ns; }
  /// The unit to ask before treating a packet of slot `s` as new: its
  /// previous owner, when it differs from the current one and is still a
  /// member (a node that left is not asked: it is gone or going). -1: none.
  [[nodiscard]] int ask_first(unsigned s, uint64_t now_ns) const noexcept {
    if (!in_window(now_ns) || cur[s] == prev[s] || !member(prev[s] / workers)) return -1;
    return prev[s];
  }
  /// How many slots node `n` owns now.
  [[nodiscard]] unsigned slots_of(unsigned n) const noexcept;
};

}  // namespace asenet::dataplane

// Per-worker neighbour table (ARP cache) for the L2 mode ([l2] arp = true):
// which MAC answers for an address on a side. Learned from every ARP packet
// the worker sees (requests and replies); entries expire after the topology's
// neighbor_timeout. A miss makes the worker ask (one ARP request per address
// and second at most) and drop the packet (neighbor_unresolved), as a router
// does. Worker-owned: other threads never read it in place (a 6-byte MAC
// could tear); they get a copy the worker hands over (NeighborHandoff).
#pragma once

#include "dataplane/core/time.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/tables/table_spec.hpp"

namespace asenet::dataplane {

struct Neighbor {
  uint32_t ip = 0;  ///< 0: empty slot
  uint8_t port = 0;
  bool resolved = false;
  MacAddr mac{};
  uint64_t updated_ns = 0;    ///< when the MAC was last learned
  uint64_t requested_ns = 0;  ///< when the fabric last asked for it
};

class NeighborTable {
 public:
  static constexpr size_t kSlots = 4096;  ///< a power of two
  static constexpr size_t kProbe = 16;

  /// The MAC for `ip` on `port`, or nullptr when unknown or older than `timeout_ns`.
  [[nodiscard]] const MacAddr* lookup(Port port, uint32_t ip, uint64_t now, uint64_t timeout_ns) const noexcept {
    const size_t h = hash(port, ip);
    for (size_t k = 0; k < kProbe; ++k) {
      const Neighbor& n = slots_[(h + k) & (kSlots - 1)];
      if (n.ip == ip && n.port == static_cast<uint8_t>(port))
        return n.resolved && now - n.updated_ns < timeout_ns ? &n.mac : nullptr;
      if (n.ip == 0) return nullptr;
    }
    return nullptr;
  }
  /// Records that `ip` on `port` is at `mac`.
  void learn(Port port, uint32_t ip, const MacAddr& mac, uint64_t now) noexcept {
    Neighbor* n = slot(port, ip, now);
    n->mac = mac;
    n->resolved = true;
    n->updated_ns = now;
  }
  /// True when the fabric should send an ARP request for `ip` now (at most
  /// once a second per address); records the request.
  bool should_request(Port port, uint32_t ip, uint64_t now) noexcept {
    Neighbor* n = slot(port, ip, now);
    if (n->requested_ns != 0 && now - n->requested_ns < kNsPerSecond) return false;
    n->requested_ns = now;
    return true;
  }
  [[nodiscard]] const std::array<Neighbor, kSlots>& entries() const noexcept { return slots_; }

 private:
  static size_t hash(Port port, uint32_t ip) noexcept {
    return ((ip ^ (static_cast<uint32_t>(port) << 29)) * 2654435761u) & (kSlots - 1);
  }
  /// The entry for (port, ip), claimed if new: the first empty one in the
  /// probe window, else the least recently used one there.
  Neighbor* slot(Port port, uint32_t ip, uint64_t /*now*/) noexcept {
    const size_t h = hash(port, ip);
    Neighbor* victim = nullptr;
    for (size_t k = 0; k < kProbe; ++k) {
      Neighbor& n = slots_[(h + k) & (kSlots - 1)];
      if (n.ip == ip && n.port == static_cast<uint8_t>(port)) return &n;
      if (n.ip == 0) {
        victim = &n;
        break;
      }
      if (victim == nullptr ||
          std::max(n.updated_ns, n.requested_ns) < std::max(victim->updated_ns, victim->requested_ns))
        victim = &n;
    }
    *victim = Neighbor{};
    victim->ip = ip;
    victim->port = static_cast<uint8_t>(port);
    return victim;
  }
  std::array<Neighbor, kSlots> slots_{};
};

/// A worker's neighbours handed to the control thread (stats, health probes):
/// the control thread asks, the worker copies its table at the end of a loop
/// iteration and says it is ready, the control thread takes the copy. The
/// worker never waits and never shares an entry it may change; an unanswered
/// request costs it one load a loop iteration.
class NeighborHandoff {
 public:
  /// Worker: answers a pending request with a copy of `t`.
  void serve(const NeighborTable& t) noexcept {
    if (state_.load(std::memory_order_acquire) != kRequested) return;
    count_ = 0;
    for (const auto& n : t.entries())
      if (n.ip != 0) copy_[count_++] = n;
    state_.store(kReady, std::memory_order_release);
  }
  /// Control thread: asks for a copy (nothing changes while one is pending).
  void request() noexcept {
    uint32_t idle = kIdle;
    state_.compare_exchange_strong(idle, kRequested, std::memory_order_acq_rel);
  }
  /// Control thread: the copy, once the worker made it; false while pending.
  bool take(std::vector<Neighbor>& out) {
    if (state_.load(std::memory_order_acquire) != kReady) return false;
    out.assign(copy_.begin(), copy_.begin() + static_cast<std::ptrdiff_t>(count_));
    state_.store(kIdle, std::memory_order_release);
    return true;
  }

 private:
  enum State : uint32_t { kIdle, kRequested, kReady };
  std::atomic<uint32_t> state_{kIdle};
  size_t count_ = 0;
  std::array<Neighbor, NeighborTable::kSlots> copy_{};
};

}  // namespace asenet::dataplane

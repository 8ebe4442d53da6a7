// Per-worker SNAT port bookkeeping (azure-semantics 7.6). A port of an
// instance's preallocation may be shared by flows to different destinations:
// TCP and classic UDP per destination IP and port, UDP in era "current" per
// destination IP (port-restricted cone). Replay steers every flow with one
// external endpoint to the worker of that endpoint's address, so each
// destination's port pool has a single owner and no lock is needed.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/flow/key_table.hpp"
#include "dataplane/flow/rule_tally.hpp"

namespace asenet::dataplane {

class SnatTable {
 public:
  SnatTable() = default;
  ~SnatTable();
  SnatTable(const SnatTable&) = delete;
  SnatTable& operator=(const SnatTable&) = delete;

  /// Control thread, before the worker starts.
  bool init(const std::string& name, uint32_t capacity, std::string& error);

  /// A free port of `ports` for (vip, proto, dst, dport_key), taken; 0 when
  /// every port is in use for that destination (the instance is exhausted).
  uint16_t allocate(const std::vector<uint16_t>& ports, uint32_t instance, uint32_t vip, uint8_t proto, uint32_t dst,
                    uint16_t dport_key) noexcept;
  /// One allocate() to come, for warm().
  struct Request {
    const std::vector<uint16_t>* ports;
    uint32_t instance;
    uint32_t vip;
    uint32_t dst;
    uint16_t dport_key;
    uint8_t proto;
  };
  /// Fetches, in two passes, what allocate() will look up for each of up to
  /// 32 requests (the destination's count, then the port it would take), so
  /// that their cache misses overlap. Changes nothing.
  void warm(const Request* r, unsigned n) noexcept;
  void release(uint32_t vip, uint16_t port, uint8_t proto, uint32_t dst, uint16_t dport_key,
               uint32_t instance) noexcept;
  [[nodiscard]] uint64_t in_use() const noexcept { return in_use_; }
  /// Whether `instance` holds a port for (proto, dst, dport_key) now: a
  /// pool's previous owner keeps a destination whose ports it still holds
  /// (worker.cpp, Steering::screen).
  [[nodiscard]] bool holds(uint32_t instance, uint8_t proto, uint32_t dst, uint16_t dport_key) const noexcept;
  /// Bytes its two tables allocated at init.
  [[nodiscard]] uint64_t memory_bytes() const noexcept { return memory_bytes_; }

  /// Ports in use per instance, for stats. Written by the owning worker only;
  /// another thread may read a slot (aligned 32/64-bit loads: never torn).
  /// Instances beyond kInstanceSlots are counted in in_use() only.
  static constexpr size_t kInstanceSlots = 1024;
  struct InstanceUse {
    uint32_t ip = 0;            ///< 0: empty slot
    uint32_t destinations = 0;  ///< destinations (IP, port where per port, protocol) it holds ports for
    uint64_t ports = 0;
  };
  [[nodiscard]] const std::array<InstanceUse, kInstanceSlots>& by_instance() const noexcept { return by_instance_; }

 private:
  InstanceUse* instance_slot(uint32_t ip) noexcept;
  std::array<InstanceUse, kInstanceSlots> by_instance_{};
  KeyTable used_;   ///< (vip, port, proto, dst, dport_key) taken
  KeyTable count_;  ///< (instance, proto, dst, dport_key) -> ports taken
  uint64_t in_use_ = 0;
  uint64_t memory_bytes_ = 0;
};

class FlowTable;
class NeighborTable;
class NeighborHandoff;
struct FlowLogEvent;
template <class T>
struct SpscRing;
using FlowLogSink = SpscRing<FlowLogEvent>;

/// What happens when a flow ends: its SNAT port goes back, and a flow-logged
/// flow reports its end (set `log` to the worker's sink to turn that on).
struct FlowEndHook {
  SnatTable* snat = nullptr;
  FlowTable* flows = nullptr;
  FlowLogSink* log = nullptr;
  uint16_t worker = 0;
};

/// A worker's connection table and SNAT ports, the table's release hook wired
/// to give a removed flow's port back. Control thread, before the worker starts.
struct WorkerTables {
  std::unique_ptr<FlowTable> flows;
  std::unique_ptr<SnatTable> snat;
  std::unique_ptr<RuleTally> rules;                ///< bytes and packets per NSG rule (rule_tally.hpp)
  std::unique_ptr<FlowEndHook> end;                ///< the hook's state (stable address)
  std::unique_ptr<NeighborTable> neighbors;        ///< [l2] arp: this worker's ARP cache
  std::unique_ptr<NeighborHandoff> neighbor_copy;  ///< how the control thread gets a copy of it
};
bool make_worker_tables(const std::string& name, uint32_t flows, WorkerTables& out, std::string& error);

}  // namespace asenet::dataplane

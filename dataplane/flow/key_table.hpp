// An exact-match table of 16-byte keys to 32-bit values, on the flow table's
// index (flow_index.hpp): the keys in an array of slots, the index leading
// to them. It holds SNAT's bookkeeping (snat.cpp): which ports are taken,
// and how many each destination holds. One owner, no locks; all memory at
// init, a full table refuses an insert. And the memory both it and the flow
// table live in (TableMemory).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "dataplane/flow/flow_index.hpp"

namespace asenet::dataplane {

/// Memory for a table: hugepages when EAL has them, else an anonymous
/// mapping on transparent huge pages, every page faulted in at once (no page
/// fault on the packet path). Freed with the object. Needs EAL up.
class TableMemory {
 public:
  TableMemory() = default;
  ~TableMemory();
  TableMemory(const TableMemory&) = delete;
  TableMemory& operator=(const TableMemory&) = delete;
  /// `bytes`, zeroed, 64-byte aligned; false when there is not that much.
  bool allocate(const std::string& name, size_t bytes) noexcept;
  [[nodiscard]] void* get() const noexcept { return p_; }

 private:
  void* p_ = nullptr;
  size_t mapped_ = 0;  ///< mmap()ed bytes (else: rte_zmalloc, or nothing)
};

class KeyTable {
 public:
  struct alignas(16) Key {
    uint64_t w[2] = {0, 0};
  };
  static uint32_t hash(const Key& k) noexcept { return hash16(k.w[0], k.w[1]); }

  /// Control thread: room for `capacity` keys.
  bool init(const std::string& name, uint32_t capacity, std::string& error);

  /// Starts fetching the bucket `k` hashes to.
  void prefetch(const Key& k) const noexcept { index_.prefetch(hash(k)); }
  /// The value of `k`, or nullptr when `k` is not in.
  [[nodiscard]] uint32_t* find(const Key& k) noexcept {
    const uint32_t s = slot_of(k, hash(k));
    return s == FlowIndex::kNone ? nullptr : &values_[s];
  }
  [[nodiscard]] bool contains(const Key& k) const noexcept { return slot_of(k, hash(k)) != FlowIndex::kNone; }
  /// Adds `k` -> `v`: its value, or nullptr when `k` is in already or the
  /// table is full.
  uint32_t* insert(const Key& k, uint32_t v) noexcept;
  /// Removes `k`; false when it is not in.
  bool erase(const Key& k) noexcept;

  [[nodiscard]] uint32_t size() const noexcept { return index_.size(); }
  /// Bytes allocated at init: slots, index and free stack.
  [[nodiscard]] uint64_t memory_bytes() const noexcept { return memory_bytes_; }

 private:
  static bool same(const Key& a, const Key& b) noexcept { return a.w[0] == b.w[0] && a.w[1] == b.w[1]; }
  [[nodiscard]] uint32_t slot_of(const Key& k, uint32_t h) const noexcept {
    return index_.find(h, [&](uint32_t v) { return same(keys_[v], k); });
  }
  TableMemory index_mem_, keys_mem_, values_mem_;
  FlowIndex index_;
  Key* keys_ = nullptr;
  uint32_t* values_ = nullptr;
  std::vector<uint32_t> free_;  ///< stack of free slots
  uint64_t memory_bytes_ = 0;
};

}  // namespace asenet::dataplane

#include "dataplane/flow/key_table.hpp"

#include <rte_eal.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include <sys/mman.h>

namespace asenet::dataplane {

TableMemory::~TableMemory() {
  if (mapped_ != 0) {
    munmap(p_, mapped_);
  } else {
    rte_free(p_);
  }
}

bool TableMemory::allocate(const std::string& name, size_t bytes) noexcept {
  if (rte_eal_has_hugepages() != 0) {
    p_ = rte_zmalloc_socket(name.c_str(), bytes, 64, SOCKET_ID_ANY);
    return p_ != nullptr;
  }
  // EAL --no-huge: DPDK's memory is in 4 KiB pages, and a table of 100K
  // flows then costs a TLB miss per packet. Anonymous memory may get
  // transparent huge pages (THP "madvise" or "always"), so the table goes there.
  const size_t len = (bytes + (2u << 20) - 1) & ~size_t{(2u << 20) - 1};
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  madvise(p, len, MADV_HUGEPAGE);
  madvise(p, len, MADV_POPULATE_WRITE);
  p_ = p;
  mapped_ = len;
  return true;
}

bool KeyTable::init(const std::string& name, uint32_t capacity, std::string& error) {
  const uint32_t buckets = FlowIndex::buckets_for(capacity);
  if (capacity == 0 || capacity >= FlowIndex::kNone ||
      !index_mem_.allocate(name + "_index", sizeof(IndexBucket) * buckets) ||
      !keys_mem_.allocate(name + "_keys", sizeof(Key) * capacity) ||
      !values_mem_.allocate(name + "_values", sizeof(uint32_t) * capacity)) {
    error = "cannot allocate a table of " + std::to_string(capacity) + " keys for " + name + ": raise EAL -m";
    return false;
  }
  index_.init(static_cast<IndexBucket*>(index_mem_.get()), buckets);
  keys_ = static_cast<Key*>(keys_mem_.get());
  values_ = static_cast<uint32_t*>(values_mem_.get());
  free_.resize(capacity);
  for (uint32_t i = 0; i < capacity; ++i) free_[i] = capacity - 1 - i;
  memory_bytes_ = sizeof(IndexBucket) * buckets + (sizeof(Key) + sizeof(uint32_t)) * uint64_t{capacity} +
                  free_.capacity() * sizeof(uint32_t);
  return true;
}

uint32_t* KeyTable::insert(const Key& k, uint32_t v) noexcept {
  const uint32_t h = hash(k);
  if (free_.empty() || slot_of(k, h) != FlowIndex::kNone) return nullptr;
  const uint32_t s = free_.back();
  if (!index_.add(h, s)) return nullptr;
  free_.pop_back();
  keys_[s] = k;
  values_[s] = v;
  return &values_[s];
}

bool KeyTable::erase(const Key& k) noexcept {
  const uint32_t h = hash(k);
  const uint32_t s = slot_of(k, h);
  if (s == FlowIndex::kNone) return false;
  index_.remove(h, s);
  free_.push_back(s);
  return true;
}

}  // namespace asenet::dataplane

#include "dataplane/flow/flow_table.hpp"
#include "dataplane/core/time.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_prefetch.h>

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

namespace asenet::dataplane {

namespace {

constexpr uintptr_t kReplyBit = uintptr_t{1} << 31;

}  // namespace

FlowTable::~FlowTable() {
  rte_hash_free(hash_);
  if (flows_mapped_ != 0) {
    munmap(flows_, flows_mapped_);
  } else {
    rte_free(flows_);
  }
}

uint64_t heap_allocated_bytes() noexcept {
  uint64_t total = 0;
  for (int s = 0; s < RTE_MAX_NUMA_NODES; ++s) {
    rte_malloc_socket_stats st{};
    if (rte_malloc_get_socket_stats(s, &st) == 0) total += st.heap_allocsz_bytes;
  }
  return total;
}

bool FlowTable::init(const std::string& name, uint32_t capacity, std::string& error) {
  const uint64_t heap_before = heap_allocated_bytes();
  rte_hash_parameters p{};
  p.name = name.c_str();
  p.entries = capacity * 2;  // one key per direction
  p.key_len = sizeof(FlowKey);
  p.hash_func = rte_hash_crc;  // the CPU's CRC32 instruction where it has one
  p.hash_func_init_val = 0;
  p.socket_id = SOCKET_ID_ANY;
  // Single writer = the owning worker; no locks. The extendable table keeps
  // inserts from failing on bucket collisions before the table is full.
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  hash_ = rte_hash_create(&p);
  if (hash_ == nullptr) {
    error = "rte_hash_create " + name + ": " + rte_strerror(rte_errno);
    return false;
  }
  // Keys are hashed here (flow_hash), inline; it must be the table's own hash.
  const FlowKey probe{0x0a000104, 0xc0170102, 443, 50000, 6, {0, 0, 0}};
  if (flow_hash(probe) != rte_hash_hash(hash_, &probe)) {
    error = "rte_hash_create " + name + ": the table's hash is not rte_hash_crc";
    return false;
  }
  if (rte_eal_has_hugepages() != 0) {
    flows_ =
        static_cast<Flow*>(rte_zmalloc_socket(name.c_str(), sizeof(Flow) * capacity, alignof(Flow), SOCKET_ID_ANY));
  } else {
    // EAL --no-huge: DPDK's memory is in 4 KiB pages, and a table of 100K
    // flows then costs a TLB miss per packet. Anonymous memory may get
    // transparent huge pages (THP "madvise" or "always"), so the flows go there.
    const size_t bytes = (sizeof(Flow) * capacity + (2u << 20) - 1) & ~size_t{(2u << 20) - 1};
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
      // Huge pages where THP allows, and every page faulted in now, as
      // hugepage memory would be: no page fault on the packet path.
      madvise(p, bytes, MADV_HUGEPAGE);
      madvise(p, bytes, MADV_POPULATE_WRITE);
      flows_ = static_cast<Flow*>(p);
      flows_mapped_ = bytes;
    }
  }
  if (flows_ == nullptr) {
    error = "cannot allocate " + std::to_string(capacity) + " flows (" + std::to_string(sizeof(Flow) * capacity >> 20) +
            " MiB) for " + name + ": raise EAL -m";
    return false;
  }
  capacity_ = capacity;
  for (uint32_t i = 0; i < capacity; ++i) new (&flows_[i]) Flow{};
  memory_bytes_ = heap_allocated_bytes() - heap_before + flows_mapped_;
  wheel_.assign(kWheelSlots, UINT32_MAX);
  links_.assign(capacity, WheelLink{});
  free_.resize(capacity);
  for (uint32_t i = 0; i < capacity; ++i) free_[i] = capacity - 1 - i;
  memory_bytes_ += free_.capacity() * sizeof(uint32_t) + wheel_.capacity() * sizeof(uint32_t) +
                   links_.capacity() * sizeof(WheelLink);
  return true;
}

unsigned FlowTable::lookup_bulk(const FlowKey* keys, unsigned n, Flow** flows, bool* reply) noexcept {
  const void* kp[32];
  void* data[32];
  hash_sig_t sig[32];
  for (unsigned i = 0; i < n; ++i) {
    kp[i] = &keys[i];
    sig[i] = flow_hash(keys[i]);
  }
  uint64_t hits = 0;
  if (rte_hash_lookup_with_hash_bulk_data(hash_, kp, sig, n, &hits, data) < 0) hits = 0;
  unsigned found = 0;
  for (unsigned i = 0; i < n; ++i) {
    if (hits & (uint64_t{1} << i)) {
      const auto v = reinterpret_cast<uintptr_t>(data[i]);
      flows[i] = &flows_[v & (kReplyBit - 1)];
      reply[i] = (v & kReplyBit) != 0;
      // The packet's state and actions: both lines are read by the caller
      // next; fetch them for the whole burst before the first one is used.
      rte_prefetch0(flows[i]);
      rte_prefetch0(reinterpret_cast<const uint8_t*>(flows[i]) + 64);
      ++found;
    } else {
      flows[i] = nullptr;
      reply[i] = false;
    }
  }
  return found;
}

void FlowTable::warm(const FlowKey* keys, unsigned n) noexcept {
  const void* kp[64];
  hash_sig_t sig[64];
  int32_t pos[64];
  n = std::min(n, 64u);
  for (unsigned i = 0; i < n; ++i) {
    kp[i] = &keys[i];
    sig[i] = flow_hash(keys[i]);
  }
  if (n > 0) rte_hash_lookup_with_hash_bulk(hash_, kp, sig, n, pos);
}

Flow* FlowTable::insert(const FlowKey& key, const FlowKey& rev, uint64_t now) noexcept {
  if (free_.empty()) return nullptr;
  const uint32_t slot = free_.back();
  const hash_sig_t hk = flow_hash(key), hr = flow_hash(rev);
  // Never overwrite: a key already in use belongs to another flow.
  if (rte_hash_lookup_with_hash(hash_, &key, hk) >= 0 || rte_hash_lookup_with_hash(hash_, &rev, hr) >= 0)
    return nullptr;
  if (rte_hash_add_key_with_hash_data(hash_, &key, hk, reinterpret_cast<void*>(uintptr_t{slot})) != 0) return nullptr;
  // A flow to itself (same address and port both ways) has one key only.
  if (std::memcmp(&rev, &key, sizeof key) != 0 &&
      rte_hash_add_key_with_hash_data(hash_, &rev, hr, reinterpret_cast<void*>(uintptr_t{slot} | kReplyBit)) != 0) {
    rte_hash_del_key_with_hash(hash_, &key, hk);
    return nullptr;
  }
  free_.pop_back();
  Flow& f = flows_[slot];
  f = Flow{};
  f.proto = key.proto;
  // The tuples the keys are derived from (initiator_key, reply_key).
  f.action[0].src = rev.dst;
  f.action[0].dst = rev.src;
  f.action[0].sport = rev.dport;
  f.action[0].dport = rev.sport;
  f.action[1].src = key.dst;
  f.action[1].dst = key.src;
  f.action[1].sport = key.dport;
  f.action[1].dport = key.sport;
  f.serial = ++serial_;
  f.log_last_s = static_cast<uint32_t>(now / kNsPerSecond);
  f.in_use = true;
  ++live_;
  ++by_tcp_[static_cast<size_t>(TcpState::kNone)];
  return &f;
}

void FlowTable::remove(Flow* f, uint64_t now) noexcept {
  if (f == nullptr || !f->in_use) return;
  if ((f->snat || f->logged) && release_ != nullptr) release_(release_arg_, *f, now);
  if (f->rule_set != 0 && tally_ != nullptr) tally_->release(f->rule_set);
  unlink(*f);
  const FlowKey key = initiator_key(*f), rev = reply_key(*f);
  rte_hash_del_key_with_hash(hash_, &key, flow_hash(key));
  rte_hash_del_key_with_hash(hash_, &rev, flow_hash(rev));
  f->in_use = false;
  free_.push_back(slot_of(f));
  --live_;
  --by_tcp_[static_cast<size_t>(f->tcp)];
}

void FlowTable::unlink(Flow& f) noexcept {
  if (f.wheel_slot == kNoWheelSlot) return;
  WheelLink& l = links_[slot_of(&f)];
  if (l.prev != UINT32_MAX)
    links_[l.prev].next = l.next;
  else
    wheel_[f.wheel_slot] = l.next;
  if (l.next != UINT32_MAX) links_[l.next].prev = l.prev;
  l = WheelLink{};
  f.wheel_slot = kNoWheelSlot;
}

void FlowTable::refile(Flow* f, uint16_t slot) noexcept {
  unlink(*f);
  const uint32_t self = slot_of(f);
  f->wheel_slot = slot;
  WheelLink& l = links_[self];
  l.prev = UINT32_MAX;
  l.next = wheel_[slot];
  if (l.next != UINT32_MAX) links_[l.next].prev = self;
  wheel_[slot] = self;
}

void FlowTable::advance(uint64_t now) noexcept {
  const uint64_t second = now / kNsPerSecond;
  if (wheel_second_ == UINT64_MAX || second < wheel_second_) {
    wheel_second_ = second;
    return;
  }
  // Every second strictly before `second` is over: its flows are due. A jump
  // of more than a lap visits each slot once.
  const uint64_t from = second - wheel_second_ > kWheelSlots ? second - kWheelSlots : wheel_second_;
  for (uint64_t s = from; s < second; ++s) {
    uint32_t i = wheel_[s % kWheelSlots];
    while (i != UINT32_MAX) {
      Flow& f = flows_[i];
      const uint32_t next = links_[i].next;
      if (f.in_use && f.expires_ns <= now) {  // else: a later lap of the wheel
        if (f.tcp_reset && f.tcp == TcpState::kEstablished && idle_ != nullptr) idle_(idle_arg_, f);
        remove(&f, f.expires_ns);
      }
      i = next;
    }
  }
  wheel_second_ = second;
}

}  // namespace asenet::dataplane

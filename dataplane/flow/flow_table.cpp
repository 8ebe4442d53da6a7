#include "dataplane/flow/flow_table.hpp"
#include "dataplane/core/time.hpp"

#include <rte_malloc.h>
#include <rte_memory.h>
#include <rte_prefetch.h>

#include <algorithm>
#include <cstring>

namespace asenet::dataplane {

FlowTable::~FlowTable() = default;

uint64_t heap_allocated_bytes() noexcept {
  uint64_t total = 0;
  for (int s = 0; s < RTE_MAX_NUMA_NODES; ++s) {
    rte_malloc_socket_stats st{};
    if (rte_malloc_get_socket_stats(s, &st) == 0) total += st.heap_allocsz_bytes;
  }
  return total;
}

bool FlowTable::init(const std::string& name, uint32_t capacity, std::string& error) {
  if (capacity == 0 || capacity >= kReplyBit) {
    error = "flow table " + name + ": " + std::to_string(capacity) + " flows is out of range";
    return false;
  }
  const uint32_t buckets = FlowIndex::buckets_for(2 * capacity);  // one key per direction
  if (!index_mem_.allocate(name + "_index", sizeof(IndexBucket) * buckets) ||
      !flows_mem_.allocate(name, sizeof(Flow) * capacity)) {
    error = "cannot allocate " + std::to_string(capacity) + " flows (" +
            std::to_string((sizeof(Flow) * capacity + sizeof(IndexBucket) * buckets) >> 20) + " MiB) for " + name +
            ": raise EAL -m";
    return false;
  }
  index_.init(static_cast<IndexBucket*>(index_mem_.get()), buckets);
  flows_ = static_cast<Flow*>(flows_mem_.get());
  capacity_ = capacity;
  for (uint32_t i = 0; i < capacity; ++i) new (&flows_[i]) Flow{};
  wheel_.assign(kWheelSlots, UINT32_MAX);
  links_.assign(capacity, WheelLink{});
  free_.resize(capacity);
  for (uint32_t i = 0; i < capacity; ++i) free_[i] = capacity - 1 - i;
  memory_bytes_ = sizeof(Flow) * capacity + sizeof(IndexBucket) * buckets + free_.capacity() * sizeof(uint32_t) +
                  wheel_.capacity() * sizeof(uint32_t) + links_.capacity() * sizeof(WheelLink);
  return true;
}

unsigned FlowTable::lookup_bulk(const FlowKey* keys, unsigned n, Flow** flows, bool* reply) noexcept {
  uint32_t hash[32];
  // 1. Every key's home bucket, for the whole burst.
  for (unsigned i = 0; i < n; ++i) {
    hash[i] = flow_hash(keys[i]);
    index_.prefetch(hash[i]);
  }
  uint32_t cand[32];
  // 2. The first way whose signature matches: its flow's two lines.
  for (unsigned i = 0; i < n; ++i) {
    const IndexBucket& b = index_.home(hash[i]);
    const uint32_t m = FlowIndex::match(b, FlowIndex::sig_of(hash[i]));
    cand[i] = m != 0 ? b.val[FlowIndex::way_of(m)] : FlowIndex::kNone;
    if (m != 0) {
      const Flow* f = &flows_[cand[i] & (kReplyBit - 1)];
      rte_prefetch0(f);
      rte_prefetch0(reinterpret_cast<const uint8_t*>(f) + 64);
    } else if (b.overflow == 0) {
      cand[i] = kAbsent;
    }
  }
  // 3. Each candidate against its key; anything else (another way of the
  // same signature, a key further on) takes the full probe.
  unsigned found = 0;
  for (unsigned i = 0; i < n; ++i) {
    uint32_t v = cand[i];
    if (v == kAbsent) {
      v = FlowIndex::kNone;
    } else if (v == FlowIndex::kNone || !holds(v, keys[i])) {
      v = find(keys[i], hash[i]);
    }
    if (v == FlowIndex::kNone) {
      flows[i] = nullptr;
      reply[i] = false;
      continue;
    }
    flows[i] = &flows_[v & (kReplyBit - 1)];
    reply[i] = (v & kReplyBit) != 0;
    ++found;
  }
  return found;
}

void FlowTable::warm(const FlowKey* keys, unsigned n) noexcept {
  for (unsigned i = 0; i < n; ++i) index_.prefetch(flow_hash(keys[i]));
}

Flow* FlowTable::insert(const FlowKey& key, const FlowKey& rev, uint64_t now) noexcept {
  if (free_.empty()) return nullptr;
  const uint32_t slot = free_.back();
  const uint32_t hk = flow_hash(key), hr = flow_hash(rev);
  // Never overwrite: a key already in use belongs to another flow.
  if (find(key, hk) != FlowIndex::kNone || find(rev, hr) != FlowIndex::kNone) return nullptr;
  // A flow to itself (same address and port both ways) has one key only.
  const bool two = std::memcmp(&rev, &key, sizeof key) != 0;
  // The index has room for two keys a flow (buckets_for): adds cannot fail
  // while a slot is free, but if they did the flow is not installed.
  if (!index_.add(hk, slot)) return nullptr;
  if (two && !index_.add(hr, slot | kReplyBit)) {
    index_.remove(hk, slot);
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
  const uint32_t slot = slot_of(f);
  index_.remove(flow_hash(key), slot);
  if (std::memcmp(&rev, &key, sizeof key) != 0) index_.remove(flow_hash(rev), slot | kReplyBit);
  f->in_use = false;
  free_.push_back(slot);
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

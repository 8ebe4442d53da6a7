#include "dataplane/flow/flow_table.hpp"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_memory.h>

#include <cstring>

namespace asenet::dataplane {

namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;
constexpr uintptr_t kReplyBit = uintptr_t{1} << 31;

}  // namespace

TcpState tcp_next(TcpState s, uint8_t flags, bool reply, uint8_t& fin_seen) noexcept {
  if (flags & kRst) return TcpState::kClosed;
  if (flags & kFin) {
    fin_seen |= reply ? 2 : 1;
    return fin_seen == 3 ? TcpState::kClosing : TcpState::kFinWait;
  }
  switch (s) {
    case TcpState::kNone:
      // First packet of the flow: a SYN opens a handshake; anything else is a
      // connection picked up mid-stream (after a restart or a rule push).
      return (flags & kSyn) && !(flags & kAck) ? TcpState::kSynSent : TcpState::kEstablished;
    case TcpState::kSynSent:
      if (reply && (flags & kSyn) && (flags & kAck)) return TcpState::kSynRecv;
      return s;
    case TcpState::kSynRecv:
      if (!reply && (flags & kAck)) return TcpState::kEstablished;
      return s;
    default:
      return s;
  }
}

uint64_t flow_expiry(TcpState s, uint64_t now, const FlowTimers& t) noexcept {
  switch (s) {
    case TcpState::kClosing: return now + t.fin_ns;
    case TcpState::kClosed: return now + t.rst_ns;
    default: return now + t.idle_ns;
  }
}

FlowTable::~FlowTable() { rte_hash_free(hash_); }

bool FlowTable::init(const std::string& name, uint32_t capacity, std::string& error) {
  rte_hash_parameters p{};
  p.name = name.c_str();
  p.entries = capacity * 2;  // one key per direction
  p.key_len = sizeof(FlowKey);
  p.hash_func = rte_jhash;
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
  flows_.assign(capacity, Flow{});
  wheel_.assign(kWheelSlots, UINT32_MAX);
  free_.resize(capacity);
  for (uint32_t i = 0; i < capacity; ++i) free_[i] = capacity - 1 - i;
  return true;
}

unsigned FlowTable::lookup_bulk(const FlowKey* keys, unsigned n, Flow** flows, bool* reply) noexcept {
  const void* kp[32];
  void* data[32];
  for (unsigned i = 0; i < n; ++i) kp[i] = &keys[i];
  uint64_t hits = 0;
  if (rte_hash_lookup_bulk_data(hash_, kp, n, &hits, data) < 0) hits = 0;
  unsigned found = 0;
  for (unsigned i = 0; i < n; ++i) {
    if (hits & (uint64_t{1} << i)) {
      const auto v = reinterpret_cast<uintptr_t>(data[i]);
      flows[i] = &flows_[v & (kReplyBit - 1)];
      reply[i] = (v & kReplyBit) != 0;
      ++found;
    } else {
      flows[i] = nullptr;
      reply[i] = false;
    }
  }
  return found;
}

Flow* FlowTable::insert(const FlowKey& key, const FlowKey& rev, uint64_t now) noexcept {
  if (free_.empty()) return nullptr;
  const uint32_t slot = free_.back();
  // Never overwrite: a key already in use belongs to another flow.
  if (rte_hash_lookup(hash_, &key) >= 0 || rte_hash_lookup(hash_, &rev) >= 0) return nullptr;
  if (rte_hash_add_key_data(hash_, &key, reinterpret_cast<void*>(uintptr_t{slot})) != 0) return nullptr;
  // A flow to itself (same address and port both ways) has one key only.
  if (std::memcmp(&rev, &key, sizeof key) != 0 &&
      rte_hash_add_key_data(hash_, &rev, reinterpret_cast<void*>(uintptr_t{slot} | kReplyBit)) != 0) {
    rte_hash_del_key(hash_, &key);
    return nullptr;
  }
  free_.pop_back();
  Flow& f = flows_[slot];
  f = Flow{};
  f.key = key;
  f.reply_key = rev;
  f.created_ns = now;
  f.last_ns = now;
  f.in_use = true;
  ++live_;
  return &f;
}

void FlowTable::remove(Flow* f, uint64_t now) noexcept {
  if (f == nullptr || !f->in_use) return;
  if ((f->snat.active || f->logged) && release_ != nullptr) release_(release_arg_, *f, now);
  unlink(*f);
  rte_hash_del_key(hash_, &f->key);
  rte_hash_del_key(hash_, &f->reply_key);
  f->in_use = false;
  free_.push_back(static_cast<uint32_t>(f - flows_.data()));
  --live_;
}

void FlowTable::unlink(Flow& f) noexcept {
  if (f.wheel_slot == UINT32_MAX) return;
  if (f.wheel_prev != UINT32_MAX) flows_[f.wheel_prev].wheel_next = f.wheel_next;
  else wheel_[f.wheel_slot] = f.wheel_next;
  if (f.wheel_next != UINT32_MAX) flows_[f.wheel_next].wheel_prev = f.wheel_prev;
  f.wheel_prev = f.wheel_next = f.wheel_slot = UINT32_MAX;
}

void FlowTable::schedule(Flow* f) noexcept {
  const auto slot = static_cast<uint32_t>((f->expires_ns / 1000000000ull) % kWheelSlots);
  if (slot == f->wheel_slot) return;
  unlink(*f);
  const auto self = static_cast<uint32_t>(f - flows_.data());
  f->wheel_slot = slot;
  f->wheel_prev = UINT32_MAX;
  f->wheel_next = wheel_[slot];
  if (f->wheel_next != UINT32_MAX) flows_[f->wheel_next].wheel_prev = self;
  wheel_[slot] = self;
}

void FlowTable::advance(uint64_t now) noexcept {
  const uint64_t second = now / 1000000000ull;
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
      const uint32_t next = f.wheel_next;
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

// Per-worker connection table (VFP's unified flow table, azure-semantics 6.4):
// the first packet of a flow walks the slow path (route, NSG) and installs one
// hash entry per direction, both pointing at one Flow that holds the cached
// action for each direction. Later packets cost one exact-match lookup.
// Owned by one worker: no locks, no atomics. Memory is allocated at init.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/flow/flow_index.hpp"
#include "dataplane/flow/key_table.hpp"
#include "dataplane/flow/flow_log.hpp"
#include "dataplane/flow/rule_tally.hpp"
#include "dataplane/core/packet.hpp"
#include "dataplane/core/time.hpp"
#include "dataplane/tables/table_spec.hpp"

struct rte_hash;

namespace asenet::dataplane {

struct FlowKey {
  uint32_t src = 0;
  uint32_t dst = 0;
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint8_t proto = 0;
  uint8_t pad[3] = {0, 0, 0};

  [[nodiscard]] FlowKey reversed() const noexcept {
    FlowKey r;
    r.src = dst;
    r.dst = src;
    r.sport = dport;
    r.dport = sport;
    r.proto = proto;
    return r;
  }
};
static_assert(sizeof(FlowKey) == 16, "hash key is 16 bytes, padding zeroed");

/// The flow table's hash of a key (hash16 of its two words).
inline uint32_t flow_hash(const FlowKey& k) noexcept {
  uint64_t w[2];
  std::memcpy(w, &k, sizeof w);
  return hash16(w[0], w[1]);
}

/// TCP connection tracking states (Linux conntrack style, reduced to what the
/// Azure timers need).
enum class TcpState : uint8_t {
  kNone,         ///< not TCP
  kSynSent,      ///< initiator's SYN seen
  kSynRecv,      ///< responder's SYN-ACK seen
  kEstablished,  ///< handshake done (or picked up mid-stream)
  kFinWait,      ///< one side sent FIN
  kClosing,      ///< both sides sent FIN: timer `tcp_fin_timeout`
  kClosed,       ///< RST seen: timer `tcp_rst_timeout`
};
inline constexpr std::array<std::string_view, 7> kTcpStateNames = {"none",     "syn_sent", "syn_recv", "established",
                                                                   "fin_wait", "closing",  "closed"};

/// The action for one direction of a flow, computed on its first packet.
/// 32 bytes: both directions share one cache line of the Flow. The tuple is
/// what this direction's packets leave as (with NAT, the translation; without,
/// the packet's own), so that the flow's hash keys can be derived from its
/// actions (initiator_key, reply_key) rather than stored.
struct FlowAction {
  uint32_t src = 0;
  uint32_t dst = 0;
  uint16_t sport = 0;
  uint16_t dport = 0;
  NextHop next_hop{};
  Verdict verdict = Verdict::kForward;
  DropReason reason = DropReason::kNone;
  Port out_port = Port::kInternet;
  bool routed = false;
  bool rewrite = false;  ///< NAT: the packet leaves as (src:sport -> dst:dport) above
};
static_assert(sizeof(FlowAction) <= 32, "two actions fill one cache line");

inline constexpr uint16_t kNoWheelSlot = UINT16_MAX;

/// One connection: two cache lines (128 bytes; with its two hash keys and
/// timer links, 1M flows take 234 MiB, see docs/performance.md). Line 0 is
/// what every packet updates, line 1 the cached actions it reads; both are
/// prefetched right after the bulk hash lookup. Its keys, its SNAT port and
/// its frontend are derived from the actions and flags, not stored.
struct alignas(64) Flow {
  // Line 0: per-packet state.
  uint64_t expires_ns = 0;
  std::array<uint64_t, 2> packets{};  ///< per direction, since the flow's last flow log event (or its start)
  std::array<uint64_t, 2> bytes{};
  std::array<uint32_t, 2> next_seq{};  ///< per direction: the sequence number the sender sends next
  uint32_t log_last_s = 0;             ///< second of its last flow log event
  uint32_t serial = 0;                 ///< with the slot: which flow this is (flow logs)
  uint16_t wheel_slot = kNoWheelSlot;  ///< timer wheel second (FlowTable::schedule)
  uint16_t rule_set = 0;               ///< the RuleSet its packets count in (rule_tally.hpp; 0: none)
  TcpState tcp = TcpState::kNone;
  uint8_t fin_seen = 0;  ///< bit 0 initiator, bit 1 responder
  uint8_t proto = 0;     ///< IP protocol of both keys
  bool in_use : 1 = false;
  bool logged : 1 = false;       ///< an NSG with flow logs judged it: report its continuation and end
  bool tcp_reset : 1 = false;    ///< RST both ends if it idles out ESTABLISHED
  bool lb : 1 = false;           ///< came in on a frontend (VIP / ILB): initiator_key().dst
  bool snat : 1 = false;         ///< holds a SNAT port (snat_of)
  bool snat_per_ip : 1 = false;  ///< that port is per destination IP (ICMP, UDP in era current)
  // Line 1: the cached actions, [0] initiator -> responder, [1] the reply direction.
  alignas(64) std::array<FlowAction, 2> action;
};
static_assert(sizeof(Flow) == 128, "a flow is two cache lines");

/// The key that matches packets coming back against `a`'s tuple.
inline FlowKey key_against(const FlowAction& a, uint8_t proto) noexcept {
  FlowKey k;
  k.src = a.dst;
  k.dst = a.src;
  k.sport = a.dport;
  k.dport = a.sport;
  k.proto = proto;
  return k;
}
/// The flow's key as its first packet arrived: against the reply action's
/// tuple (which restores the original addresses).
inline FlowKey initiator_key(const Flow& f) noexcept { return key_against(f.action[1], f.proto); }
/// The flow's key as its replies arrive: against its packets as they leave.
inline FlowKey reply_key(const Flow& f) noexcept { return key_against(f.action[0], f.proto); }

/// The SNAT port a flow holds, released when the flow goes. The instance
/// opened the flow (its source), the port is on its VIP (where replies come
/// to), and the destination is where the instance sent it (before any DNAT).
struct SnatBinding {
  uint32_t vip = 0;
  uint32_t dst = 0;
  uint32_t instance = 0;
  uint16_t port = 0;
  uint16_t dport_key = 0;  ///< destination port, or 0 where the NAT is per destination IP
  uint8_t proto = 0;
};
inline SnatBinding snat_of(const Flow& f) noexcept {
  const FlowKey k = initiator_key(f), r = reply_key(f);
  return SnatBinding{r.dst, k.dst, k.src, r.dport, f.snat_per_ip ? uint16_t{0} : k.dport, f.proto};
}

/// A kContinue or kEnd flow log event for `f`: the packets and bytes each way
/// since its previous event (a continuing flow then counts from zero again:
/// packets, bytes and log_last_s are reset by the caller).
inline FlowLogEvent flow_log_progress(const Flow& f, FlowLogKind kind, uint64_t now, uint16_t worker,
                                      uint32_t slot) noexcept {
  FlowLogEvent e;
  e.kind = kind;
  e.time_ns = now;
  e.worker = worker;
  e.flow_slot = slot;
  e.flow_serial = f.serial;
  e.packets = f.packets;
  e.bytes = f.bytes;
  return e;
}

/// Bytes allocated on every socket's DPDK heap (memory accounting at init).
uint64_t heap_allocated_bytes() noexcept;

/// Applies one packet's TCP flags to the state; returns the new state.
/// `reply` = the packet goes responder -> initiator. A pure function (tested),
/// inline: every TCP hit runs it.
/// When a flow in state `s` last seen at `now` expires: flow_expiry below.
inline TcpState tcp_next(TcpState s, uint8_t flags, bool reply, uint8_t& fin_seen) noexcept {
  if (flags & kTcpRst) return TcpState::kClosed;
  if (flags & kTcpFin) {
    fin_seen |= reply ? 2 : 1;
    return fin_seen == 3 ? TcpState::kClosing : TcpState::kFinWait;
  }
  switch (s) {
    case TcpState::kNone:
      // First packet of the flow: a SYN opens a handshake; anything else is a
      // connection picked up mid-stream (after a restart or a rule push).
      return (flags & kTcpSyn) && !(flags & kTcpAck) ? TcpState::kSynSent : TcpState::kEstablished;
    case TcpState::kSynSent:
      if (reply && (flags & kTcpSyn) && (flags & kTcpAck)) return TcpState::kSynRecv;
      return s;
    case TcpState::kSynRecv:
      if (!reply && (flags & kTcpAck)) return TcpState::kEstablished;
      return s;
    default: return s;
  }
}

inline uint64_t flow_expiry(TcpState s, uint64_t now, const FlowTimers& t) noexcept {
  switch (s) {
    case TcpState::kClosing: return now + t.fin_ns;
    case TcpState::kClosed: return now + t.rst_ns;
    default: return now + t.idle_ns;
  }
}

class FlowTable {
 public:
  FlowTable() = default;
  ~FlowTable();
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  /// Control thread, before the worker starts. `capacity` flows (2 keys each).
  bool init(const std::string& name, uint32_t capacity, std::string& error);

  /// Bulk lookup. For each hit, flows[i] and reply[i] are set; misses get nullptr.
  /// Returns the hit count. n <= 32. Pipelined over the burst: every key's
  /// bucket is fetched, then every candidate flow's two lines, then each
  /// candidate is checked against its key.
  unsigned lookup_bulk(const FlowKey* keys, unsigned n, Flow** flows, bool* reply) noexcept;
  /// Fetches the buckets of up to 64 keys ahead of insert() for each of
  /// them, so that their cache misses overlap.
  void warm(const FlowKey* keys, unsigned n) noexcept;
  /// Installs a flow: `key` as its first packet arrives, `reply_key` as its
  /// replies will arrive. nullptr when the table is full or a key is taken.
  /// The flow's actions carry the two tuples (initiator_key, reply_key): the
  /// caller sets the rest of each action, never its tuple.
  Flow* insert(const FlowKey& key, const FlowKey& reply_key, uint64_t now) noexcept;
  Flow* insert(const FlowKey& key, uint64_t now) noexcept { return insert(key, key.reversed(), now); }
  /// Called for a flow that idles out in ESTABLISHED with tcp_reset set, just
  /// before it is removed (the LB's reset to both ends).
  using IdleFn = void (*)(void* arg, const Flow& f);
  void set_idle_hook(IdleFn fn, void* arg) noexcept {
    idle_ = fn;
    idle_arg_ = arg;
  }
  /// Called for every flow removed (expiry included) that holds a SNAT port
  /// or is flow-logged; `now` is when it ended (its expiry for a timer).
  using ReleaseFn = void (*)(void* arg, const Flow& f, uint64_t now);
  void set_release_hook(ReleaseFn fn, void* arg) noexcept {
    release_ = fn;
    release_arg_ = arg;
  }
  void remove(Flow* f, uint64_t now) noexcept;
  /// Where flows' rule sets are given back when they end (rule_tally.hpp).
  void set_rule_tally(RuleTally* t) noexcept { tally_ = t; }
  /// The slot of a flow (with its created time: which flow, for flow logs).
  [[nodiscard]] uint32_t slot_of(const Flow* f) const noexcept { return static_cast<uint32_t>(f - flows_); }
  /// Files `f` under its expires_ns second; call after every change of it.
  void schedule(Flow* f) noexcept {
    // Inline: a hit usually leaves its flow in the same second's slot.
    const auto slot = static_cast<uint16_t>((f->expires_ns / kNsPerSecond) % kWheelSlots);
    if (slot != f->wheel_slot) refile(f, slot);
  }
  /// Frees every flow that expired in a second that `now` has passed (timers
  /// fire within a second of their time; a lookup is exact: an expired flow
  /// never matches). Cost: the flows due, plus one step per elapsed second.
  void advance(uint64_t now) noexcept;

  /// Control thread, the worker stopped: fn(flow) for every flow on the timer
  /// wheel (every live flow: insert's caller schedules it).
  template <typename Fn>
  void for_each_live(Fn&& fn) const {
    for (const uint32_t head : wheel_)
      for (uint32_t i = head; i != UINT32_MAX; i = links_[i].next) fn(flows_[i]);
  }

  /// A flow's TCP state moves: every change goes through here, so the table
  /// knows how many flows are in each state (one compare per TCP packet, two
  /// counts written when the state changes).
  void set_tcp(Flow* f, TcpState s) noexcept {
    if (s == f->tcp) return;
    --by_tcp_[static_cast<size_t>(f->tcp)];
    ++by_tcp_[static_cast<size_t>(s)];
    f->tcp = s;
  }
  /// Live flows per TCP state (kNone: flows that are not TCP). Read by the
  /// control thread while the worker runs, like size(): a moment's figure.
  [[nodiscard]] std::array<uint32_t, kTcpStateNames.size()> by_tcp_state() const noexcept { return by_tcp_; }

  [[nodiscard]] uint32_t size() const noexcept { return live_; }
  [[nodiscard]] uint32_t capacity() const noexcept { return capacity_; }
  /// Bytes this table holds: the flows, the key index, the timer links and
  /// the free-slot stack, allocated at init.
  [[nodiscard]] uint64_t memory_bytes() const noexcept { return memory_bytes_; }

 private:
  /// A flow's key index value: its slot, and this bit for the reply key.
  static constexpr uint32_t kReplyBit = uint32_t{1} << 31;
  /// lookup_bulk's mark for a key its home bucket alone says is absent
  /// (never a value: slots stay below kReplyBit - 1).
  static constexpr uint32_t kAbsent = kReplyBit - 1;
  /// Whether index value `v` names the flow whose key (that direction's) is `k`.
  /// (The key is key_against the other direction's action: its addresses
  /// and its ports swapped, compared a word at a time.)
  [[nodiscard]] bool holds(uint32_t v, const FlowKey& k) const noexcept {
    const Flow& f = flows_[v & (kReplyBit - 1)];
    const FlowAction& a = f.action[(v & kReplyBit) != 0 ? 0 : 1];
    uint64_t ka, aa;
    uint32_t kp, ap;
    std::memcpy(&ka, &k.src, 8);
    std::memcpy(&kp, &k.sport, 4);
    std::memcpy(&aa, &a.src, 8);
    std::memcpy(&ap, &a.sport, 4);
    return aa == ((ka << 32) | (ka >> 32)) && ap == ((kp << 16) | (kp >> 16)) && f.proto == k.proto;
  }
  [[nodiscard]] uint32_t find(const FlowKey& k, uint32_t hash) const noexcept {
    return index_.find(hash, [&](uint32_t v) { return holds(v, k); });
  }
  FlowIndex index_;
  TableMemory index_mem_, flows_mem_;
  Flow* flows_ = nullptr;  ///< capacity_ flows, cache-line aligned
  /// Timer wheel links per slot: touched when a flow changes second, not per packet.
  struct WheelLink {
    uint32_t prev = UINT32_MAX;
    uint32_t next = UINT32_MAX;
  };
  std::vector<WheelLink> links_;
  uint32_t capacity_ = 0;
  uint32_t serial_ = 0;
  uint64_t memory_bytes_ = 0;
  std::vector<uint32_t> free_;  ///< stack of free slots
  uint32_t live_ = 0;
  std::array<uint32_t, kTcpStateNames.size()> by_tcp_{};
  void refile(Flow* f, uint16_t slot) noexcept;
  static constexpr uint32_t kWheelSlots = 4096;  ///< seconds; longer than every timer (max 1800 s)
  std::vector<uint32_t> wheel_;                  ///< list head per second slot
  uint64_t wheel_second_ = UINT64_MAX;           ///< the last second advance() has passed
  void unlink(Flow& f) noexcept;
  ReleaseFn release_ = nullptr;
  void* release_arg_ = nullptr;
  IdleFn idle_ = nullptr;
  void* idle_arg_ = nullptr;
  RuleTally* tally_ = nullptr;
};

/// Control thread, the worker stopped (asenetd's exit, the end of a replay): a
/// kEnd event for every flow-logged flow still open, at `now` (or its expiry,
/// when a timer was due and had not yet fired), so what it carried since its
/// last event is not lost with the process. Returns how many.
template <typename Out>
uint32_t end_logged_flows(const FlowTable& t, uint64_t now, uint16_t worker, Out&& out) {
  uint32_t n = 0;
  t.for_each_live([&](const Flow& f) {
    if (!f.logged) return;
    out(flow_log_progress(f, FlowLogKind::kEnd, std::min(now, f.expires_ns), worker, t.slot_of(&f)));
    ++n;
  });
  return n;
}

}  // namespace asenet::dataplane

#include "dataplane/runtime/worker.hpp"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include <rte_errno.h>
#include <sched.h>

#include "dataplane/core/checksum.hpp"
#include "dataplane/core/fabric.hpp"
#include "dataplane/pipeline/stage_util.hpp"
#include "dataplane/ports/ports.hpp"

namespace asenet::dataplane {

namespace {

constexpr uint16_t kLearnOnly = 0x4000;  ///< in mbuf->port with the side: another worker's ARP, to learn from

/// An instance's answer to a health probe (to 168.63.129.16): in a pool it
/// belongs to the node that probes, node 0 (docs/design/scale-out.md).
inline bool is_probe_reply(const uint8_t* frame, uint32_t len) noexcept {
  return len >= kEthHeaderLen + 20 && load_be16(frame + 12) == kEtherTypeIpv4 &&
         load_be32(frame + kEthHeaderLen + 16) == kAzureProbeSource;
}

/// What the owner worker does with a packet before processing it
/// (Steering::screen): in a membership window a connection on a moved slot
/// may still live on the slot's previous owner (pool_map.hpp).
enum class Consult : uint8_t {
  kCheck = 0,       ///< a moved slot's packet this worker holds no flow for goes to the previous owner first
  kAsPrevious = 1,  ///< this node is the previous owner: take it if it holds the flow, else send it back
  kDecided = 2,     ///< take it (sent back by the previous owner, or a probe answer)
};
/// In mbuf->port on a handoff ring, above the side.
constexpr uint16_t kConsultShift = 12;
constexpr uint16_t kSideMask = 0x0fff;

/// The packet a worker is about to screen: whether its flow is in this
/// worker's table (not expired), and whether it opens a TCP connection; `k`
/// its flow key. A frame that does not parse, or cannot own a flow, counts as
/// held: it is judged here, as on one node.
bool held_here(const rte_mbuf* mb, WorkerContext& ctx, uint64_t now, bool& syn, FlowKey& k) noexcept {
  syn = false;
  if (ctx.flows == nullptr) return true;
  PacketMeta m;
  if (parse_packet(rte_pktmbuf_mtod(mb, const uint8_t*), mb->data_len, mb->data_len, m) != DropReason::kNone)
    return true;
  if ((m.flags & kFlagIcmpError) != 0) {  // the flow of the packet it quotes, as flow_stage looks it up
    k = icmp_error_key(m);
  } else if (!flowable(m)) {
    return true;
  } else {
    k = key_of(m);
  }
  syn = m.proto == kIpProtoTcp && (m.flags & kFlagIcmpError) == 0 && (m.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn;
  Flow* f = nullptr;
  bool reply = false;
  return ctx.flows->lookup_bulk(&k, 1, &f, &reply) == 1 && f->expires_ns > now;
}

/// Whether this worker holds SNAT ports for the connection `k` would open
/// (its source as the instance, per destination port or per destination IP):
/// then its destination's ports stay here until they are all released, so
/// that one node alone allocates them (Steering::screen).
bool holds_ports(const WorkerContext& ctx, const FlowKey& k) noexcept {
  return ctx.snat != nullptr &&
         (ctx.snat->holds(k.src, k.proto, k.dst, k.dport) || ctx.snat->holds(k.src, k.proto, k.dst, 0));
}

/// Live steering state of one worker (WorkerSetup::handoff).
struct Steering {
  const WorkerSetup& setup;
  WorkerContext& ctx;
  Burst in;  ///< packets other workers handed to this one
  std::array<Port, kBurstSize> sides{};
  using PeerOut = std::array<std::array<rte_mbuf*, kBurstSize>, kMaxNodes>;

  /// Processes what other workers handed over (up to a burst); true if any.
  bool drain(const TableSet& ts) {
    rte_ring* ring = setup.handoff[ctx.worker_id];
    const unsigned n = rte_ring_sc_dequeue_burst(ring, reinterpret_cast<void**>(in.pkts.data()), kBurstSize, nullptr);
    if (n == 0) return false;
    uint16_t kept = 0;
    std::array<Consult, kBurstSize> modes{};
    for (unsigned i = 0; i < n; ++i) {
      rte_mbuf* m = in.pkts[i];
      const auto side = static_cast<Port>(m->port & kSideMask);
      if ((m->port & kLearnOnly) != 0) {
        learn_from_arp(m, side, ts.spec(), ctx);
        rte_pktmbuf_free(m);
        continue;
      }
      modes[kept] = static_cast<Consult>((m->port >> kConsultShift) & 3u);
      in.pkts[kept] = m;
      sides[kept++] = side;
    }
    ctx.counters.handed_in += kept;
    if (setup.pool != nullptr && ts.pool_map() != nullptr) {
      PeerOut peer_out;
      std::array<uint16_t, kMaxNodes> npeer{};
      kept = screen(in.pkts.data(), kept, sides, modes.data(), ts, peer_out, npeer);
      send_to_peers(peer_out, npeer);
    }
    if (kept > 0) {
      in.count = kept;
      stamp_burst(in, ctx, sides.data());
      process_burst(in, ts, ctx);
    }
    return true;
  }

  /// Hands packets to worker `to`. A full ring holds this worker back (the
  /// NIC queue then fills and drops, as with a slow worker), while it keeps
  /// draining its own ring so that two workers handing to each other never wait
  /// for one another.
  void hand(rte_mbuf** pkts, unsigned n, unsigned to, const TableSet& ts) {
    unsigned sent = 0;
    while (sent < n) {
      const unsigned k =
          rte_ring_mp_enqueue_burst(setup.handoff[to], reinterpret_cast<void**>(pkts + sent), n - sent, nullptr);
      sent += k;
      ctx.counters.handed_off += k;
      if (sent == n) break;
      if (setup.stop->load(std::memory_order_relaxed)) {
        rte_pktmbuf_free_bulk(pkts + sent, n - sent);
        return;
      }
      if (!drain(ts)) rte_pause();
    }
  }

  /// Sends what this worker gathered for other nodes, each on its link.
  void send_to_peers(PeerOut& out, const std::array<uint16_t, kMaxNodes>& nout) {
    for (unsigned node = 0; node < setup.pool->nodes; ++node) {
      if (nout[node] == 0) continue;
      const uint16_t sent = rte_eth_tx_burst(setup.pool->peer_port[node], ctx.tx_queue, out[node].data(), nout[node]);
      ctx.counters.peer_sent += sent;
      if (sent < nout[node]) {
        ctx.counters.peer_dropped += nout[node] - sent;
        rte_pktmbuf_free_bulk(out[node].data() + sent, nout[node] - sent);
      }
    }
  }

  /// Wraps `m` for node `node` (false: dropped, counted).
  bool to_peer(rte_mbuf* m, Port side, unsigned node, PeerKind kind, PeerOut& out,
               std::array<uint16_t, kMaxNodes>& nout) {
    if (!peer_encapsulate(m, side, *setup.pool, setup.workers, kind)) {
      ++ctx.counters.peer_dropped;
      rte_pktmbuf_free(m);
      return false;
    }
    out[node][nout[node]++] = m;
    return true;
  }

  /// The owner worker's last look before processing (pool_map.hpp): in a
  /// membership window, a packet of a moved slot whose flow this worker does
  /// not hold goes to the slot's previous owner, but for a SYN from the
  /// Internet or on-premises (no SNAT port to find there). The previous owner
  /// takes it if it holds the flow, or, for a new connection, SNAT ports of
  /// its source to its destination (the ports of one destination are
  /// allocated by one node at a time, so none is given twice); otherwise it
  /// sends it back and the current owner takes it as new. Returns how many
  /// stay (compacted, with their sides).
  uint16_t screen(rte_mbuf** pkts, uint16_t n, std::array<Port, kBurstSize>& kept_sides, const Consult* modes,
                  const TableSet& ts, PeerOut& out, std::array<uint16_t, kMaxNodes>& nout) {
    const PoolMap& map = *ts.pool_map();
    if (map.prev_until_ns == 0) return n;  // never changed: nothing to ask
    const uint64_t now = tsc_to_ns(rte_rdtsc(), ctx.tsc_hz);
    const bool window = map.in_window(now);
    uint16_t kept = 0;
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      const Port side = kept_sides[i];
      int to = -1;
      PeerKind kind = PeerKind::kPrevious;
      if (modes[i] == Consult::kAsPrevious || (modes[i] == Consult::kCheck && window)) {
        const unsigned s =
            map.slot(steer_hash(rte_pktmbuf_mtod(m, const uint8_t*), m->data_len, ts.fabric_addresses()));
        const int ask = modes[i] == Consult::kCheck ? map.ask_first(s, now) : -1;
        bool syn = false;
        FlowKey k;
        if ((modes[i] == Consult::kAsPrevious || ask >= 0) && !held_here(m, ctx, now, syn, k)) {
          if (modes[i] == Consult::kAsPrevious) {
            if (!holds_ports(ctx, k)) {
              to = static_cast<int>(map.cur[s] / setup.workers);
              kind = PeerKind::kReturned;
            }
          } else if (!syn || side == Port::kVnet) {
            to = ask / static_cast<int>(setup.workers);
          }
        }
      }
      if (to < 0 || static_cast<unsigned>(to) == setup.pool->node) {
        pkts[kept] = m;
        kept_sides[kept++] = side;
      } else if (to_peer(m, side, static_cast<unsigned>(to), kind, out, nout)) {
        ++(kind == PeerKind::kReturned ? ctx.counters.peer_returned : ctx.counters.peer_asked);
      }
    }
    return kept;
  }

  /// The unit owning a frame (node * workers + worker) and how its owner
  /// screens it, for a frame that came from the wire (`kind` null) or from
  /// a peer; false: refused (a peer's frame this node does not own).
  bool owner_of(const uint8_t* frame, uint32_t len, const PeerKind* kind, const TableSet& ts, unsigned& unit,
                Consult& mode) const noexcept {
    const unsigned workers = setup.workers;
    const unsigned nodes = setup.pool != nullptr ? setup.pool->nodes : 1;
    const unsigned self = setup.pool != nullptr ? setup.pool->node : 0;
    const PoolMap* map = ts.pool_map();
    mode = Consult::kCheck;
    const uint64_t h = nodes * workers > 1 ? steer_hash(frame, len, ts.fabric_addresses()) : 0;
    unit = map != nullptr ? map->owner(h) : static_cast<unsigned>(h % (nodes * workers));
    if (nodes > 1 && is_probe_reply(frame, len)) {  // the pool's prober is node 0
      unit = static_cast<unsigned>(h % workers);
      mode = Consult::kDecided;
    }
    if (kind == nullptr) return true;
    if (*kind == PeerKind::kPrevious) {
      if (map == nullptr || !map->in_window(tsc_to_ns(rte_rdtsc(), ctx.tsc_hz))) return false;
      unit = map->prev[map->slot(h)];
      mode = Consult::kAsPrevious;
    } else if (*kind == PeerKind::kReturned) {
      mode = Consult::kDecided;
    }
    return unit / workers == self;
  }

  /// Splits a received burst: this worker's packets stay in `pkts` (their
  /// count returned, their sides in `kept_sides`), the others go to their
  /// workers, and in a pool those of other nodes to them. ARP stays here and
  /// every other worker gets a copy to learn from. `kinds` (a burst from a
  /// peer link, else null): a packet this node does not own is refused, not
  /// sent on (one hop at most, two when a previous owner sends one back).
  uint16_t split(rte_mbuf** pkts, uint16_t n, const Port* in_sides, const PeerKind* kinds, const TableSet& ts,
                 std::array<Port, kBurstSize>& kept_sides) {
    const unsigned workers = setup.workers;
    std::array<std::array<rte_mbuf*, kBurstSize>, kMaxSteerWorkers> out;
    std::array<uint16_t, kMaxSteerWorkers> nout{};
    PeerOut peer_out;
    std::array<uint16_t, kMaxNodes> npeer{};
    std::array<Consult, kBurstSize> modes{};
    uint16_t kept = 0;
    for (uint16_t i = 0; i < n; ++i) {
      rte_mbuf* m = pkts[i];
      const Port side = in_sides[i];
      const auto* frame = rte_pktmbuf_mtod(m, const uint8_t*);
      if (m->data_len >= kEthHeaderLen && load_be16(frame + 12) == kEtherTypeArp) {
        for (unsigned w = 0; w < workers && workers > 1; ++w) {
          if (w == ctx.worker_id) continue;
          rte_mbuf* c = rte_pktmbuf_copy(m, ctx.pool, 0, UINT32_MAX);
          if (c == nullptr) continue;  // learning is best effort: that worker will ask itself
          c->port = static_cast<uint16_t>(static_cast<uint16_t>(side) | kLearnOnly);
          if (rte_ring_mp_enqueue(setup.handoff[w], c) != 0) rte_pktmbuf_free(c);
        }
        modes[kept] = Consult::kDecided;
        pkts[kept] = m;
        kept_sides[kept++] = side;
        continue;
      }
      unsigned unit = 0;
      Consult mode = Consult::kCheck;
      if (!owner_of(frame, m->data_len, kinds != nullptr ? kinds + i : nullptr, ts, unit, mode)) {
        ++ctx.counters.peer_refused;
        rte_pktmbuf_free(m);
        continue;
      }
      const unsigned node = unit / workers, owner = unit % workers;
      if (setup.pool != nullptr && node != setup.pool->node) {
        to_peer(m, side, node, PeerKind::kOwner, peer_out, npeer);
      } else if (owner == ctx.worker_id) {
        modes[kept] = mode;
        pkts[kept] = m;
        kept_sides[kept++] = side;
      } else {
        m->port = static_cast<uint16_t>(static_cast<uint16_t>(side) | static_cast<uint16_t>(mode) << kConsultShift);
        out[owner][nout[owner]++] = m;
      }
    }
    if (setup.pool != nullptr) {
      if (ts.pool_map() != nullptr) kept = screen(pkts, kept, kept_sides, modes.data(), ts, peer_out, npeer);
      send_to_peers(peer_out, npeer);
    }
    for (unsigned w = 0; w < workers && workers > 1; ++w)
      if (nout[w] > 0) hand(out[w].data(), nout[w], w, ts);
    return kept;
  }

  /// A burst from a peer link: unwrapped, then split as any other.
  uint16_t from_peer(rte_mbuf** pkts, uint16_t n, const TableSet& ts, std::array<Port, kBurstSize>& kept_sides) {
    std::array<Port, kBurstSize> in_sides{};
    std::array<PeerKind, kBurstSize> kinds{};
    uint16_t ok = 0;
    for (uint16_t i = 0; i < n; ++i) {
      Port side = Port::kInternet;
      if (peer_decapsulate(pkts[i], *setup.pool, setup.workers, side, kinds[ok]) != PeerRefusal::kNone) {
        ctx.counters.peer_refused++;
        rte_pktmbuf_free(pkts[i]);
        continue;
      }
      pkts[ok] = pkts[i];
      in_sides[ok++] = side;
    }
    ctx.counters.peer_received += ok;
    return split(pkts, ok, in_sides.data(), kinds.data(), ts, kept_sides);
  }
};

}  // namespace

std::vector<rte_ring*> make_handoff_rings(const std::string& name, unsigned workers, unsigned size,
                                          std::string& error) {
  std::vector<rte_ring*> rings;
  if (workers > kMaxSteerWorkers) {
    error = "at most " + std::to_string(kMaxSteerWorkers) + " workers";
    return {};
  }
  for (unsigned w = 0; w < workers; ++w) {
    rte_ring* r = rte_ring_create((name + std::to_string(w)).c_str(), size, SOCKET_ID_ANY, RING_F_SC_DEQ);
    if (r == nullptr) {
      error = "rte_ring_create " + name + std::to_string(w) + ": " + rte_strerror(rte_errno);
      for (rte_ring* x : rings) rte_ring_free(x);
      return {};
    }
    rings.push_back(r);
  }
  return rings;
}

namespace {

/// Replay --nodes: a frame that crossed a peer link to this worker's node,
/// unwrapped as asenetd unwraps one. A refused frame keeps its peer header
/// and goes on as entering the internet side, where the pipeline drops it as
/// an EtherType it does not carry (counted, and in order with the rest).
Port replay_peer_frame(const WorkerSetup& setup, WorkerContext& ctx, rte_mbuf* m) noexcept {
  Port side = Port::kInternet;
  if (setup.replay_node == nullptr ||
      peer_decapsulate(m, *setup.replay_node, setup.workers, side) != PeerRefusal::kNone) {
    ctx.counters.peer_refused++;
    return Port::kInternet;
  }
  ctx.counters.peer_received++;
  return side;
}

/// Frames the control thread made (health probes): sent on this worker's queue.
void send_control_frames(WorkerContext& ctx) noexcept {
  rte_mbuf* out[8];
  const unsigned n = rte_ring_sc_dequeue_burst(ctx.control_tx, reinterpret_cast<void**>(out), 8, nullptr);
  for (unsigned k = 0; k < n; ++k) {
    const size_t side = out[k]->port < kNumPorts ? out[k]->port : 0;
    capture_made(ctx, side, out[k], ctx.timer_ns);
    if (rte_eth_tx_burst(ctx.tx_port_id[side], ctx.tx_queue, &out[k], 1) == 1)
      ctx.counters.tx[side]++;
    else
      rte_pktmbuf_free(out[k]);
  }
}

/// After one round of polls: back off when idle for a while (yield, sleep or
/// pause), and count the round's cycles as busy or idle.
inline void after_poll(const WorkerSetup& setup, WorkerContext& ctx, bool got, unsigned& idle, uint64_t& since) {
  if (got) {
    idle = 0;
  } else if (++idle > kIdleSpins) {
    if (setup.yield_when_idle) {
      sched_yield();  // replay only
    } else if (setup.idle_sleep_us != 0) {
      rte_delay_us_sleep(setup.idle_sleep_us);  // nothing to do: not the packet path
    } else {
      rte_pause();
    }
  }
  if (ctx.clock == ClockMode::kTsc) {  // live: busy and idle cycles (replay runs on the capture's clock)
    const uint64_t now = rte_rdtsc();
    (got ? ctx.counters.busy_cycles : ctx.counters.idle_cycles) += now - since;
    since = now;
  }
}

}  // namespace

int worker_main(void* arg) {
  auto& setup = *static_cast<WorkerSetup*>(arg);
  WorkerContext& ctx = *setup.ctx;
  setup.tables->worker_online(ctx.worker_id);
  Burst burst;
  std::array<Port, kBurstSize> sides{};
  unsigned idle = 0;
  Steering steering{setup, ctx, {}, {}};
  const bool steer = !setup.handoff.empty() || setup.pool != nullptr;
  // Timers run every so many empty polls: fewer when each ends in a sleep.
  const unsigned timer_mask = setup.idle_sleep_us != 0 ? 0xff : 0x3fff;
  uint64_t since = ctx.clock == ClockMode::kTsc ? rte_rdtsc() : 0;
  while (!setup.stop->load(std::memory_order_relaxed)) {
    const TableSet* ts = setup.tables->acquire();
    bool got = false;
    for (const RxSource& src : setup.sources) {
      const uint16_t n = rte_eth_rx_burst(src.port_id, src.queue, burst.pkts.data(), kBurstSize);
      if (n == 0) continue;
      got = true;
      if (steer) {
        std::array<Port, kBurstSize> in_sides;
        if (!src.peer) in_sides.fill(src.side);
        const uint16_t kept = src.peer ? steering.from_peer(burst.pkts.data(), n, *ts, sides)
                                       : steering.split(burst.pkts.data(), n, in_sides.data(), nullptr, *ts, sides);
        if (kept == 0) continue;
        burst.count = kept;
        stamp_burst(burst, ctx, sides.data());
        process_burst(burst, *ts, ctx);
        continue;
      }
      uint16_t kept = 0;
      for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = burst.pkts[i];
        if (src.side_in_mbuf && m->port == kTickSide) {
          // Packets before the tick first: timers must not run ahead of them.
          if (kept > 0) {
            burst.count = kept;
            stamp_burst(burst, ctx, sides.data());
            process_burst(burst, *ts, ctx);
            kept = 0;
          }
          const uint64_t seq = *RTE_MBUF_DYNFIELD(m, ctx.seq_dynfield, uint64_t*);
          run_timers(ctx, *ts, *RTE_MBUF_DYNFIELD(m, ctx.ts_dynfield, uint64_t*), seq);
          rte_pktmbuf_free(m);
          // The reader orders output by each worker's progress: a tick is progress too.
          ctx.done_seq.store(seq, std::memory_order_release);
          ctx.done_any.store(true, std::memory_order_release);
          continue;
        }
        Port side = src.side;
        if (src.side_in_mbuf)  // replay: the side is in the mbuf, or a peer header says it
          side = m->port == kPeerFrame ? replay_peer_frame(setup, ctx, m) : static_cast<Port>(m->port);
        burst.pkts[kept] = m;
        sides[kept++] = side;
      }
      if (kept == 0) continue;
      burst.count = kept;
      stamp_burst(burst, ctx, sides.data());
      process_burst(burst, *ts, ctx);
    }
    if (!setup.handoff.empty()) got = steering.drain(*ts) || got;
    if (!got && ctx.clock == ClockMode::kTsc && ((idle + 1) & timer_mask) == 0) {
      // Live: time passes without packets too. Timers (idle flows, SNAT
      // ports, the LB's resets) run on the TSC every ~16K empty polls, while
      // this worker still holds the tables (before its quiescent report).
      run_timers(ctx, *ts, tsc_to_ns(rte_rdtsc(), ctx.tsc_hz), ctx.next_seq);
    }
    if (ctx.control_tx != nullptr) send_control_frames(ctx);
    if (ctx.neighbor_copy != nullptr) ctx.neighbor_copy->serve(*ctx.neighbors);
    setup.tables->quiescent(ctx.worker_id);
    after_poll(setup, ctx, got, idle, since);
  }
  setup.tables->worker_offline(ctx.worker_id);
  return 0;
}

}  // namespace asenet::dataplane

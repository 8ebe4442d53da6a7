#include "dataplane/tables/pool_map.hpp"

namespace asenet::dataplane {

namespace {

uint64_t mix(uint64_t x) noexcept {  // splitmix64's finaliser
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// The members' owner of slot `s` whose home node is out: the member with
/// the highest weight for the slot (rendezvous hashing), so that a second
/// node leaving moves only the slots that had fallen to it.
unsigned fallback(unsigned s, uint32_t members, unsigned nodes) noexcept {
  unsigned best = 0;
  uint64_t best_w = 0;
  bool any = false;
  for (unsigned n = 0; n < nodes; ++n) {
    if (((members >> n) & 1u) == 0) continue;
    const uint64_t w = mix((uint64_t{s} << 8 | n) + 0x9e3779b97f4a7c15ull);
    if (!any || w > best_w) {
      best = n;
      best_w = w;
      any = true;
    }
  }
  return best;
}

PoolMap build(unsigned nodes, unsigned workers, uint32_t members) noexcept {
  PoolMap m;
  m.nodes = nodes;
  m.workers = workers;
  const unsigned units = nodes * workers;
  m.slots = units * ((PoolMap::kMinSlots + units - 1) / units);
  m.members = members;
  for (unsigned s = 0; s < m.slots; ++s) {
    const unsigned home = s % units;  // what hash % units gives: the full pool's owner
    const unsigned node = home / workers;
    const unsigned owner = ((members >> node) & 1u) != 0 ? node : fallback(s, members, nodes);
    m.cur[s] = static_cast<uint8_t>(owner * workers + home % workers);
  }
  m.prev = m.cur;
  return m;
}

}  // namespace

PoolMap PoolMap::full(unsigned nodes, unsigned workers) noexcept {
  return build(nodes, workers, nodes >= 32 ? ~0u : (1u << nodes) - 1u);
}

PoolMap PoolMap::changed(const PoolMap& live, uint32_t members, uint32_t previous, uint64_t now_ns,
                         uint64_t window_ns) noexcept {
  PoolMap m = build(live.nodes, live.workers, members);
  if (previous != members) {
    m.prev = build(live.nodes, live.workers, previous).cur;
    m.prev_until_ns = now_ns + window_ns;
    bool ask = false;  // only a member is asked: after a departure alone, nobody
    for (unsigned s = 0; s < m.slots && !ask; ++s) ask = m.cur[s] != m.prev[s] && m.member(m.prev[s] / m.workers);
    if (!ask) m.prev_until_ns = 0;
  }
  m.changes = live.changes + 1;
  return m;
}

unsigned PoolMap::slots_of(unsigned n) const noexcept {
  unsigned k = 0;
  for (unsigned s = 0; s < slots; ++s) k += cur[s] / workers == n ? 1u : 0u;
  return k;
}

}  // namespace asenet::dataplane

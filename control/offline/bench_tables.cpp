#include "control/offline/bench_tables.hpp"

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_table_hash.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "dataplane/flow/flow_table.hpp"

namespace asenet::control::bench {

using namespace asenet::dataplane;

namespace {

constexpr unsigned kBurst = 32;
constexpr uint32_t kKeyOffset = 256;  ///< where each mbuf holds its key: sizeof(rte_mbuf) + the 128-byte headroom

uint64_t table_hash(void* key, void* /*mask*/, uint32_t /*size*/, uint64_t /*seed*/) {
  return flow_hash(*static_cast<const FlowKey*>(key));
}

FlowKey key_of(uint32_t i) {
  FlowKey k;
  k.src = 0x0c000000u + i / 60000;
  k.dst = 0xc0170102u;
  k.sport = static_cast<uint16_t>(1024 + i % 60000);
  k.dport = 443;
  k.proto = 6;
  return k;
}

/// Lookups of `order` in bursts, `rounds` times; the best round's cycles a lookup.
template <class F>
double time_lookups(const std::vector<uint32_t>& order, F&& lookup_burst) {
  double best = 1e18;
  for (int round = 0; round < 3; ++round) {
    const uint64_t c0 = rte_rdtsc();
    for (size_t i = 0; i + kBurst <= order.size(); i += kBurst) lookup_burst(&order[i]);
    best = std::min(best, static_cast<double>(rte_rdtsc() - c0) / static_cast<double>(order.size() / kBurst * kBurst));
  }
  return best;
}

}  // namespace

namespace {

/// What a lookup leads to: flow v / 2's two lines, as the flow stage reads
/// them (prefetched for the burst, then each read). In TableMemory, as the
/// flow table's own flows are.
struct FlowLines {
  TableMemory mem;
  Flow* flows = nullptr;
  explicit FlowLines(uint32_t n) {
    if (mem.allocate("bench_flow_lines", sizeof(Flow) * n)) flows = static_cast<Flow*>(mem.get());
  }
  uint64_t touch(void* const* data, uint64_t hits) const noexcept {
    for (unsigned j = 0; j < kBurst; ++j)
      if (hits & (uint64_t{1} << j)) {
        const Flow* f = &flows[reinterpret_cast<uintptr_t>(data[j]) / 2];
        rte_prefetch0(f);
        rte_prefetch0(reinterpret_cast<const uint8_t*>(f) + 64);
      }
    uint64_t s = 0;
    for (unsigned j = 0; j < kBurst; ++j)
      if (hits & (uint64_t{1} << j)) {
        const Flow& f = flows[reinterpret_cast<uintptr_t>(data[j]) / 2];
        s += f.expires_ns + f.action[0].dst;
      }
    return s;
  }
};

/// rte_hash, as FlowTable::init made it before issue 16's own index.
bool measure_rte_hash(const std::vector<FlowKey>& keys, const std::vector<uint32_t>& order, const FlowLines& lines,
                      TablesResult& out, uint64_t& sink, std::string& why) {
  const auto n = static_cast<uint32_t>(keys.size());
  const uint64_t h0 = heap_allocated_bytes();
  rte_hash_parameters p{};
  p.name = "bench_rte_hash";
  p.entries = n;
  p.key_len = sizeof(FlowKey);
  p.hash_func = rte_hash_crc;
  p.socket_id = SOCKET_ID_ANY;
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  rte_hash* h = rte_hash_create(&p);
  if (h == nullptr) {
    why = "rte_hash_create failed";
    return false;
  }
  for (uint32_t i = 0; i < n; ++i)
    rte_hash_add_key_with_hash_data(h, &keys[i], flow_hash(keys[i]), reinterpret_cast<void*>(uintptr_t{i}));
  out.rte_hash_mib = static_cast<double>(heap_allocated_bytes() - h0) / (1 << 20);
  for (const bool with_flow : {false, true}) {
    (with_flow ? out.rte_hash_flow_cycles : out.rte_hash_cycles) = time_lookups(order, [&](const uint32_t* idx) {
      FlowKey k[kBurst];
      const void* kp[kBurst];
      hash_sig_t sig[kBurst];
      void* data[kBurst];
      uint64_t hits = 0;
      for (unsigned j = 0; j < kBurst; ++j) {
        k[j] = keys[idx[j]];  // as the flow stage builds its keys from the packets
        kp[j] = &k[j];
        sig[j] = flow_hash(k[j]);
      }
      rte_hash_lookup_with_hash_bulk_data(h, kp, sig, kBurst, &hits, data);
      sink += with_flow ? lines.touch(data, hits) : hits + reinterpret_cast<uintptr_t>(data[0]);
    });
  }
  rte_hash_free(h);
  return true;
}

/// rte_table_hash_key16_ext: its keys are read from the mbufs.
bool measure_key16(const std::vector<FlowKey>& keys, const std::vector<uint32_t>& order, const FlowLines& lines,
                   TablesResult& out, uint64_t& sink, std::string& why) {
  const auto n = static_cast<uint32_t>(keys.size());
  const uint64_t t0 = heap_allocated_bytes();
  rte_table_hash_params tp{};
  tp.name = "bench_key16";
  tp.key_size = 16;
  tp.key_offset = kKeyOffset;
  tp.key_mask = nullptr;
  tp.n_keys = n;
  tp.n_buckets = std::bit_ceil(n / 4);  // 4 keys a bucket (n / 2 measured no faster, 1.5 x the memory)
  tp.f_hash = table_hash;
  tp.seed = 0;
  void* t = rte_table_hash_key16_ext_ops.f_create(&tp, SOCKET_ID_ANY, sizeof(uint32_t));
  if (t == nullptr) {
    why = "rte_table_hash_key16_ext create failed";
    return false;
  }
  for (uint32_t i = 0; i < n; ++i) {
    int found = 0;
    void* entry = nullptr;
    uint32_t v = i;
    rte_table_hash_key16_ext_ops.f_add(t, const_cast<FlowKey*>(&keys[i]), &v, &found, &entry);  // it copies the key
  }
  out.key16_ext_mib = static_cast<double>(heap_allocated_bytes() - t0) / (1 << 20);
  rte_mempool* pool = rte_pktmbuf_pool_create("bench_key16_pool", 255, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  rte_mbuf* m[kBurst];
  if (pool == nullptr || rte_pktmbuf_alloc_bulk(pool, m, kBurst) != 0) {
    why = "no mbufs for the key16 lookups";
    return false;
  }
  for (const bool with_flow : {false, true}) {
    (with_flow ? out.key16_ext_flow_cycles : out.key16_ext_cycles) = time_lookups(order, [&](const uint32_t* idx) {
      for (unsigned j = 0; j < kBurst; ++j)
        std::memcpy(reinterpret_cast<uint8_t*>(m[j]) + kKeyOffset, &keys[idx[j]], 16);  // parse would write it there
      uint64_t hit = 0;
      void* entries[64];
      rte_table_hash_key16_ext_ops.f_lookup(t, m, (uint64_t{1} << kBurst) - 1, &hit, entries);
      if (!with_flow) {
        sink += hit;
        return;
      }
      void* data[kBurst];  // each entry holds its value
      for (unsigned j = 0; j < kBurst; ++j)
        data[j] = (hit & (uint64_t{1} << j)) ? reinterpret_cast<void*>(uintptr_t{*static_cast<uint32_t*>(entries[j])})
                                             : nullptr;
      sink += lines.touch(data, hit);
    });
  }
  rte_pktmbuf_free_bulk(m, kBurst);
  rte_mempool_free(pool);
  rte_table_hash_key16_ext_ops.f_free(t);
  return true;
}

/// The flow table itself: flow f holds keys 2f (as its first packet
/// arrives) and 2f + 1 (its replies).
bool measure_flow_table(const std::vector<FlowKey>& keys, const std::vector<uint32_t>& order, TablesResult& out,
                        uint64_t& sink, std::string& why) {
  const auto flows = static_cast<uint32_t>(keys.size() / 2);
  FlowTable t;
  if (!t.init("bench_flow_table", flows, why)) return false;
  for (uint32_t f = 0; f < flows; ++f)
    if (t.insert(keys[2 * f], keys[2 * f + 1], 0) == nullptr) {
      why = "the flow table refused a key";
      return false;
    }
  out.flow_index_mib = static_cast<double>(FlowIndex::buckets_for(2 * flows) * sizeof(IndexBucket)) / (1 << 20);
  out.flow_table_cycles = time_lookups(order, [&](const uint32_t* idx) {
    FlowKey k[kBurst];
    Flow* found[kBurst];
    bool reply[kBurst];
    for (unsigned j = 0; j < kBurst; ++j) k[j] = keys[idx[j]];
    sink += t.lookup_bulk(k, kBurst, found, reply);
    for (unsigned j = 0; j < kBurst; ++j)
      if (found[j] != nullptr) sink += found[j]->expires_ns + found[j]->action[0].dst;
  });
  return true;
}

}  // namespace

bool compare_tables(uint32_t flows, TablesResult& out, std::string& why) {
  const uint32_t n = 2 * flows;
  out.keys = n;
  std::vector<FlowKey> keys(n);
  for (uint32_t i = 0; i < n; ++i) keys[i] = key_of(i);
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::shuffle(order.begin(), order.end(), std::mt19937(5));
  uint64_t sink = 0;
  {
    const FlowLines lines(flows);
    if (lines.flows == nullptr) {
      why = "cannot map the flows";
      return false;
    }
    if (!measure_rte_hash(keys, order, lines, out, sink, why) || !measure_key16(keys, order, lines, out, sink, why))
      return false;
  }
  if (!measure_flow_table(keys, order, out, sink, why)) return false;
  if (sink == 0) why = "no lookup found anything";
  return sink != 0;
}

}  // namespace asenet::control::bench

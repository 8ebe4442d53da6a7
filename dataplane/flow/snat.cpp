#include "dataplane/flow/snat.hpp"

#include <algorithm>
#include <array>

#include "dataplane/flow/flow_log.hpp"
#include "dataplane/flow/neighbors.hpp"
#include "dataplane/flow/flow_table.hpp"

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_memory.h>

namespace asenet::dataplane {

namespace {

struct UsedKey {
  uint32_t vip;
  uint32_t dst;
  uint16_t port;
  uint16_t dport;
  uint8_t proto;
  uint8_t pad[3];
};
static_assert(sizeof(UsedKey) == 16);

struct CountKey {
  uint32_t instance;
  uint32_t dst;
  uint16_t dport;
  uint8_t proto;
  uint8_t pad[5];
};
static_assert(sizeof(CountKey) == 16);

rte_hash* make(const std::string& name, uint32_t entries, std::string& error) {
  rte_hash_parameters p{};
  p.name = name.c_str();
  p.entries = entries;
  p.key_len = 16;
  p.hash_func = rte_hash_crc;
  p.socket_id = SOCKET_ID_ANY;
  p.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
  rte_hash* h = rte_hash_create(&p);
  if (h == nullptr) error = "rte_hash_create " + name + ": " + rte_strerror(rte_errno);
  return h;
}

}  // namespace

SnatTable::~SnatTable() {
  rte_hash_free(used_);
  rte_hash_free(count_);
}

bool SnatTable::init(const std::string& name, uint32_t capacity, std::string& error) {
  const uint64_t before = heap_allocated_bytes();
  used_ = make(name + "_u", capacity, error);
  count_ = make(name + "_c", capacity, error);
  memory_bytes_ = heap_allocated_bytes() - before;
  return used_ != nullptr && count_ != nullptr;
}

void SnatTable::warm(const Request* r, unsigned n) noexcept {
  n = std::min(n, 32u);
  if (n == 0) return;
  std::array<CountKey, 32> ck;
  std::array<UsedKey, 32> uk;
  std::array<const void*, 32> kp;
  void* data[32];
  for (unsigned i = 0; i < n; ++i) {
    ck[i] = CountKey{r[i].instance, r[i].dst, r[i].dport_key, r[i].proto, {}};
    kp[i] = &ck[i];
  }
  uint64_t hits = 0;
  if (rte_hash_lookup_bulk_data(count_, kp.data(), n, &hits, data) < 0) hits = 0;
  for (unsigned i = 0; i < n; ++i) {
    const uintptr_t taken = (hits >> i) & 1 ? reinterpret_cast<uintptr_t>(data[i]) : 0;
    const auto& ports = *r[i].ports;
    uk[i] = UsedKey{r[i].vip,       r[i].dst,   ports.empty() ? uint16_t{0} : ports[taken % ports.size()],
                    r[i].dport_key, r[i].proto, {}};
    kp[i] = &uk[i];
  }
  int32_t pos[32];
  rte_hash_lookup_bulk(used_, kp.data(), n, pos);
}

uint16_t SnatTable::allocate(const std::vector<uint16_t>& ports, uint32_t instance, uint32_t vip, uint8_t proto,
                             uint32_t dst, uint16_t dport_key) noexcept {
  if (ports.empty()) return 0;
  CountKey ck{instance, dst, dport_key, proto, {}};
  void* data = nullptr;
  uintptr_t taken = 0;
  if (rte_hash_lookup_data(count_, &ck, &data) >= 0) taken = reinterpret_cast<uintptr_t>(data);
  if (taken >= ports.size()) return 0;  // exhausted for this destination: fail fast
  // Ports are taken in order, so ports[taken] is usually free; after releases
  // the scan moves on to the next free one.
  UsedKey uk{vip, dst, 0, dport_key, proto, {}};
  for (size_t i = 0; i < ports.size(); ++i) {
    uk.port = ports[(taken + i) % ports.size()];
    if (rte_hash_lookup(used_, &uk) >= 0) continue;
    if (rte_hash_add_key(used_, &uk) < 0) return 0;
    rte_hash_add_key_data(count_, &ck, reinterpret_cast<void*>(taken + 1));
    ++in_use_;
    if (InstanceUse* u = instance_slot(instance)) {
      u->ports++;
      if (taken == 0) u->destinations++;  // its first port for this destination
    }
    return uk.port;
  }
  return 0;
}

bool SnatTable::holds(uint32_t instance, uint8_t proto, uint32_t dst, uint16_t dport_key) const noexcept {
  const CountKey ck{instance, dst, dport_key, proto, {}};
  void* data = nullptr;
  return rte_hash_lookup_data(count_, &ck, &data) >= 0;
}

void SnatTable::release(uint32_t vip, uint16_t port, uint8_t proto, uint32_t dst, uint16_t dport_key,
                        uint32_t instance) noexcept {
  UsedKey uk{vip, dst, port, dport_key, proto, {}};
  if (rte_hash_del_key(used_, &uk) < 0) return;
  --in_use_;
  InstanceUse* u = instance_slot(instance);
  if (u != nullptr && u->ports > 0) u->ports--;
  CountKey ck{instance, dst, dport_key, proto, {}};
  void* data = nullptr;
  if (rte_hash_lookup_data(count_, &ck, &data) < 0) return;
  const auto n = reinterpret_cast<uintptr_t>(data);
  if (n <= 1) {
    rte_hash_del_key(count_, &ck);
    if (u != nullptr && u->destinations > 0) u->destinations--;  // its last port for this destination
  } else {
    rte_hash_add_key_data(count_, &ck, reinterpret_cast<void*>(n - 1));
  }
}

SnatTable::InstanceUse* SnatTable::instance_slot(uint32_t ip) noexcept {
  // Open addressing, linear probe; slots are never freed (an instance keeps
  // its slot at zero ports), so a probe stops at the first empty slot.
  size_t i = (ip * 2654435761u) % kInstanceSlots;
  for (size_t n = 0; n < kInstanceSlots; ++n, i = (i + 1) % kInstanceSlots) {
    if (by_instance_[i].ip == ip) return &by_instance_[i];
    if (by_instance_[i].ip == 0) {
      by_instance_[i].ip = ip;
      return &by_instance_[i];
    }
  }
  return nullptr;
}

bool make_worker_tables(const std::string& name, uint32_t flows, WorkerTables& out, std::string& error) {
  out.flows = std::make_unique<FlowTable>();
  out.snat = std::make_unique<SnatTable>();
  if (!out.flows->init(name + "_flows", flows, error) || !out.snat->init(name + "_snat", flows, error)) return false;
  out.rules = std::make_unique<RuleTally>();
  if (!out.rules->init(name + "_rules", RuleTally::kDefaultSets, error)) return false;
  out.flows->set_rule_tally(out.rules.get());
  out.neighbors = std::make_unique<NeighborTable>();
  out.neighbor_copy = std::make_unique<NeighborHandoff>();
  out.end = std::make_unique<FlowEndHook>();
  out.end->snat = out.snat.get();
  out.end->flows = out.flows.get();
  out.flows->set_release_hook(
      [](void* arg, const Flow& f, uint64_t now) {
        const auto& h = *static_cast<FlowEndHook*>(arg);
        if (f.snat) {
          const SnatBinding b = snat_of(f);
          h.snat->release(b.vip, b.port, b.proto, b.dst, b.dport_key, b.instance);
        }
        if (f.logged && h.log != nullptr)
          h.log->push(flow_log_progress(f, FlowLogKind::kEnd, now, h.worker, h.flows->slot_of(&f)));
      },
      out.end.get());
  return true;
}

}  // namespace asenet::dataplane

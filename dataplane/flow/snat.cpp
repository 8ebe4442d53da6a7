#include "dataplane/flow/snat.hpp"

#include <algorithm>
#include <array>

#include "dataplane/flow/flow_log.hpp"
#include "dataplane/flow/neighbors.hpp"
#include "dataplane/flow/flow_table.hpp"

namespace asenet::dataplane {

namespace {

KeyTable::Key used_key(uint32_t vip, uint32_t dst, uint16_t port, uint16_t dport, uint8_t proto) noexcept {
  KeyTable::Key k;
  k.w[0] = (uint64_t{dst} << 32) | vip;
  k.w[1] = (uint64_t{proto} << 32) | (uint64_t{dport} << 16) | port;
  return k;
}

KeyTable::Key count_key(uint32_t instance, uint32_t dst, uint16_t dport, uint8_t proto) noexcept {
  KeyTable::Key k;
  k.w[0] = (uint64_t{dst} << 32) | instance;
  k.w[1] = (uint64_t{proto} << 16) | dport;
  return k;
}

}  // namespace

SnatTable::~SnatTable() = default;

bool SnatTable::init(const std::string& name, uint32_t capacity, std::string& error) {
  if (!used_.init(name + "_u", capacity, error) || !count_.init(name + "_c", capacity, error)) return false;
  memory_bytes_ = used_.memory_bytes() + count_.memory_bytes();
  return true;
}

void SnatTable::warm(const Request* r, unsigned n) noexcept {
  n = std::min(n, 32u);
  for (unsigned i = 0; i < n; ++i) count_.prefetch(count_key(r[i].instance, r[i].dst, r[i].dport_key, r[i].proto));
  for (unsigned i = 0; i < n; ++i) {
    const uint32_t* c = count_.find(count_key(r[i].instance, r[i].dst, r[i].dport_key, r[i].proto));
    const uint32_t taken = c != nullptr ? *c : 0;
    const auto& ports = *r[i].ports;
    if (!ports.empty())
      used_.prefetch(used_key(r[i].vip, r[i].dst, ports[taken % ports.size()], r[i].dport_key, r[i].proto));
  }
}

uint16_t SnatTable::allocate(const std::vector<uint16_t>& ports, uint32_t instance, uint32_t vip, uint8_t proto,
                             uint32_t dst, uint16_t dport_key) noexcept {
  if (ports.empty()) return 0;
  const KeyTable::Key ck = count_key(instance, dst, dport_key, proto);
  uint32_t* count = count_.find(ck);
  const uint32_t taken = count != nullptr ? *count : 0;
  if (taken >= ports.size()) return 0;  // exhausted for this destination: fail fast
  // Ports are taken in order, so ports[taken] is usually free; after releases
  // the scan moves on to the next free one.
  for (size_t i = 0; i < ports.size(); ++i) {
    const uint16_t port = ports[(taken + i) % ports.size()];
    const KeyTable::Key uk = used_key(vip, dst, port, dport_key, proto);
    if (used_.find(uk) != nullptr) continue;
    const bool first = count == nullptr;
    if (first && (count = count_.insert(ck, 0)) == nullptr) return 0;  // full: as many destinations as flows
    if (used_.insert(uk, 0) == nullptr) {
      if (first) count_.erase(ck);
      return 0;
    }
    ++*count;
    ++in_use_;
    if (InstanceUse* u = instance_slot(instance)) {
      u->ports++;
      if (taken == 0) u->destinations++;  // its first port for this destination
    }
    return port;
  }
  return 0;
}

bool SnatTable::holds(uint32_t instance, uint8_t proto, uint32_t dst, uint16_t dport_key) const noexcept {
  return count_.contains(count_key(instance, dst, dport_key, proto));
}

void SnatTable::release(uint32_t vip, uint16_t port, uint8_t proto, uint32_t dst, uint16_t dport_key,
                        uint32_t instance) noexcept {
  if (!used_.erase(used_key(vip, dst, port, dport_key, proto))) return;
  --in_use_;
  InstanceUse* u = instance_slot(instance);
  if (u != nullptr && u->ports > 0) u->ports--;
  const KeyTable::Key ck = count_key(instance, dst, dport_key, proto);
  uint32_t* count = count_.find(ck);
  if (count == nullptr) return;
  if (*count <= 1) {
    count_.erase(ck);
    if (u != nullptr && u->destinations > 0) u->destinations--;  // its last port for this destination
  } else {
    --*count;
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

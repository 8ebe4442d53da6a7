// nsg_stage: the NSGs on a new flow's path, in Azure's order (outbound NIC,
// outbound subnet, inbound subnet, inbound NIC): one 4-category rte_acl
// classify for all levels, or, with NAT, the outbound levels on the addresses
// as sent and the inbound ones on the addresses as delivered. A VIP hairpin's
// inbound levels run in a second pass, once its SNAT port is known. Rule hits
// are counted per worker.
// Drop reasons: nsg_deny (a deny rule, or, failing closed, no rule matched).

#include "dataplane/pipeline/pipeline.hpp"

#include <rte_acl.h>

#include "dataplane/pipeline/stage_util.hpp"
#include "dataplane/tables/acl.hpp"

namespace asenet::dataplane {

namespace {

constexpr uint32_t kPlatformIp = 0xa83f8110;  // 168.63.129.16: DNS, DHCP, health probes
constexpr uint32_t kImdsIp = 0xa9fea9fe;      // 169.254.169.254

}  // namespace

FiveTuple nsg_tuple(const PacketMeta& m) noexcept {
  FiveTuple t;
  t.src = m.src_ip;
  t.dst = m.dst_ip;
  t.proto = m.proto;
  if ((m.proto == kIpProtoTcp || m.proto == kIpProtoUdp) && (m.flags & kFlagHasPorts) != 0) {
    t.sport = m.sport;
    t.dport = m.dport;
  }
  return t;
}

namespace {

// Up to two keys per packet: with NAT, outbound levels judge the addresses
// as sent and inbound levels the addresses as delivered (azure-semantics 6.6).
constexpr size_t kMaxKeys = kBurstSize * 2;

/// A burst's NSG work: the ACL keys, which packet each belongs to, the
/// results, and per packet and level the NSG id (0: none) and its verdict.
struct NsgBatch {
  std::array<AclKey, kMaxKeys> keys;
  std::array<const uint8_t*, kMaxKeys> data;
  std::array<uint16_t, kMaxKeys> key_pkt;
  std::array<uint32_t, kMaxKeys * kAclCategories> results;
  std::array<std::array<uint32_t, 4>, kBurstSize> verdict;
  std::array<std::array<uint8_t, 4>, kBurstSize> levels{};
  std::array<bool, kBurstSize> judged{};
  uint16_t n = 0;

  void add_key(const TableSpec& spec, uint16_t i, const FiveTuple& t, const std::array<uint16_t, 4>& lv) noexcept {
    const bool dst_vnet = (lv[kCatOutSubnet] | lv[kCatOutNic]) != 0 && spec.in_virtual_network(t.dst);
    const bool src_vnet = (lv[kCatInSubnet] | lv[kCatInNic]) != 0 && spec.in_virtual_network(t.src);
    make_acl_key(keys[n], t,
                 {acl_level(lv[kCatOutSubnet], dst_vnet), acl_level(lv[kCatOutNic], dst_vnet),
                  acl_level(lv[kCatInSubnet], src_vnet), acl_level(lv[kCatInNic], src_vnet)});
    data[n] = reinterpret_cast<const uint8_t*>(&keys[n]);
    key_pkt[n++] = i;
  }
};

/// The NSG levels on a packet's path and its keys: outbound NSGs filter what
/// a VNet endpoint sends (the platform's own DNS/DHCP/IMDS addresses are not
/// subject to them, azure-semantics 6.6); inbound NSGs what is delivered to a
/// VNet endpoint: the destination, or the virtual appliance a route hands the
/// packet to. A VIP hairpin is judged inbound only once its SNAT port is known.
void add_packet(NsgBatch& nb, const TableSpec& spec, uint16_t i, const PacketMeta& m, bool hairpin_pass) noexcept {
  std::array<uint16_t, 4> out{}, in{};
  if (!hairpin_pass && m.in_port == Port::kVnet && m.dst_ip != kPlatformIp && m.dst_ip != kImdsIp) {
    if (const SubnetSpec* s = spec.subnet_of(m.src_ip)) out[kCatOutSubnet] = s->nsg_id;
    out[kCatOutNic] = spec.nic_nsg(m.src_ip);
  }
  const uint32_t delivered = m.rewrite ? m.new_dst : m.dst_ip;
  if ((hairpin_pass || !m.hairpin) && m.out_port == Port::kVnet &&
      (m.hop.type == NextHopType::kVnetLocal || m.hop.type == NextHopType::kVirtualAppliance)) {
    const uint32_t to = m.hop.type == NextHopType::kVirtualAppliance ? m.hop.ip : delivered;
    if (const SubnetSpec* s = spec.subnet_of(to)) in[kCatInSubnet] = s->nsg_id;
    in[kCatInNic] = spec.nic_nsg(to);
  }
  const bool any_out = (out[0] | out[1]) != 0, any_in = (in[2] | in[3]) != 0;
  if (!any_out && !any_in) return;
  nb.judged[i] = true;
  nb.levels[i] = {static_cast<uint8_t>(out[0]), static_cast<uint8_t>(out[1]), static_cast<uint8_t>(in[2]),
                  static_cast<uint8_t>(in[3])};
  const FiveTuple sent = nsg_tuple(m);
  if (!m.rewrite) {
    nb.add_key(spec, i, sent, {out[0], out[1], in[2], in[3]});
    return;
  }
  if (any_out) nb.add_key(spec, i, sent, {out[0], out[1], 0, 0});
  if (any_in) {
    FiveTuple got = sent;
    got.src = m.new_src;
    got.dst = m.new_dst;
    if (got.proto == kIpProtoTcp || got.proto == kIpProtoUdp) {
      got.sport = m.new_sport;
      got.dport = m.new_dport;
    }
    nb.add_key(spec, i, got, {0, 0, in[2], in[3]});
  }
}

/// One classify over every key, or with a split classifier one per context,
/// each answering its own levels; then each packet's verdict per level.
void classify(NsgBatch& nb, const TableSet& ts) noexcept {
  if (ts.nsg_acl_part_count() == 1) {
    rte_acl_classify(ts.nsg_acl(), nb.data.data(), nb.results.data(), nb.n, kAclCategories);
  } else {
    std::array<uint32_t, kMaxKeys * kAclCategories> part;
    for (uint32_t p = 0; p < ts.nsg_acl_part_count(); ++p) {
      const auto ap = ts.nsg_acl_part(p);
      rte_acl_classify(ap.ctx, nb.data.data(), part.data(), nb.n, kAclCategories);
      for (uint16_t k = 0; k < nb.n; ++k)
        for (uint32_t c = 0; c < kAclCategories; ++c)
          if (ap.categories & (1u << c)) nb.results[k * kAclCategories + c] = part[k * kAclCategories + c];
    }
  }
  for (uint16_t k = 0; k < nb.n; ++k)
    for (uint32_t c = 0; c < kAclCategories; ++c)
      if (nb.keys[k].nsg[c] != 0) nb.verdict[nb.key_pkt[k]][c] = nb.results[k * kAclCategories + c];
}

/// Azure's order of levels; a deny ends the evaluation (azure-semantics 6.5).
void apply_verdicts(Burst& b, const NsgBatch& nb, const TableSet& ts, WorkerContext& ctx) noexcept {
  const TableSpec& spec = ts.spec();
  uint64_t* hits = ts.rule_hits(ctx.worker_id);
  static constexpr std::array<uint32_t, 4> kOrder = {kCatOutNic, kCatOutSubnet, kCatInSubnet, kCatInNic};
  for (uint16_t i = 0; i < b.count; ++i) {
    if (!nb.judged[i]) continue;
    PacketMeta& m = b.meta[i];
    for (uint32_t cat : kOrder) {
      if (nb.levels[i][cat] == 0) continue;  // no NSG at this level: it allows everything
      const uint32_t r = nb.verdict[i][cat];
      if (r == 0) {  // cannot happen: DenyAll* match everything; fail closed
        m.drop(DropReason::kNsgDeny);
        break;
      }
      const uint32_t rule = r - 1;
      m.nsg.rule[m.nsg.count++] = rule;
      hits[rule]++;
      if (!spec.nsg_rules[rule].allow) {
        m.drop(DropReason::kNsgDeny);
        break;
      }
    }
  }
}

}  // namespace

void nsg_stage(Burst& b, const TableSet& ts, WorkerContext& ctx, bool hairpin_pass) noexcept {
  if (ts.nsg_acl_part_count() == 0) return;
  NsgBatch nb;
  for (uint16_t i = 0; i < b.count; ++i) {
    const PacketMeta& m = b.meta[i];
    if (!slow_path(m) || (hairpin_pass && !m.hairpin)) continue;
    add_packet(nb, ts.spec(), i, m, hairpin_pass);
  }
  if (nb.n == 0) return;
  classify(nb, ts);
  apply_verdicts(b, nb, ts, ctx);
}

}  // namespace asenet::dataplane

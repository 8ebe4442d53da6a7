#include "dataplane/tables/acl.hpp"

#include <rte_acl.h>
#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_memory.h>

#include <atomic>
#include <cstddef>

namespace asenet::dataplane {

namespace {

enum Field : uint32_t { kFProto, kFOutSub, kFOutNic, kFInSub, kFInNic, kFSrc, kFDst, kFSport, kFDport, kNumFields };

RTE_ACL_RULE_DEF(AclRuleDef, kNumFields);

std::array<rte_acl_field_def, kNumFields> field_defs() {
  std::array<rte_acl_field_def, kNumFields> d{};
  auto set = [&](Field f, uint8_t type, uint8_t size, uint8_t input, uint32_t offset) {
    d[f].type = type;
    d[f].size = size;
    d[f].field_index = f;
    d[f].input_index = input;
    d[f].offset = offset;
  };
  set(kFProto, RTE_ACL_FIELD_TYPE_BITMASK, 1, 0, offsetof(AclKey, proto));
  set(kFOutSub, RTE_ACL_FIELD_TYPE_BITMASK, 1, 1, offsetof(AclKey, nsg) + 0);
  set(kFOutNic, RTE_ACL_FIELD_TYPE_BITMASK, 1, 1, offsetof(AclKey, nsg) + 1);
  set(kFInSub, RTE_ACL_FIELD_TYPE_BITMASK, 1, 1, offsetof(AclKey, nsg) + 2);
  set(kFInNic, RTE_ACL_FIELD_TYPE_BITMASK, 1, 1, offsetof(AclKey, nsg) + 3);
  set(kFSrc, RTE_ACL_FIELD_TYPE_MASK, 4, 2, offsetof(AclKey, src));
  set(kFDst, RTE_ACL_FIELD_TYPE_MASK, 4, 3, offsetof(AclKey, dst));
  set(kFSport, RTE_ACL_FIELD_TYPE_RANGE, 2, 4, offsetof(AclKey, sport));
  set(kFDport, RTE_ACL_FIELD_TYPE_RANGE, 2, 4, offsetof(AclKey, dport));
  return d;
}

}  // namespace

void AclCtxDeleter::operator()(rte_acl_ctx* ctx) const noexcept { rte_acl_free(ctx); }

AclCtxPtr build_acl(const std::vector<AclRule>& rules, uint32_t categories, std::string& error) {
  static std::atomic<uint64_t> serial{0};
  const std::string name = "asenet_acl_" + std::to_string(serial.fetch_add(1));
  rte_acl_param prm{};
  prm.name = name.c_str();
  prm.socket_id = SOCKET_ID_ANY;
  prm.rule_size = RTE_ACL_RULE_SZ(kNumFields);
  prm.max_rule_num = static_cast<uint32_t>(rules.size()) + 1;
  AclCtxPtr ctx(rte_acl_create(&prm));
  if (!ctx) {
    error = "rte_acl_create: " + std::string(rte_strerror(rte_errno));
    return nullptr;
  }
  // Add in chunks so a 100K-rule set does not need one giant array.
  constexpr size_t kChunk = 4096;
  std::vector<AclRuleDef> buf;
  buf.reserve(std::min(rules.size(), kChunk));
  auto flush = [&]() -> bool {
    if (buf.empty()) return true;
    int rc = rte_acl_add_rules(ctx.get(), reinterpret_cast<const rte_acl_rule*>(buf.data()),
                               static_cast<uint32_t>(buf.size()));
    buf.clear();
    if (rc != 0) error = "rte_acl_add_rules: " + std::string(rte_strerror(-rc));
    return rc == 0;
  };
  for (const AclRule& r : rules) {
    AclRuleDef d{};
    d.data.category_mask = r.category_mask;
    d.data.priority = static_cast<int32_t>(r.priority);
    d.data.userdata = r.userdata;
    d.field[kFProto].value.u8 = r.proto;
    d.field[kFProto].mask_range.u8 = r.proto_mask;
    for (int i = 0; i < 4; ++i) {
      d.field[kFOutSub + i].value.u8 = static_cast<uint8_t>(r.nsg[i]);
      d.field[kFOutSub + i].mask_range.u8 = static_cast<uint8_t>(r.nsg_mask[i]);
    }
    d.field[kFSrc].value.u32 = r.src.addr;
    d.field[kFSrc].mask_range.u32 = r.src.len;
    d.field[kFDst].value.u32 = r.dst.addr;
    d.field[kFDst].mask_range.u32 = r.dst.len;
    d.field[kFSport].value.u16 = r.sport.lo;
    d.field[kFSport].mask_range.u16 = r.sport.hi;
    d.field[kFDport].value.u16 = r.dport.lo;
    d.field[kFDport].mask_range.u16 = r.dport.hi;
    buf.push_back(d);
    if (buf.size() == kChunk && !flush()) return nullptr;
  }
  if (!flush()) return nullptr;
  rte_acl_config cfg{};
  cfg.num_categories = categories;
  cfg.num_fields = kNumFields;
  const auto defs = field_defs();
  std::copy(defs.begin(), defs.end(), cfg.defs);
  int rc = rte_acl_build(ctx.get(), &cfg);
  if (rc != 0) {
    error = "rte_acl_build: " + std::string(rte_strerror(-rc));
    return nullptr;
  }
  return ctx;
}

void make_acl_key(AclKey& k, const FiveTuple& t, const std::array<uint8_t, 4>& levels) noexcept {
  k = AclKey{};
  k.proto = t.proto;
  for (int i = 0; i < 4; ++i) k.nsg[i] = levels[i];
  k.src = rte_cpu_to_be_32(t.src);
  k.dst = rte_cpu_to_be_32(t.dst);
  k.sport = rte_cpu_to_be_16(t.sport);
  k.dport = rte_cpu_to_be_16(t.dport);
}

std::vector<AclRule> expand_nsg_rules(const std::vector<NsgSpec>& nsgs, const std::vector<NsgRuleSpec>& rules) {
  std::vector<AclRule> out;
  const std::vector<Cidr> any_prefix = {Cidr{0, 0}};
  const std::vector<PortSpan> any_port = {PortSpan{0, 65535}};
  for (uint32_t id = 0; id < rules.size(); ++id) {
    const NsgRuleSpec& r = rules[id];
    if (r.never) continue;
    const NsgSpec& nsg = nsgs[r.nsg];
    const uint16_t nsg_id = static_cast<uint16_t>(r.nsg + 1);
    // Which levels this NSG filters at, for this rule's direction.
    std::vector<uint32_t> cats;
    if (r.direction == NsgDirection::kOutbound) {
      if (nsg.on_subnet) cats.push_back(kCatOutSubnet);
      if (nsg.on_nic) cats.push_back(kCatOutNic);
    } else {
      if (nsg.on_subnet) cats.push_back(kCatInSubnet);
      if (nsg.on_nic) cats.push_back(kCatInNic);
    }
    const bool inbound = r.direction == NsgDirection::kInbound;
    const SideTag remote_tag = inbound ? r.src_tag : r.dst_tag;
    // Remote end: VirtualNetwork / Internet become the level byte's bit 7. The
    // local end keeps its expanded prefixes: it is usually a VNet address, but
    // not always (a packet to a virtual appliance keeps its final destination).
    uint8_t level_mask = 0x7f, level_flag = 0;
    if (remote_tag != SideTag::kNone) {
      level_mask = 0xff;
      level_flag = remote_tag == SideTag::kVirtualNetwork ? kRemoteInVnet : 0;
    }
    auto prefixes = [&](bool remote, SideTag tag, const std::vector<Cidr>& v) -> const std::vector<Cidr>& {
      if (remote && tag != SideTag::kNone) return any_prefix;  // decided by the bit
      return v.empty() ? any_prefix : v;
    };
    const auto& srcs = prefixes(inbound, r.src_tag, r.src);
    const auto& dsts = prefixes(!inbound, r.dst_tag, r.dst);
    const auto& sps = r.sports.empty() ? any_port : r.sports;
    const auto& dps = r.dports.empty() ? any_port : r.dports;
    for (uint32_t cat : cats) {
      for (const auto& s : srcs)
        for (const auto& d : dsts)
          for (const auto& sp : sps)
            for (const auto& dp : dps) {
              AclRule a;
              a.proto = r.proto;
              a.proto_mask = r.proto == kProtoAny ? 0 : 0xff;
              a.nsg[cat] = static_cast<uint16_t>(nsg_id | level_flag);
              a.nsg_mask[cat] = level_mask;
              a.src = s;
              a.dst = d;
              a.sport = sp;
              a.dport = dp;
              a.category_mask = 1u << cat;
              a.priority = acl_priority(r.priority);
              a.userdata = id + 1;
              out.push_back(a);
            }
    }
  }
  return out;
}

}  // namespace asenet::dataplane

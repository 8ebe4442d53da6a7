// rte_acl for NSGs and ClassBench: one key layout, one builder, one classify.
//
// Key (network byte order, 4-byte input groups as rte_acl requires):
//   [0]  proto                       (1 byte, first field, BITMASK)
//   [4]  one byte per level          (4 x 1 byte, BITMASK):
//        out_subnet, out_nic, in_subnet, in_nic; bits 0-6 the NSG id (0 = no
//        NSG), bit 7 set when the remote end (destination for outbound,
//        source for inbound) is in the VirtualNetwork tag
//   [8]  src IPv4                    (MASK)
//   [12] dst IPv4                    (MASK)
//   [16] sport, dport                (2 x 2 bytes, RANGE)
// On the remote end (destination outbound, source inbound) a VirtualNetwork or
// Internet tag reduces to that bit: one ACL rule instead of dozens of prefixes. One-byte levels keep the key one input
// group shorter than two-byte ones (about 10 % faster on ClassBench) and allow 127 attached NSGs (enforced by the
// loader; docs/design/nsg.md). One classify with four categories answers, for one packet, the first match of the
// source's subnet NSG and NIC NSG (outbound) and of the destination's subnet NSG and NIC NSG (inbound): category c only
// holds rules whose NSG id field for that level equals the NSG, so a level with no NSG (id 0) matches nothing.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/tables/cidr.hpp"
#include "dataplane/tables/nsg_spec.hpp"

struct rte_acl_ctx;

namespace asenet::dataplane {

enum AclCategory : uint32_t {
  kCatOutSubnet = 0,
  kCatOutNic = 1,
  kCatInSubnet = 2,
  kCatInNic = 3,
};
inline constexpr uint32_t kAclCategories = 4;      // a multiple of RTE_ACL_RESULTS_MULTIPLIER
inline constexpr uint32_t kMaxAttachedNsgs = 127;  // 7-bit ids, 0 = no NSG
inline constexpr uint8_t kRemoteInVnet = 0x80;

/// The key byte of one level.
constexpr uint8_t acl_level(uint16_t nsg_id, bool remote_in_vnet) noexcept {
  return nsg_id == 0 ? 0 : static_cast<uint8_t>(nsg_id | (remote_in_vnet ? kRemoteInVnet : 0));
}

struct alignas(4) AclKey {
  uint8_t proto;
  uint8_t pad[3];
  uint8_t nsg[4];  ///< by AclCategory
  uint32_t src;
  uint32_t dst;
  uint16_t sport;
  uint16_t dport;
};
static_assert(sizeof(AclKey) == 20);
static_assert(offsetof(AclKey, nsg) == 4 && offsetof(AclKey, src) == 8 && offsetof(AclKey, sport) == 16);

/// One rte_acl rule in plain terms (host byte order; the builder converts).
struct AclRule {
  uint8_t proto = 0, proto_mask = 0;
  std::array<uint16_t, 4> nsg{};       ///< value per level, with nsg_mask
  std::array<uint16_t, 4> nsg_mask{};  ///< 0 = any, 0xff = exact
  Cidr src{}, dst{};
  PortSpan sport{}, dport{};
  uint32_t category_mask = 1;
  uint32_t priority = 1;  ///< rte_acl: higher wins
  uint32_t userdata = 0;  ///< returned on match; must be > 0
};

struct AclCtxDeleter {
  void operator()(rte_acl_ctx* ctx) const noexcept;
};
using AclCtxPtr = std::unique_ptr<rte_acl_ctx, AclCtxDeleter>;

/// Builds a context (control thread; seconds for 10K rules). nullptr + error on failure.
AclCtxPtr build_acl(const std::vector<AclRule>& rules, uint32_t categories, std::string& error);

/// Fills a key from host-order values; `levels` are acl_level() bytes.
void make_acl_key(AclKey& k, const FiveTuple& t, const std::array<uint8_t, 4>& levels) noexcept;

/// The ACL rules of NSG rules: one per (source prefix x destination prefix x
/// source range x destination range), in every category where the NSG is
/// attached. `userdata` = global rule id + 1. Control thread.
std::vector<AclRule> expand_nsg_rules(const std::vector<NsgSpec>& nsgs, const std::vector<NsgRuleSpec>& rules);

}  // namespace asenet::dataplane

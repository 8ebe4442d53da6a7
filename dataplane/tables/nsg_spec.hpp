// NSGs as compiled plain data (service tags already expanded to prefixes,
// default rules added), and the reference first-match evaluator over it. The
// reference answers `asenetctl verify` and is the oracle rte_acl is tested
// against; both read exactly this list.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dataplane/tables/cidr.hpp"

namespace asenet::dataplane {

inline constexpr uint8_t kProtoAny = 0;  ///< NSG protocol Any ("*"): TCP, UDP, ICMP and the rest

struct PortSpan {
  uint16_t lo = 0;
  uint16_t hi = 65535;
  bool operator==(const PortSpan&) const noexcept = default;
};

/// The fields an NSG matches on (azure-semantics 6.1): the 5-tuple. Ports are 0
/// for anything that is not TCP or UDP (ICMP has no ports in an NSG).
struct FiveTuple {
  uint32_t src = 0;
  uint32_t dst = 0;
  uint16_t sport = 0;
  uint16_t dport = 0;
  uint8_t proto = 0;
};

enum class NsgDirection : uint8_t { kInbound = 0, kOutbound = 1 };

/// Which built-in tag a rule side was written with. The reference evaluator
/// only reads the expanded prefixes; the rte_acl compiler uses the tag to turn
/// VirtualNetwork / Internet into one bit instead of dozens of prefixes.
enum class SideTag : uint8_t { kNone, kVirtualNetwork, kInternet };

struct NsgRuleSpec {
  std::string name;
  uint32_t nsg = 0;  ///< index into TableSpec::nsgs
  NsgDirection direction = NsgDirection::kInbound;
  uint32_t priority = 0;  ///< Azure priority: lower wins
  bool allow = false;
  bool is_default = false;  ///< one of the six default rules
  uint8_t proto = kProtoAny;
  std::vector<Cidr> src;  ///< empty = any
  std::vector<Cidr> dst;
  std::vector<PortSpan> sports;  ///< empty = any
  std::vector<PortSpan> dports;
  SideTag src_tag = SideTag::kNone;
  SideTag dst_tag = SideTag::kNone;
  /// A service tag that expanded to no address at all (Internet when a UDR makes
  /// VirtualNetwork cover everything): the rule can never match.
  bool never = false;

  [[nodiscard]] bool matches(const FiveTuple& t) const noexcept {
    if (never) return false;
    if (proto != kProtoAny && proto != t.proto) return false;
    auto in_prefixes = [](const std::vector<Cidr>& v, uint32_t ip) {
      if (v.empty()) return true;
      for (const auto& c : v)
        if (c.contains(ip)) return true;
      return false;
    };
    auto in_ports = [](const std::vector<PortSpan>& v, uint16_t p) {
      if (v.empty()) return true;
      for (const auto& r : v)
        if (p >= r.lo && p <= r.hi) return true;
      return false;
    };
    return in_prefixes(src, t.src) && in_prefixes(dst, t.dst) && in_ports(sports, t.sport) && in_ports(dports, t.dport);
  }
  /// "securityRules/NAME" or "defaultSecurityRules/NAME", as Network Watcher prints it.
  [[nodiscard]] std::string arm_name() const {
    return (is_default ? "defaultSecurityRules/" : "securityRules/") + name;
  }
};

struct NsgSpec {
  std::string name;
  /// Global rule ids (indexes into TableSpec::nsg_rules), by ascending priority.
  std::vector<uint32_t> inbound;
  std::vector<uint32_t> outbound;
  bool on_subnet = false;  ///< attached to some subnet
  bool on_nic = false;     ///< attached to some host's NIC
  bool flow_logs = false;  ///< NSG flow logs (version 2) enabled for it
};

/// Rule-level first match: the rule that decides, or nullopt (cannot happen
/// with the default rules present: DenyAll* match everything).
inline std::optional<uint32_t> nsg_first_match(const std::vector<NsgRuleSpec>& rules, const NsgSpec& nsg,
                                               NsgDirection dir, const FiveTuple& t) noexcept {
  for (uint32_t id : dir == NsgDirection::kInbound ? nsg.inbound : nsg.outbound)
    if (rules[id].matches(t)) return id;
  return std::nullopt;
}

/// Azure priority -> rte_acl priority. rte_acl picks the highest value; Azure the
/// lowest number. 65536 - p keeps every Azure priority (100-4096 user,
/// 65000-65500 default, and ClassBench line numbers) positive and in order.
constexpr uint32_t acl_priority(uint32_t azure_priority) noexcept { return 65536u - azure_priority; }
static_assert(acl_priority(100) > acl_priority(101));
static_assert(acl_priority(4096) > acl_priority(65000));
static_assert(acl_priority(65500) >= 1);

}  // namespace asenet::dataplane

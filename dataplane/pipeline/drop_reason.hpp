// The one list of reasons a packet is dropped. Every early exit in the pipeline
// bumps exactly one of these; names are what summary.json, trace and stats print.
// A reason is added here together with the stage that produces it.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace asenet::dataplane {

enum class DropReason : uint8_t {
  kNone = 0,             ///< not dropped
  kMalformed,            ///< truncated or inconsistent Ethernet/IPv4/L4 header, bad IPv4 header checksum
  kUnsupported,          ///< not IPv4 or ARP (IPv6, VLAN-tagged, other ethertypes)
  kArp,                  ///< ARP: the fabric answers ARP itself and never forwards it
  kTtlExceeded,          ///< IPv4 TTL 0 or 1 on arrival: it would expire in the fabric
  kNoRoute,              ///< no route to the destination from where it entered (e.g. the Internet to a private address)
  kRouteNone,            ///< the matching route has next hop type None (blackhole)
  kNoFrontend,           ///< addressed to a fabric-owned address (VIP / ILB) with no frontend for it
  kIntraSubnetBlocked,   ///< an ASE instance to a VM placed in the ASE's own subnet
  kNoBackend,            ///< a frontend whose instances are all down
  kIlbHairpin,           ///< an instance to its own ASE's ILB (Azure's internal LB has no hairpin)
  kFragment,             ///< an IP fragment on a load-balanced or SNAT path (Azure drops them)
  kSnatExhausted,        ///< the instance has no SNAT port left for that destination
  kNsgDeny,              ///< a new flow denied by an NSG rule (the rule is counted in rule_hits)
  kFlowTableFull,        ///< a new flow, allowed, but the worker's connection table is full
  kTxFull,               ///< the output port did not accept the packet (queue full)
  kVnetBlocked,          ///< multicast, broadcast, IP-in-IP or GRE: Azure blocks them within VNets
  kMartian,              ///< a source or destination no network carries (0/8, 127/8, 240/4; multicast as a source)
  kNeighborUnresolved,   ///< [l2] arp: the next hop's MAC is not known yet (the fabric has asked for it)
  kProbeReply,           ///< an instance's answer to the LB's health probe: consumed by the fabric
  kMtuExceeded,          ///< an IPv4 packet longer than the port's MTU ([emulator] mtu); with DF set the fabric
                         ///< answers ICMP fragmentation-needed (RFC 1191), as a router would
  kCount
};

inline constexpr std::array<std::string_view, static_cast<size_t>(DropReason::kCount)>
    kDropReasonNames = {
        "none",     "malformed",  "unsupported", "arp", "ttl_exceeded",
        "no_route", "route_none", "no_frontend", "intra_subnet_blocked", "no_backend", "ilb_hairpin",
        "fragment", "snat_exhausted", "nsg_deny", "flow_table_full", "tx_full", "vnet_blocked", "martian",
        "neighbor_unresolved", "probe_reply", "mtu_exceeded",
};

constexpr std::string_view drop_reason_name(DropReason r) noexcept {
  return kDropReasonNames[static_cast<size_t>(r)];
}

static_assert(kDropReasonNames.size() == static_cast<size_t>(DropReason::kCount));

}  // namespace asenet::dataplane

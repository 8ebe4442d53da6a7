// The one list of reasons a packet is dropped. Every early exit in the pipeline
// bumps exactly one of these; names are what summary.json, trace and stats print.
// A reason is added here together with the stage that produces it.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace asenet::dataplane {

/// X(enumerator, name) for each reason, in order: the enum and the names the
/// counters print come from this one list, so they cannot drift apart.
#define ASENET_DROP_REASONS(X)                                                                                       \
  X(kNone, "none")                /* not dropped */                                                                  \
  X(kMalformed, "malformed")      /* truncated or inconsistent Ethernet/IPv4/L4 header, bad IPv4 header checksum */  \
  X(kUnsupported, "unsupported")  /* not IPv4 or ARP (IPv6, VLAN-tagged, other ethertypes) */                        \
  X(kArp, "arp")                  /* ARP: the fabric answers ARP itself and never forwards it */                     \
  X(kTtlExceeded, "ttl_exceeded") /* IPv4 TTL 0 or 1 on arrival: it would expire in the fabric */                    \
  X(kNoRoute,                                                                                                        \
    "no_route") /* no route to the destination from where it entered (e.g. the Internet to a private address) */     \
  X(kRouteNone, "route_none")   /* the matching route has next hop type None (blackhole) */                          \
  X(kNoFrontend, "no_frontend") /* addressed to a fabric-owned address (VIP / ILB) with no frontend for it */        \
  X(kIntraSubnetBlocked, "intra_subnet_blocked") /* an ASE instance to a VM placed in the ASE's own subnet */        \
  X(kNoBackend, "no_backend")                    /* a frontend whose instances are all down */                       \
  X(kIlbHairpin, "ilb_hairpin")        /* an instance to its own ASE's ILB (Azure's internal LB has no hairpin) */   \
  X(kFragment, "fragment")             /* an IP fragment on a load-balanced or SNAT path (Azure drops them) */       \
  X(kSnatExhausted, "snat_exhausted")  /* the instance has no SNAT port left for that destination */                 \
  X(kNsgDeny, "nsg_deny")              /* a new flow denied by an NSG rule (the rule is counted in rule_hits) */     \
  X(kFlowTableFull, "flow_table_full") /* a new flow, allowed, but the worker's connection table is full */          \
  X(kTxFull, "tx_full")                /* the output port did not accept the packet (queue full) */                  \
  X(kVnetBlocked, "vnet_blocked")      /* multicast, broadcast, IP-in-IP or GRE: Azure blocks them within VNets */   \
  X(kMartian, "martian") /* a source or destination no network carries (0/8, 127/8, 240/4; multicast as a source) */ \
  X(kNeighborUnresolved,                                                                                             \
    "neighbor_unresolved")        /* [l2] arp: the next hop's MAC is not known yet (the fabric has asked for it) */  \
  X(kProbeReply, "probe_reply")   /* an instance's answer to the LB's health probe: consumed by the fabric */        \
  X(kMtuExceeded, "mtu_exceeded") /* an IPv4 packet longer than the port's MTU ([emulator] mtu); with DF set the     \
                                     fabric answers ICMP fragmentation-needed (RFC 1191), as a router would */

enum class DropReason : uint8_t {
#define ASENET_DROP_ENUM(e, n) e,
  ASENET_DROP_REASONS(ASENET_DROP_ENUM)
#undef ASENET_DROP_ENUM
      kCount
};

inline constexpr std::array<std::string_view, static_cast<size_t>(DropReason::kCount)> kDropReasonNames = {
#define ASENET_DROP_NAME(e, n) n,
    ASENET_DROP_REASONS(ASENET_DROP_NAME)
#undef ASENET_DROP_NAME
};

constexpr std::string_view drop_reason_name(DropReason r) noexcept { return kDropReasonNames[static_cast<size_t>(r)]; }

static_assert(kDropReasonNames.size() == static_cast<size_t>(DropReason::kCount));

}  // namespace asenet::dataplane

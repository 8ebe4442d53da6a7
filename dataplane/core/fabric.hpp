// The fabric's vocabulary, shared by every room of the data plane: its three
// sides (ports), Azure's next-hop types, MAC addresses and the platform
// addresses the fabric itself uses. Plain constants and types; no DPDK.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace asenet::dataplane {

/// Where Azure's health probes come from (the AzureLoadBalancer tag).
inline constexpr uint32_t kAzureProbeSource = 0xa83f8110;  // 168.63.129.16
/// Source ports of the emulator's probes: TCP to 168.63.129.16 on these ports
/// arriving from the VNet is a probe's answer, for the probe engine.
inline constexpr uint16_t kProbePortBase = 61000;
inline constexpr uint16_t kProbePortCount = 4096;

/// The three sides of the fabric (contract section 2, `[ports]`).
enum class Port : uint8_t { kInternet = 0, kVnet = 1, kOnprem = 2 };
inline constexpr size_t kNumPorts = 3;
inline constexpr std::array<std::string_view, kNumPorts> kPortNames = {"internet", "vnet", "onprem"};
constexpr std::string_view port_name(Port p) noexcept { return kPortNames[static_cast<size_t>(p)]; }

/// Azure next-hop types (ARM names), plus kLocal for addresses the fabric itself
/// owns (VIPs, ILB addresses) that are answered by the LB stage, not routed.
enum class NextHopType : uint8_t {
  kVnetLocal,
  kInternet,
  kVirtualAppliance,
  kVirtualNetworkGateway,
  kNone,
  kLocal,
};
inline constexpr std::array<std::string_view, 6> kNextHopTypeNames = {
    "VnetLocal", "Internet", "VirtualAppliance", "VirtualNetworkGateway", "None", "Local"};
constexpr std::string_view next_hop_type_name(NextHopType t) noexcept {
  return kNextHopTypeNames[static_cast<size_t>(t)];
}

/// Where a route's origin is shown (Azure's effective routes "Source" and next
/// hop's "routeTableId"): 0 = "System Route", 1 = "Gateway Route", then user
/// route tables by name.
inline constexpr uint16_t kRouteOriginSystem = 0;
inline constexpr uint16_t kRouteOriginGateway = 1;

struct NextHop {
  NextHopType type = NextHopType::kInternet;
  Port port = Port::kInternet;           ///< egress side for forwarding types
  uint32_t ip = 0;                       ///< VirtualAppliance address, else 0
  uint16_t origin = kRouteOriginSystem;  ///< index into TableSpec::route_origins
  bool operator==(const NextHop&) const noexcept = default;
};

struct MacAddr {
  std::array<uint8_t, 6> bytes{};
  bool operator==(const MacAddr&) const noexcept = default;
};

/// Azure's VNet fabric answers every ARP for the subnet gateway with this MAC; the
/// emulator uses it as the source MAC of everything it emits.
inline constexpr MacAddr kFabricMac{{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc}};
/// Destination MACs on each side until neighbour resolution exists (documented in
/// docs/design/pipeline.md): 02:a5:e0:00:00:01 internet, :02 vnet, :03 onprem.
inline constexpr std::array<MacAddr, kNumPorts> kDefaultPeerMacs = {
    MacAddr{{0x02, 0xa5, 0xe0, 0x00, 0x00, 0x01}},
    MacAddr{{0x02, 0xa5, 0xe0, 0x00, 0x00, 0x02}},
    MacAddr{{0x02, 0xa5, 0xe0, 0x00, 0x00, 0x03}},
};

}  // namespace asenet::dataplane

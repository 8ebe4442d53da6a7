#include "control/compile.hpp"

#include <map>

namespace asenet::control {

using dataplane::NextHop;
using dataplane::NextHopType;
using dataplane::Port;

namespace {

// Origin rank for equal prefixes (azure-semantics 8.3): user > BGP > system.
// Fabric-owned /32s cannot collide with user space (validated), rank them top.
enum Rank : int { kSystem = 0, kBgp = 1, kUser = 2, kFabric = 3 };

struct Candidate {
  NextHop hop;
  int rank;
};

}  // namespace

dataplane::TableSpec compile(const Topology& topo, uint64_t generation) {
  dataplane::TableSpec spec;
  spec.generation = generation;
  spec.decrement_ttl = topo.emulator.decrement_ttl;

  std::map<std::pair<uint32_t, uint8_t>, Candidate> best;
  auto offer = [&](const Cidr& c, const NextHop& hop, int rank) {
    auto key = std::make_pair(c.addr, c.len);
    auto it = best.find(key);
    if (it == best.end() || rank > it->second.rank) best[key] = Candidate{hop, rank};
  };
  auto inside_vnet = [&](const Cidr& c) {
    for (const auto& r : topo.address_space)
      if (r.contains(c)) return true;
    return false;
  };

  const NextHop internet{NextHopType::kInternet, Port::kInternet, 0, dataplane::kRouteOriginSystem};
  const NextHop vnet_local{NextHopType::kVnetLocal, Port::kVnet, 0, dataplane::kRouteOriginSystem};
  const NextHop gateway{NextHopType::kVirtualNetworkGateway, Port::kOnprem, 0, dataplane::kRouteOriginGateway};
  const NextHop none{NextHopType::kNone, Port::kInternet, 0, dataplane::kRouteOriginSystem};
  const NextHop local{NextHopType::kLocal, Port::kInternet, 0, dataplane::kRouteOriginSystem};

  offer(Cidr{0, 0}, internet, kSystem);
  for (const auto& r : topo.address_space) offer(r, vnet_local, kSystem);
  if (topo.emulator.era == Era::kCurrent) {
    for (const char* p : {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10"}) {
      Cidr c = *parse_cidr(p).cidr;
      // Inside or equal to the VNet space, the VNet route wins (the VNet range is
      // at least as specific and system VNet routes beat the None defaults).
      if (!inside_vnet(c)) offer(c, none, kSystem);
    }
  }
  for (const auto& b : topo.gateway_bgp_routes) {
    // System VNet routes win even against a more specific BGP route (8.3).
    if (!inside_vnet(b)) offer(b, gateway, kBgp);
  }
  for (const auto& a : topo.ases) {
    offer(Cidr{a.public_vip, 32}, local, kFabric);
    if (a.ilb_address) offer(Cidr{*a.ilb_address, 32}, local, kFabric);
  }

  // Deduplicate next hops so the FIB's 2-byte next-hop field indexes a small array.
  std::map<std::tuple<int, int, uint32_t, uint16_t>, uint32_t> hop_index;
  for (const auto& [key, cand] : best) {
    const auto hk = std::make_tuple(static_cast<int>(cand.hop.type), static_cast<int>(cand.hop.port),
                                    cand.hop.ip, cand.hop.origin);
    auto it = hop_index.find(hk);
    uint32_t idx;
    if (it == hop_index.end()) {
      idx = static_cast<uint32_t>(spec.next_hops.size());
      spec.next_hops.push_back(cand.hop);
      hop_index[hk] = idx;
    } else {
      idx = it->second;
    }
    spec.routes.push_back({Cidr{key.first, key.second}, idx});
  }
  return spec;
}

}  // namespace asenet::control

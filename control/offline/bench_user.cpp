#include "control/offline/bench_user.hpp"

#include <pcap/pcap.h>
#include <rte_mbuf.h>

#include <algorithm>
#include <cstring>

#include "control/analysis/nsg_diff.hpp"
#include "control/offline/bench_traffic.hpp"
#include "dataplane/core/frames.hpp"
#include "dataplane/core/packet.hpp"

namespace asenet::control::bench {

using namespace asenet::dataplane;
using analysis::Box;
using analysis::Region;
using analysis::Span;

namespace {

constexpr uint32_t kMaxVary = 1u << 20;  // addresses one template varies over

std::vector<Span> points(const std::vector<uint32_t>& ips) {
  std::vector<Span> v;
  for (uint32_t ip : ips) v.push_back({ip, ip});
  return analysis::merge_spans(v);
}

/// TCP and UDP packets from `src` to `dst`, destination ports `dports` (TCP only when given).
Region path_region(const std::vector<Span>& src, const std::vector<Span>& dst, const std::vector<PortSpan>& dports) {
  std::vector<Box> boxes;
  for (const auto& s : src)
    for (const auto& d : dst) {
      if (dports.empty()) {
        for (uint32_t p : {6u, 17u}) boxes.push_back(Box{{Span{p, p}, s, d, Span{0, 65535}, Span{0, 65535}}});
      } else {
        for (const auto& r : dports) boxes.push_back(Box{{Span{6, 6}, s, d, Span{0, 65535}, Span{r.lo, r.hi}}});
      }
    }
  return Region(std::move(boxes));
}

const Box& box_of(const Region& r, const analysis::Packet& p) {
  for (const auto& b : r.boxes())
    if (Region({b}).contains(p)) return b;
  return r.boxes().front();
}

/// Addresses from `from` to the end of `s`, at most kMaxVary.
uint32_t span_n(const Span& s, uint32_t from) {
  return static_cast<uint32_t>(std::min<uint64_t>(uint64_t{s.hi} - from + 1, kMaxVary));
}

struct Builder {
  const TableSpec& spec;
  UserTraffic& out;

  /// One template per allowing rule of NSG `nsg` (0: none) deciding part of `path`.
  /// `frontend`: the frame's destination when the NSG sees an instance (DNAT).
  void add(uint16_t nsg, NsgDirection dir, const Region& path, Port side, uint32_t frontend, const std::string& what) {
    std::vector<std::pair<Region, std::string>> parts;
    if (nsg == 0) {
      parts.emplace_back(path, "no NSG");
    } else {
      const auto e = analysis::evaluate(spec, nsg - 1u, dir, path);
      for (size_t i = 0; i < e.ids.size(); ++i)
        if (spec.nsg_rules[e.ids[i]].allow && !e.reach[i].empty())
          parts.emplace_back(e.reach[i], spec.nsgs[nsg - 1u].name + " " + spec.nsg_rules[e.ids[i]].arm_name());
    }
    for (auto& [region, rule] : parts) {
      analysis::Packet p = region.example();
      const Box& b = box_of(region, p);
      UserFlow f;
      f.proto = p.proto;
      // From the example (a readable, routable address) to the end of its box.
      f.src = p.src;
      f.src_n = dir == NsgDirection::kInbound ? span_n(b.d[analysis::kSrc], p.src) : 1;
      f.dst = frontend != 0 ? frontend : p.dst;
      f.dst_n = frontend == 0 && dir == NsgDirection::kOutbound ? span_n(b.d[analysis::kDst], p.dst) : 1;
      f.sport = static_cast<uint16_t>(std::max<uint32_t>(b.d[analysis::kSport].lo, 1024u));
      f.sport_n = b.d[analysis::kSport].hi >= f.sport ? b.d[analysis::kSport].hi - f.sport + 1u : 1u;
      f.dport = p.dport;
      f.side = side;
      f.rule = rule;
      // The whole path must admit it (the far side's NSGs too), as sent.
      analysis::Packet sent{f.proto, f.src, f.dst, f.sport, f.dport};
      f.path = what + " " + analysis::describe(sent) +
               (frontend != 0 ? " (the NSG sees " +
                                    analysis::describe(analysis::Packet{p.proto, p.src, p.dst, f.sport, p.dport}) + ")"
                              : "");
      const auto v = analysis::path_verdict(spec, sent);
      if (!v.allow) {
        ++out.refused;
        continue;
      }
      out.flows.push_back(f);
    }
  }
};

}  // namespace

UserTraffic traffic_from_topology(const Topology& topo, const TableSpec& spec) {
  UserTraffic t;
  Builder b{spec, t};
  const auto inet = analysis::internet_spans(spec);
  std::vector<Cidr> onprem = topo.gateway_bgp_routes;
  for (const auto& ase : spec.ases) {
    if (ase.instances.empty()) continue;
    const auto inst = points(ase.instances);
    const SubnetSpec* s = spec.subnet_of(ase.instances.front());
    const uint16_t nsg = s != nullptr ? s->nsg_id : 0;
    const std::string name = "ASE " + ase.name + ":";
    b.add(nsg, NsgDirection::kInbound, path_region(inet, inst, ase.vip_ports), Port::kInternet, ase.vip,
          name + " Internet -> VIP");
    if (ase.ilb != 0 && !onprem.empty())
      b.add(nsg, NsgDirection::kInbound, path_region(analysis::address_spans(onprem), inst, ase.ilb_ports),
            Port::kOnprem, ase.ilb, name + " on-premises -> ILB");
    b.add(nsg, NsgDirection::kOutbound, path_region(inst, inet, {}), Port::kVnet, 0, name + " instance -> Internet");
    if (!spec.hosts.empty())
      b.add(nsg, NsgDirection::kOutbound, path_region(inst, points(spec.hosts), {}), Port::kVnet, 0,
            name + " instance -> VNet host");
  }
  return t;
}

bool traffic_from_pcap(const std::string& path, const Topology& topo, UserTraffic& t, std::string& why) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* p = pcap_open_offline(path.c_str(), err);
  if (p == nullptr) {
    why = path + ": " + err;
    return false;
  }
  if (pcap_datalink(p) != DLT_EN10MB) {
    pcap_close(p);
    why = path + ": not an Ethernet capture";
    return false;
  }
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(p, &h, &data) == 1 && t.frames.size() < 1000000) {
    if (h->caplen < 34 || h->caplen != h->len || h->caplen > 1514) continue;
    const uint32_t src = load_be32(data + 26);
    Port side = Port::kInternet;
    if (topo.in_vnet(src)) side = Port::kVnet;
    for (const auto& c : topo.gateway_bgp_routes)
      if (c.contains(src)) side = Port::kOnprem;
    t.frames.emplace_back(data, data + h->caplen);
    t.frame_sides.push_back(side);
  }
  pcap_close(p);
  if (t.frames.empty()) {
    why = path + ": no complete Ethernet frame in it";
    return false;
  }
  return true;
}

void write_user_flow(rte_mbuf* m, const UserTraffic& t, uint64_t i, uint8_t flags, Port& side) {
  const UserFlow& f = t.flows[i % t.flows.size()];
  const uint64_t k = i / t.flows.size();
  uint16_t sport;
  uint32_t src = f.src, dst = f.dst;
  if (f.dst_n > 1) {
    // Outbound: the destination first, so SNAT (ports per destination, as
    // Azure allocates them) spreads as many clients' calls do.
    dst += static_cast<uint32_t>(k % f.dst_n);
    sport = static_cast<uint16_t>(f.sport + (k / f.dst_n) % f.sport_n);
  } else {
    sport = static_cast<uint16_t>(f.sport + k % f.sport_n);
    src += static_cast<uint32_t>(f.src_n > 1 ? (k / f.sport_n) % f.src_n : 0);
  }
  auto* frame = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, 60));
  side = f.side;
  if (f.proto == kIpProtoTcp) {
    write_tcp_frame60(frame, src, dst, sport, f.dport, flags);
    return;
  }
  static constexpr MacAddr kClientMac{{0x02, 0, 0, 0, 0, 0}};
  std::memset(frame, 0, 60);
  uint8_t* udp = write_eth_ipv4(frame, kFabricMac, kClientMac, src, dst, kIpProtoUdp, 64, 8 + 18, 8);
  store_be16(udp, sport);
  store_be16(udp + 2, f.dport);
  store_be16(udp + 4, 8 + 18);  // checksum 0: none (IPv4 allows it)
}

void write_user_frame(rte_mbuf* m, const UserTraffic& t, uint64_t i, Port& side) {
  const size_t j = i % t.frames.size();
  auto* frame = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(t.frames[j].size())));
  std::memcpy(frame, t.frames[j].data(), t.frames[j].size());
  side = t.frame_sides[j];
}

}  // namespace asenet::control::bench

#include "control/analysis/nsg_diff.hpp"

#include <pcap/pcap.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <tuple>

#include "control/reference/verify.hpp"

namespace asenet::control::analysis {

using dataplane::NsgDirection;
using dataplane::TableSpec;

namespace {

int find_nsg(const TableSpec& s, const std::string& name) {
  for (size_t i = 0; i < s.nsgs.size(); ++i)
    if (s.nsgs[i].name == name) return static_cast<int>(i);
  return -1;
}

std::vector<Span> joint_scope(const TableSpec& a, uint32_t na, const TableSpec& b, uint32_t nb) {
  auto sa = nsg_scope(a, na), sb = nsg_scope(b, nb);
  if (sa.empty() || sb.empty()) return {};  // attached nowhere on one side: every address
  sa.insert(sa.end(), sb.begin(), sb.end());
  return merge_spans(std::move(sa));
}

void diff_pair(const TableSpec& a, uint32_t na, const TableSpec& b, uint32_t nb, DiffReport& r) {
  for (NsgDirection dir : {NsgDirection::kInbound, NsgDirection::kOutbound}) {
    const Region u = universe(dir, joint_scope(a, na, b, nb));
    const Evaluation ea = evaluate(a, na, dir, u), eb = evaluate(b, nb, dir, u);
    for (size_t i = 0; i < ea.ids.size(); ++i) {
      if (ea.reach[i].empty()) continue;
      const bool allow_a = a.nsg_rules[ea.ids[i]].allow;
      for (size_t k = 0; k < eb.ids.size(); ++k) {
        if (b.nsg_rules[eb.ids[k]].allow == allow_a || eb.reach[k].empty()) continue;
        Region x = ea.reach[i].intersect(eb.reach[k]);
        if (x.empty()) continue;
        x.coalesce();
        DiffRegion d;
        d.nsg_a = a.nsgs[na].name;
        d.nsg_b = b.nsgs[nb].name;
        d.direction = dir;
        d.allow_a = allow_a;
        d.allow_b = !allow_a;
        d.rule_a = a.nsg_rules[ea.ids[i]].arm_name();
        d.rule_b = b.nsg_rules[eb.ids[k]].arm_name();
        const Packet p = x.example();
        d.example_a = make_hint(a, d.nsg_a, dir, p, ea.ids[i]);
        d.example_b = make_hint(b, d.nsg_b, dir, p, eb.ids[k]);
        d.region = std::move(x);
        r.regions.push_back(std::move(d));
      }
    }
  }
}

}  // namespace

DiffReport nsg_diff(const TableSpec& a, const TableSpec& b, const std::string& only) {
  DiffReport r;
  std::vector<std::pair<uint32_t, uint32_t>> pairs;
  if (a.nsgs.size() == 1 && b.nsgs.size() == 1 && (only.empty() || only == a.nsgs[0].name)) {
    pairs.emplace_back(0, 0);
  } else {
    for (uint32_t i = 0; i < a.nsgs.size(); ++i) {
      if (!only.empty() && a.nsgs[i].name != only) continue;
      const int j = find_nsg(b, a.nsgs[i].name);
      if (j < 0)
        r.only_a.push_back(a.nsgs[i].name);
      else
        pairs.emplace_back(i, static_cast<uint32_t>(j));
    }
    for (const auto& n : b.nsgs)
      if ((only.empty() || n.name == only) && find_nsg(a, n.name) < 0) r.only_b.push_back(n.name);
  }
  for (const auto& [i, j] : pairs) {
    try {
      diff_pair(a, i, b, j, r);
    } catch (const TooComplex& e) {
      r.incomplete.push_back("NSG '" + a.nsgs[i].name + "': " + e.what());
    }
  }
  return r;
}

PathVerdict path_verdict(const TableSpec& spec, const Packet& p) {
  PathVerdict v;
  uint32_t src = p.src, dst = p.dst;
  bool on_ilb = false;
  const int fe = spec.frontend_of(p.dst, on_ilb);
  if (fe >= 0) {
    const auto& ase = spec.ases[static_cast<size_t>(fe)];
    if (p.proto != 6 || !ase.serves(on_ilb, p.dport) || ase.maglev.empty()) {
      v.allow = false;
      v.frontend_refused = true;
      v.rule = "no frontend serves it";
      return v;
    }
    dst = ase.pick_instance(p.src, p.dst, p.proto, p.sport, p.dport);
    if (!on_ilb)  // an instance calling a VIP arrives from its own VIP (SNAT)
      for (const auto& other : spec.ases)
        if (std::find(other.instances.begin(), other.instances.end(), p.src) != other.instances.end()) src = other.vip;
  }
  auto walk = [&](NsgDirection dir, uint32_t local, uint16_t lport, uint32_t remote, uint16_t rport) {
    VerifyQuery q;
    q.direction = dir;
    q.proto = p.proto;
    q.local_ip = local;
    q.local_port = lport;
    q.remote_ip = remote;
    q.remote_port = rport;
    const auto res = verify_flow(spec, q);
    if (!res || res->steps.empty()) return true;
    v.allow = res->allow;
    v.rule = res->steps.back().nsg + " " + res->steps.back().rule_name;
    return res->allow;
  };
  if (!walk(NsgDirection::kOutbound, p.src, p.sport, p.dst, p.dport)) return v;
  walk(NsgDirection::kInbound, dst, p.dport, src, p.sport);
  return v;
}

namespace {

/// IPv4 5-tuple of a frame; false when it is not IPv4 (or too short).
bool parse_frame(int dlt, const u_char* d, uint32_t len, Packet& p) {
  uint32_t off = 0;
  if (dlt == DLT_EN10MB) {
    if (len < 14) return false;
    uint16_t type = static_cast<uint16_t>(d[12] << 8 | d[13]);
    off = 14;
    while ((type == 0x8100 || type == 0x88a8) && len >= off + 4) {
      type = static_cast<uint16_t>(d[off + 2] << 8 | d[off + 3]);
      off += 4;
    }
    if (type != 0x0800) return false;
  } else if (dlt == DLT_LINUX_SLL) {
    if (len < 16 || (d[14] << 8 | d[15]) != 0x0800) return false;
    off = 16;
  } else if (dlt != DLT_RAW && dlt != 101) {
    return false;
  }
  if (len < off + 20 || (d[off] >> 4) != 4) return false;
  const uint32_t ihl = (d[off] & 0xfu) * 4u;
  if (ihl < 20 || len < off + ihl) return false;
  auto be32 = [&](uint32_t o) {
    return uint32_t{d[o]} << 24 | uint32_t{d[o + 1]} << 16 | uint32_t{d[o + 2]} << 8 | d[o + 3];
  };
  p.proto = d[off + 9];
  p.src = be32(off + 12);
  p.dst = be32(off + 16);
  p.sport = p.dport = 0;
  const bool later_fragment = ((d[off + 6] & 0x1fu) << 8 | d[off + 7]) != 0;
  if ((p.proto == 6 || p.proto == 17) && !later_fragment && len >= off + ihl + 4) {
    p.sport = static_cast<uint16_t>(d[off + ihl] << 8 | d[off + ihl + 1]);
    p.dport = static_cast<uint16_t>(d[off + ihl + 2] << 8 | d[off + ihl + 3]);
  }
  return true;
}

}  // namespace

void diff_pcap(const TableSpec& a, const TableSpec& b, const std::string& file, DiffReport& r) {
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap_t* pc = pcap_open_offline(file.c_str(), err);
  if (pc == nullptr) throw std::runtime_error(file + ": " + err);
  r.pcap = true;
  const int dlt = pcap_datalink(pc);
  using Key = std::tuple<uint8_t, uint32_t, uint16_t, uint32_t, uint16_t>;
  struct Flow {
    uint64_t first = 0, packets = 0;
    Packet p;
  };
  std::map<Key, Flow> flows;
  std::vector<Key> order;
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  uint64_t index = 0;
  while (pcap_next_ex(pc, &h, &data) == 1) {
    ++index;
    ++r.packets;
    Packet p;
    if (!parse_frame(dlt, data, h->caplen, p)) {
      ++r.unparsed;
      continue;
    }
    // One flow for both directions: the lower endpoint first.
    const bool fwd = std::tie(p.src, p.sport) <= std::tie(p.dst, p.dport);
    const Key k = fwd ? Key{p.proto, p.src, p.sport, p.dst, p.dport} : Key{p.proto, p.dst, p.dport, p.src, p.sport};
    auto [it, fresh] = flows.try_emplace(k);
    if (fresh) {
      it->second.first = index;
      it->second.p = p;
      order.push_back(k);
    }
    ++it->second.packets;
  }
  pcap_close(pc);
  r.flows += flows.size();
  for (const Key& k : order) {
    const Flow& f = flows[k];
    const PathVerdict va = path_verdict(a, f.p), vb = path_verdict(b, f.p);
    if (va.allow == vb.allow) continue;
    FlowChange c;
    c.file = file;
    c.first_packet = f.first;
    c.packets = f.packets;
    c.packet = f.p;
    c.allow_a = va.allow;
    c.allow_b = vb.allow;
    c.rule_a = va.rule;
    c.rule_b = vb.rule;
    r.changed.push_back(std::move(c));
  }
}

}  // namespace asenet::control::analysis

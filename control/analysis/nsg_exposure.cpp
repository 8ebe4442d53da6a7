// What the Internet reaches on each ASE (the subnet NSG's allowed region from
// the Internet tag to the instances, against what the VIP serves), doctor's
// management verdicts beside it, and each NSG against Azure's limits with the
// rte_acl rules it expands to.
#include <algorithm>
#include <map>

#include "control/analysis/nsg_analyze.hpp"
#include "control/reference/doctor.hpp"
#include "dataplane/tables/acl.hpp"

namespace asenet::control::analysis {

using dataplane::NsgDirection;
using dataplane::TableSpec;

namespace {

uint64_t total(const std::vector<Span>& v) {
  uint64_t n = 0;
  for (const auto& s : v) n += uint64_t{s.hi} - s.lo + 1;
  return n;
}

std::string proto_label(uint32_t p) {
  const char* n = proto_name(static_cast<uint8_t>(p));
  return n != nullptr ? n : "protocol " + std::to_string(p);
}

/// The allowed region projected on (protocol, destination port): one entry per
/// port range with the same instances and source coverage.
std::vector<ExposedPorts> project(const Region& ok, const dataplane::AseSpec& ase, uint64_t internet_size) {
  std::vector<ExposedPorts> out;
  std::map<uint32_t, std::vector<const Box*>> by_proto;
  for (const auto& b : ok.boxes())
    for (uint32_t p = b.d[kProto].lo; p <= b.d[kProto].hi; ++p) by_proto[p].push_back(&b);
  for (const auto& [proto, boxes] : by_proto) {
    std::vector<uint32_t> cuts;
    for (const Box* b : boxes) {
      cuts.push_back(b->d[kDport].lo);
      if (b->d[kDport].hi < 65535) cuts.push_back(b->d[kDport].hi + 1);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    for (size_t c = 0; c < cuts.size(); ++c) {
      const Span seg{cuts[c], c + 1 < cuts.size() ? cuts[c + 1] - 1 : 65535};
      std::vector<Span> src, dst;
      for (const Box* b : boxes)
        if (b->d[kDport].lo <= seg.lo && seg.lo <= b->d[kDport].hi) {
          src.push_back(b->d[kSrc]);
          dst.push_back(b->d[kDst]);
        }
      if (src.empty()) continue;
      src = merge_spans(std::move(src));
      ExposedPorts e;
      e.protocol = proto_label(proto);
      e.ports = seg;
      e.sources = total(src);
      e.internet = internet_size;
      e.every_source = e.sources == internet_size;
      e.example_source = Region({Box{{Span{proto, proto}, src.front(), dst.front(), Span{0, 0}, seg}}}).example().src;
      for (uint32_t ip : ase.instances)
        for (const auto& d : dst)
          if (ip >= d.lo && ip <= d.hi) {
            e.instances.push_back(ip);
            break;
          }
      bool served = false;
      if (proto == 6)
        for (const auto& r : ase.vip_ports) served |= r.lo <= seg.lo && seg.hi <= r.hi;
      e.served = served;
      if (!out.empty() && out.back().protocol == e.protocol && out.back().ports.hi + 1 == e.ports.lo &&
          out.back().sources == e.sources && out.back().instances == e.instances && out.back().served == e.served)
        out.back().ports.hi = e.ports.hi;
      else
        out.push_back(std::move(e));
    }
  }
  return out;
}

/// VIP-served port ranges cut the projection so `served` is exact per entry.
Region split_by_served(const Region& ok, const dataplane::AseSpec& ase) {
  std::vector<Box> pieces;
  for (const auto& b : ok.boxes()) {
    std::vector<uint32_t> cuts{b.d[kDport].lo};
    for (const auto& r : ase.vip_ports) {
      if (r.lo > b.d[kDport].lo && r.lo <= b.d[kDport].hi) cuts.push_back(r.lo);
      if (r.hi >= b.d[kDport].lo && r.hi < b.d[kDport].hi) cuts.push_back(r.hi + 1u);
    }
    std::sort(cuts.begin(), cuts.end());
    cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
    for (size_t i = 0; i < cuts.size(); ++i) {
      Box p = b;
      p.d[kDport] = {cuts[i], i + 1 < cuts.size() ? cuts[i + 1] - 1 : b.d[kDport].hi};
      pieces.push_back(p);
    }
  }
  return Region(std::move(pieces));
}

Exposure exposure_of(const TableSpec& spec, const dataplane::AseSpec& ase, const std::vector<DoctorReport>& doctor) {
  Exposure x;
  x.ase = ase.name;
  x.vip = ase.vip;
  const auto inet = internet_spans(spec);
  x.internet_empty = inet.empty();
  std::vector<Cidr> inst;
  for (uint32_t ip : ase.instances) inst.push_back(Cidr{ip, 32});
  Region u;
  {
    std::vector<Box> boxes;
    const Region to_instances = universe(NsgDirection::kInbound, address_spans(inst));
    for (const auto& b : to_instances.boxes())
      for (const auto& s : inet) {
        Box c = b;
        c.d[kSrc] = s;
        boxes.push_back(c);
      }
    u = Region(std::move(boxes));
  }
  Region ok = u;
  const auto* subnet = ase.instances.empty() ? nullptr : spec.subnet_of(ase.instances.front());
  if (subnet != nullptr && subnet->nsg_id != 0) {
    x.nsg = spec.nsgs[subnet->nsg_id - 1u].name;
    ok = allowed(spec, evaluate(spec, subnet->nsg_id - 1u, NsgDirection::kInbound, u));
  }
  x.ports = project(split_by_served(ok, ase), ase, total(inet));
  for (const auto& rep : doctor)
    if (rep.ase == ase.name)
      for (const auto& f : rep.findings)
        if (f.check.rfind("management", 0) == 0) x.management.emplace_back(f.ok, f.check + ": " + f.detail);
  return x;
}

size_t written_prefixes(const AddressMatch& m) {
  return m.kind == AddressMatch::Kind::kPrefixes ? m.prefixes.size() : 1;
}

NsgLimits limits_of(const Topology& topo, const TableSpec& spec, uint32_t n, const Nsg& nsg,
                    const std::vector<size_t>& acl_per_rule) {
  NsgLimits l;
  const bool old = topo.emulator.era == Era::k2016;
  l.nsg = nsg.name;
  l.rules = nsg.rules.size();
  l.rule_limit = old ? 200 : 1000;
  l.prefix_limit = old ? 2000 : 4000;
  l.prefix_limit_per_rule = old;
  size_t worst_src = 0, worst_dst = 0;
  for (const auto& r : nsg.rules) {
    l.source_prefixes += written_prefixes(r.source);
    l.destination_prefixes += written_prefixes(r.destination);
    worst_src = std::max(worst_src, written_prefixes(r.source));
    worst_dst = std::max(worst_dst, written_prefixes(r.destination));
  }
  if (l.rules > l.rule_limit)
    l.exceeded.push_back(std::to_string(l.rules) + " rules, Azure allows " + std::to_string(l.rule_limit));
  const size_t src = old ? worst_src : l.source_prefixes, dst = old ? worst_dst : l.destination_prefixes;
  for (const auto& [side, count] : {std::pair<const char*, size_t>{"source", src}, {"destination", dst}})
    if (count > l.prefix_limit)
      l.exceeded.push_back(std::to_string(count) + " " + side + " addresses " + (old ? "in one rule" : "in the NSG") +
                           ", Azure allows " + std::to_string(l.prefix_limit));
  for (uint32_t id : spec.nsgs[n].inbound) l.expansion.push_back({spec.nsg_rules[id].arm_name(), acl_per_rule[id]});
  for (uint32_t id : spec.nsgs[n].outbound) l.expansion.push_back({spec.nsg_rules[id].arm_name(), acl_per_rule[id]});
  for (const auto& e : l.expansion) l.acl_rules += e.acl_rules;
  return l;
}

}  // namespace

std::vector<Span> internet_spans(const TableSpec& spec) {
  std::vector<Span> out;
  uint64_t next = 0;
  const auto vnet = address_spans(spec.virtual_network.empty() ? std::vector<Cidr>{Cidr{0, 32}} : spec.virtual_network);
  for (const auto& s : vnet) {
    if (s.lo > next) out.push_back({static_cast<uint32_t>(next), s.lo - 1});
    next = uint64_t{s.hi} + 1;
  }
  if (next <= 0xffffffffull) out.push_back({static_cast<uint32_t>(next), 0xffffffffu});
  return out;
}

void exposure_and_limits(const Topology& topo, const TableSpec& spec, const std::string& only, AnalysisReport& r) {
  const auto doctor = run_doctor(topo);
  for (const auto& ase : spec.ases) {
    const auto* s = ase.instances.empty() ? nullptr : spec.subnet_of(ase.instances.front());
    if (!only.empty() && (s == nullptr || s->nsg_id == 0 || spec.nsgs[s->nsg_id - 1u].name != only)) continue;
    try {
      r.exposure.push_back(exposure_of(spec, ase, doctor));
    } catch (const TooComplex& e) {
      r.incomplete.push_back("exposure of ASE " + ase.name + ": " + e.what());
    }
  }
  std::vector<size_t> acl_per_rule(spec.nsg_rules.size(), 0);
  for (const auto& a : dataplane::expand_nsg_rules(spec.nsgs, spec.nsg_rules))
    if (a.userdata > 0 && a.userdata <= acl_per_rule.size()) ++acl_per_rule[a.userdata - 1];
  for (uint32_t n = 0; n < spec.nsgs.size(); ++n) {
    if (!only.empty() && spec.nsgs[n].name != only) continue;
    const auto it =
        std::find_if(topo.nsgs.begin(), topo.nsgs.end(), [&](const Nsg& g) { return g.name == spec.nsgs[n].name; });
    if (it != topo.nsgs.end()) r.limits.push_back(limits_of(topo, spec, n, *it, acl_per_rule));
  }
}

}  // namespace asenet::control::analysis

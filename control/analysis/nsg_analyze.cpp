// Rule findings: never-matches, shadowed, redundant, conflicting (one NSG
// direction at a time), and masked (an Allow the other NSG on the same path
// denies entirely). Exposure and limits are in nsg_exposure.cpp.
#include "control/analysis/nsg_analyze.hpp"

#include <algorithm>

namespace asenet::control::analysis {

using dataplane::NsgDirection;
using dataplane::NsgRuleSpec;
using dataplane::TableSpec;

std::vector<Span> nsg_scope(const TableSpec& spec, uint32_t nsg) {
  std::vector<Cidr> local;
  for (const auto& s : spec.subnets)
    if (s.nsg_id == nsg + 1) local.push_back(s.prefix);
  for (const auto& n : spec.nics)
    if (n.nsg_id == nsg + 1) local.push_back(Cidr{n.ip, 32});
  if (local.empty()) return {};
  return address_spans(local);
}

Evaluation evaluate(const TableSpec& spec, uint32_t nsg, NsgDirection dir, const Region& u) {
  Evaluation e;
  const auto& ids = dir == NsgDirection::kInbound ? spec.nsgs[nsg].inbound : spec.nsgs[nsg].outbound;
  Region remaining = u;
  for (uint32_t id : ids) {
    e.ids.push_back(id);
    e.match.push_back(rule_region(spec.nsg_rules[id]).intersect(u));
    e.reach.push_back(remaining.intersect(e.match.back()));
    if (!e.reach.back().empty()) remaining.subtract(e.match.back());
  }
  return e;
}

VerifyHint make_hint(const TableSpec& spec, const std::string& nsg, NsgDirection dir, const Packet& p, uint32_t rule) {
  VerifyHint h;
  h.nsg = nsg;
  h.direction = dir;
  h.packet = p;
  h.allow = spec.nsg_rules[rule].allow;
  h.rule = spec.nsg_rules[rule].arm_name();
  h.rule_nsg = spec.nsgs[spec.nsg_rules[rule].nsg].name;
  return h;
}

Region allowed(const TableSpec& spec, const Evaluation& e) {
  Region out;
  for (size_t i = 0; i < e.ids.size(); ++i)
    if (spec.nsg_rules[e.ids[i]].allow) {
      const auto& b = e.reach[i].boxes();
      std::vector<Box> all = out.boxes();
      all.insert(all.end(), b.begin(), b.end());  // reach regions are disjoint
      out = Region(std::move(all));
    }
  out.coalesce();
  return out;
}

namespace {

const char* access(bool allow) { return allow ? "Allow" : "Deny"; }
const char* article(bool allow) { return allow ? "an Allow" : "a Deny"; }
const char* verdict(bool allow) { return allow ? "allowed" : "denied"; }

/// The first rule of `e` matching `p` after position `from`.
std::optional<size_t> next_match(const TableSpec& spec, const Evaluation& e, size_t from, const Packet& p) {
  for (size_t k = from + 1; k < e.ids.size(); ++k)
    if (spec.nsg_rules[e.ids[k]].matches(p.tuple())) return k;
  return std::nullopt;
}

std::string never_reason(const NsgRuleSpec& r, NsgDirection dir) {
  if (r.never) return "its service tag expands to no address in this topology";
  if (!rule_region(r).empty())
    return std::string("no packet this NSG sees matches it: its ") +
           (dir == NsgDirection::kInbound ? "destination" : "source") +
           " is outside every subnet and NIC the NSG is attached to";
  return "it names ports, but its protocol carries none (only TCP and UDP have ports)";
}

struct Ctx {
  const TableSpec& spec;
  uint32_t nsg;
  NsgDirection dir;
  const Evaluation& e;
  std::vector<Finding>& out;

  Finding base(size_t i, const char* kind) const {
    const NsgRuleSpec& r = spec.nsg_rules[e.ids[i]];
    Finding f;
    f.kind = kind;
    f.nsg = spec.nsgs[nsg].name;
    f.direction = dir;
    f.rule = r.arm_name();
    f.priority = r.priority;
    return f;
  }
  const NsgRuleSpec& rule(size_t i) const { return spec.nsg_rules[e.ids[i]]; }

  void shadowed(size_t i) const {
    Finding f = base(i, "shadowed");
    for (size_t j = 0; j < i; ++j) {
      Region x = e.reach[j].intersect(e.match[i]);
      if (x.empty()) continue;
      f.related.push_back(rule(j).arm_name());
      if (!f.example) f.example = make_hint(spec, f.nsg, dir, x.example(), e.ids[j]);
    }
    f.detail = "no packet reaches it: the rules before it decide every packet it matches";
    out.push_back(std::move(f));
  }

  /// A finding when removing rule i changes no verdict: every packet it
  /// decides would get the same access from the rules after it.
  void redundant(size_t i) const {
    Region rest = e.reach[i];
    Finding f = base(i, "redundant");
    for (size_t k = i + 1; k < e.ids.size() && !rest.empty(); ++k) {
      Region piece = rest.intersect(e.match[k]);
      if (piece.empty()) continue;
      if (rule(k).allow != rule(i).allow) return;
      f.related.push_back(rule(k).arm_name());
      rest.subtract(e.match[k]);
    }
    const Packet p = e.reach[i].example();
    f.example = make_hint(spec, f.nsg, dir, p, e.ids[i]);
    const auto k = next_match(spec, e, i, p);
    f.detail = std::string("removing it changes no verdict: every packet it decides would be ") +
               verdict(rule(i).allow) + " by the rules after it" +
               (k ? " (the example by " + rule(*k).arm_name() + ")" : "");
    for (size_t k2 = i + 1; k2 < e.ids.size(); ++k2)
      if (!rule(k2).is_default && !e.match[k2].empty() && e.reach[k2].empty() &&
          std::find(f.related.begin(), f.related.end(), rule(k2).arm_name()) != f.related.end()) {
        f.detail += "; it and the shadowed " + rule(k2).arm_name() + " cover the same packets: remove one, not both";
        break;
      }
    out.push_back(std::move(f));
  }

  void conflicting(size_t i) const {
    Finding f = base(i, "conflicting");
    for (size_t j = 0; j < i; ++j) {
      if (rule(j).allow == rule(i).allow) continue;
      Region x = e.reach[j].intersect(e.match[i]);
      if (x.empty()) continue;
      f.related.push_back(rule(j).arm_name());
      if (!f.example) f.example = make_hint(spec, f.nsg, dir, x.example(), e.ids[j]);
    }
    if (f.related.empty()) return;
    f.detail = std::string(article(rule(i).allow)) + " partly overridden: earlier " + access(!rule(i).allow) +
               " rules decide part of what it matches (the example matches it, yet is " + verdict(!rule(i).allow) + ")";
    out.push_back(std::move(f));
  }
};

void rule_findings(const TableSpec& spec, uint32_t nsg, NsgDirection dir, std::vector<Finding>& out) {
  const Region u = universe(dir, nsg_scope(spec, nsg));
  const Evaluation e = evaluate(spec, nsg, dir, u);
  Ctx c{spec, nsg, dir, e, out};
  for (size_t i = 0; i < e.ids.size(); ++i) {
    const NsgRuleSpec& r = c.rule(i);
    if (r.is_default) continue;  // Azure's own six: always there, not the user's to change
    if (e.match[i].empty()) {
      Finding f = c.base(i, "never-matches");
      f.detail = never_reason(r, dir);
      out.push_back(std::move(f));
    } else if (e.reach[i].empty()) {
      c.shadowed(i);
    } else {
      c.redundant(i);
      c.conflicting(i);
    }
  }
}

/// A subnet NSG and a NIC NSG on one host's path: an Allow of either that
/// the other denies entirely admits nothing.
void masked_findings(const TableSpec& spec, const dataplane::NicSpec& nic, uint16_t subnet_nsg,
                     std::vector<Finding>& out) {
  for (NsgDirection dir : {NsgDirection::kInbound, NsgDirection::kOutbound}) {
    const Region u = universe(dir, {Span{nic.ip, nic.ip}});
    const uint32_t pair[2] = {subnet_nsg - 1u, nic.nsg_id - 1u};
    const Evaluation ev[2] = {evaluate(spec, pair[0], dir, u), evaluate(spec, pair[1], dir, u)};
    const Region ok[2] = {allowed(spec, ev[0]), allowed(spec, ev[1])};
    for (int side = 0; side < 2; ++side) {
      const Evaluation& e = ev[side];
      const Evaluation& other = ev[1 - side];
      for (size_t i = 0; i < e.ids.size(); ++i) {
        const NsgRuleSpec& r = spec.nsg_rules[e.ids[i]];
        if (!r.allow || r.is_default || e.reach[i].empty()) continue;
        if (!e.reach[i].intersect(ok[1 - side]).empty()) continue;
        Finding f;
        f.kind = "masked";
        f.nsg = spec.nsgs[pair[side]].name;
        f.direction = dir;
        f.rule = r.arm_name();
        f.priority = r.priority;
        const Packet p = e.reach[i].example();
        for (size_t k = 0; k < other.ids.size(); ++k)
          if (spec.nsg_rules[other.ids[k]].matches(p.tuple())) {
            f.related.push_back(spec.nsg_rules[other.ids[k]].arm_name());
            f.example = make_hint(spec, "", dir, p, other.ids[k]);
            break;
          }
        f.detail = "for host " + nic.host + " (" + format_ipv4(nic.ip) + ") it allows nothing: NSG '" +
                   spec.nsgs[pair[1 - side]].name + "' on the same path denies every packet it allows";
        out.push_back(std::move(f));
      }
    }
  }
}

}  // namespace

void exposure_and_limits(const Topology& topo, const TableSpec& spec, const std::string& only, AnalysisReport& r);

AnalysisReport analyze(const Topology& topo, const TableSpec& spec, const std::string& only,
                       const std::function<void(size_t, size_t)>& on_progress) {
  AnalysisReport r;
  size_t total = 0, done = 0;
  for (const auto& n : spec.nsgs) total += only.empty() || n.name == only ? 2 : 0;
  for (uint32_t n = 0; n < spec.nsgs.size(); ++n) {
    if (!only.empty() && spec.nsgs[n].name != only) continue;
    for (NsgDirection dir : {NsgDirection::kInbound, NsgDirection::kOutbound}) {
      if (on_progress) on_progress(done++, total);
      std::vector<Finding> found;
      try {
        rule_findings(spec, n, dir, found);
      } catch (const TooComplex& e) {
        r.incomplete.push_back("NSG '" + spec.nsgs[n].name + "' " +
                               (dir == NsgDirection::kInbound ? "inbound" : "outbound") + ": " + e.what());
        continue;
      }
      r.findings.insert(r.findings.end(), found.begin(), found.end());
    }
  }
  for (const auto& nic : spec.nics) {
    const auto* s = spec.subnet_of(nic.ip);
    if (nic.nsg_id == 0 || s == nullptr || s->nsg_id == 0) continue;
    if (!only.empty() && spec.nsgs[nic.nsg_id - 1u].name != only && spec.nsgs[s->nsg_id - 1u].name != only) continue;
    try {
      std::vector<Finding> found;
      masked_findings(spec, nic, s->nsg_id, found);
      for (auto& f : found)
        if (only.empty() || f.nsg == only) r.findings.push_back(std::move(f));
    } catch (const TooComplex& e) {
      r.incomplete.push_back("host " + nic.host + ": " + e.what());
    }
  }
  exposure_and_limits(topo, spec, only, r);
  return r;
}

}  // namespace asenet::control::analysis

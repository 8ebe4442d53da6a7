#include "control/report/summary.hpp"

#include <map>
#include <sstream>

#include "protocol/json.hpp"

namespace asenet::control {

using namespace asenet::dataplane;

WorkerCounters sum_counters(const std::vector<std::unique_ptr<WorkerContext>>& ctxs) {
  WorkerCounters total{};
  for (const auto& c : ctxs) {
    for (size_t s = 0; s < kNumPorts; ++s) {
      total.rx[s] += c->counters.rx[s];
      total.tx[s] += c->counters.tx[s];
    }
    total.forwarded += c->counters.forwarded;
    total.flows_created += c->counters.flows_created;
    total.flows_hit += c->counters.flows_hit;
    total.resets_sent += c->counters.resets_sent;
    total.icmp_frag_needed += c->counters.icmp_frag_needed;
    total.peer_received += c->counters.peer_received;
    total.peer_refused += c->counters.peer_refused;
    for (size_t r = 0; r < total.drops.size(); ++r) total.drops[r] += c->counters.drops[r];
    for (size_t r = 0; r < total.snat_exhausted.size(); ++r) total.snat_exhausted[r] += c->counters.snat_exhausted[r];
  }
  return total;
}

std::string per_port_json(const std::array<uint64_t, kNumPorts>& v) {
  std::ostringstream o;
  o << "{";
  for (size_t s = 0; s < kNumPorts; ++s)
    o << (s ? "," : "") << json_str(port_name(static_cast<Port>(s))) << ":" << v[s];
  o << "}";
  return o.str();
}

std::string drops_json(const WorkerCounters& c) {
  std::ostringstream o;
  o << "{";
  bool first = true;
  for (size_t r = 1; r < c.drops.size(); ++r) {
    if (c.drops[r] == 0) continue;
    o << (first ? "" : ",") << json_str(drop_reason_name(static_cast<DropReason>(r))) << ":" << c.drops[r];
    first = false;
  }
  o << "}";
  return o.str();
}

std::string snat_exhausted_json(const WorkerCounters& c, const TableSpec& spec) {
  std::ostringstream o;
  o << "{";
  bool first = true;
  for (size_t i = 0; i < spec.ase_instances.size() && i < c.snat_exhausted.size(); ++i) {
    if (c.snat_exhausted[i] == 0) continue;
    o << (first ? "" : ",") << json_str(format_ipv4(spec.ase_instances[i])) << ":" << c.snat_exhausted[i];
    first = false;
  }
  o << "}";
  return o.str();
}

void add_rule_hits(const TableSet& ts, RuleHits& into) {
  const TableSpec& sp = ts.spec();
  for (uint32_t id = 0; id < sp.nsg_rules.size(); ++id) {
    const uint64_t n = ts.rule_hits_total(id);
    if (n != 0) into[sp.nsgs[sp.nsg_rules[id].nsg].name + "/" + sp.nsg_rules[id].name] += n;
  }
}

std::string rule_hits_json(const RuleHits& hits) {
  std::ostringstream o;
  o << "{";
  bool first = true;
  for (const auto& [k, v] : hits) {
    o << (first ? "" : ",") << json_str(k) << ":" << v;
    first = false;
  }
  o << "}";
  return o.str();
}

std::string rule_hits_json(const TableSet& ts) {
  RuleHits hits;
  add_rule_hits(ts, hits);
  return rule_hits_json(hits);
}

namespace {

// Trace lines are written with appends into one string rather than a
// stream: replay --trace writes a line per packet, and this is most of its
// cost.
void key(std::string& o, const char* k) {  // ,"k":
  o += ",\"";
  o += k;
  o += "\":";
}

void ip_str(std::string& o, uint32_t ip) {
  o += '"';
  append_ipv4(o, ip);
  o += '"';
}

/// Live lines also say when, where and what (replay's index names the input
/// packet).
void append_packet(std::string& o, const TraceRecord& r) {
  key(o, "time_ns");
  append_uint(o, r.now_ns);
  key(o, "worker");
  append_uint(o, r.worker);
  o += ",\"packet\":{\"src\":";
  ip_str(o, r.src);
  key(o, "dst");
  ip_str(o, r.dst);
  key(o, "proto");
  append_uint(o, r.proto);
  if (r.proto == 6 || r.proto == 17) {
    key(o, "sport");
    append_uint(o, r.sport);
    key(o, "dport");
    append_uint(o, r.dport);
  }
  if (r.proto == 6) {
    key(o, "tcp_flags");
    append_uint(o, r.tcp_flags);
  }
  key(o, "length");
  append_uint(o, r.length);
  o += '}';
}

/// The NSG rules that judged it, its NAT and its route.
void append_decisions(std::string& o, const TraceRecord& r, const TableSpec& spec) {
  if (r.nsg.count > 0) {
    o += ",\"nsg\":[";
    for (uint8_t i = 0; i < r.nsg.count; ++i) {
      if (r.nsg.rule[i] >= spec.nsg_rules.size()) continue;  // a retired generation's rule
      const NsgRuleSpec& rule = spec.nsg_rules[r.nsg.rule[i]];
      o += i ? ",{\"nsg\":" : "{\"nsg\":";
      append_json_str(o, spec.nsgs[rule.nsg].name);
      key(o, "rule");
      append_json_str(o, rule.name);
      key(o, "access");
      o += rule.allow ? "\"Allow\"}" : "\"Deny\"}";
    }
    o += ']';
  }
  if (r.rewrite) {
    o += ",\"nat\":{\"src\":\"";
    append_ipv4(o, r.new_src);
    o += ':';
    append_uint(o, r.new_sport);
    o += "\",\"dst\":\"";
    append_ipv4(o, r.new_dst);
    o += ':';
    append_uint(o, r.new_dport);
    o += "\"}";
  }
  if (r.routed && r.next_hop.type != NextHopType::kLocal) {
    o += ",\"route\":{\"next_hop_type\":";
    append_json_str(o, next_hop_type_name(r.next_hop.type));
    key(o, "route_table");
    append_json_str(o, r.next_hop.origin < spec.route_origins.size() ? spec.route_origins[r.next_hop.origin] : "?");
    if (r.next_hop.ip != 0) {
      key(o, "next_hop_ip");
      ip_str(o, r.next_hop.ip);
    }
    o += '}';
  }
}

}  // namespace

std::string trace_line(uint64_t index, const TraceRecord& r, const TableSpec& spec, bool live) {
  std::string o;
  o.reserve(384);
  o += "{\"index\":";
  append_uint(o, index);
  if (live) append_packet(o, r);
  key(o, "in_port");
  append_json_str(o, port_name(r.in_port));
  key(o, "verdict");
  o += r.verdict == Verdict::kForward ? "\"forward\"" : "\"drop\"";
  if (r.verdict == Verdict::kForward) {
    key(o, "out_port");
    append_json_str(o, port_name(r.out_port));
  } else {
    key(o, "drop_reason");
    append_json_str(o, drop_reason_name(r.reason));
  }
  if (r.flow != FlowState::kNone) {
    static const char* kFlow[] = {"none", "new", "established", "reply", "related"};
    key(o, "flow");
    append_json_str(o, kFlow[static_cast<int>(r.flow)]);
  }
  append_decisions(o, r, spec);
  o += '}';
  return o;
}

}  // namespace asenet::control

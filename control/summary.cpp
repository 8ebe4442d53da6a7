#include "control/summary.hpp"

#include <map>
#include <sstream>

#include "control/json.hpp"

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
    for (size_t r = 0; r < total.drops.size(); ++r) total.drops[r] += c->counters.drops[r];
    for (size_t r = 0; r < total.snat_exhausted.size(); ++r) total.snat_exhausted[r] += c->counters.snat_exhausted[r];
  }
  return total;
}

std::string per_port_json(const std::array<uint64_t, kNumPorts>& v) {
  std::ostringstream o;
  o << "{";
  for (size_t s = 0; s < kNumPorts; ++s) o << (s ? "," : "") << json_str(port_name(static_cast<Port>(s))) << ":" << v[s];
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

std::string rule_hits_json(const TableSet& ts) {
  const TableSpec& sp = ts.spec();
  std::map<std::string, uint64_t> hits;  // sorted: stable output
  for (uint32_t id = 0; id < sp.nsg_rules.size(); ++id) {
    const uint64_t n = ts.rule_hits_total(id);
    if (n != 0) hits[sp.nsgs[sp.nsg_rules[id].nsg].name + "/" + sp.nsg_rules[id].name] += n;
  }
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

}  // namespace asenet::control

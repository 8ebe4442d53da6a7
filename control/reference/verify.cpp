#include "control/reference/verify.hpp"

#include <sstream>

#include "protocol/json.hpp"

namespace asenet::control {

using namespace asenet::dataplane;

namespace {

FiveTuple tuple_of(const VerifyQuery& q) {
  FiveTuple t;
  t.proto = q.proto;
  const bool ports = q.proto == 6 || q.proto == 17;  // ICMP has no ports in an NSG
  if (q.direction == NsgDirection::kInbound) {
    t.src = q.remote_ip;
    t.dst = q.local_ip;
    if (ports) {
      t.sport = q.remote_port;
      t.dport = q.local_port;
    }
  } else {
    t.src = q.local_ip;
    t.dst = q.remote_ip;
    if (ports) {
      t.sport = q.local_port;
      t.dport = q.remote_port;
    }
  }
  return t;
}

/// Evaluates NSG `id` (1-based; 0 = none) and appends a step; false on deny.
bool step(const TableSpec& spec, uint16_t id, const char* level, const VerifyQuery& q, VerifyResult& r) {
  if (id == 0) return true;
  const NsgSpec& nsg = spec.nsgs[id - 1u];
  const auto rule = nsg_first_match(spec.nsg_rules, nsg, q.direction, tuple_of(q));
  VerifyStep s;
  s.nsg = nsg.name;
  s.level = level;
  if (rule) {
    s.rule_name = spec.nsg_rules[*rule].arm_name();
    s.allow = spec.nsg_rules[*rule].allow;
  } else {
    s.allow = false;  // unreachable with the default rules in place
  }
  r.steps.push_back(s);
  if (!s.allow) r.allow = false;
  return s.allow;
}

}  // namespace

std::optional<VerifyResult> verify_flow(const TableSpec& spec, const VerifyQuery& q) {
  const SubnetSpec* subnet = spec.subnet_of(q.local_ip);
  if (subnet == nullptr) return std::nullopt;
  const uint16_t nic = spec.nic_nsg(q.local_ip);
  VerifyResult r;
  if (q.direction == NsgDirection::kInbound) {
    if (step(spec, subnet->nsg_id, "subnet", q, r)) step(spec, nic, "nic", q, r);
  } else {
    if (step(spec, nic, "nic", q, r)) step(spec, subnet->nsg_id, "subnet", q, r);
  }
  return r;
}

VerifyResult verify_one(const TableSpec& spec, uint32_t nsg, const VerifyQuery& q) {
  VerifyResult r;
  step(spec, static_cast<uint16_t>(nsg + 1), "nsg", q, r);
  return r;
}

std::string verify_json(const VerifyResult& r) {
  std::ostringstream o;
  o << "{\"access\":" << (r.allow ? "\"Allow\"" : "\"Deny\"");
  if (r.steps.empty()) {
    o << ",\"ruleName\":null,\"nsg\":null";
  } else {
    // Deny: the denying rule (the last step). Allow: the last NSG evaluated.
    o << ",\"ruleName\":" << json_str(r.steps.back().rule_name) << ",\"nsg\":" << json_str(r.steps.back().nsg);
  }
  o << ",\"evaluations\":[";
  for (size_t i = 0; i < r.steps.size(); ++i) {
    const auto& s = r.steps[i];
    o << (i ? "," : "") << "{\"nsg\":" << json_str(s.nsg) << ",\"level\":" << json_str(s.level)
      << ",\"ruleName\":" << json_str(s.rule_name) << ",\"access\":" << (s.allow ? "\"Allow\"" : "\"Deny\"") << "}";
  }
  o << "]}";
  return o.str();
}

}  // namespace asenet::control

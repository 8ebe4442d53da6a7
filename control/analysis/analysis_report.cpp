// nsg analyze's report: one JSON document, or a screen a person reads.
#include <map>
#include <sstream>

#include "control/analysis/nsg_analyze.hpp"
#include "protocol/json.hpp"

namespace asenet::control::analysis {

using dataplane::NsgDirection;

namespace {

const char* dir_name(NsgDirection d) { return d == NsgDirection::kInbound ? "Inbound" : "Outbound"; }

std::string endpoint(uint32_t ip, uint16_t port, uint8_t proto) {
  return format_ipv4(ip) + (proto == 6 || proto == 17 ? ":" + std::to_string(port) : "");
}

std::string ports_text(const ExposedPorts& p) {
  if (p.protocol != "TCP" && p.protocol != "UDP") return p.protocol;
  if (p.ports.lo == 0 && p.ports.hi == 65535) return p.protocol + " any port";
  return p.protocol + " " + std::to_string(p.ports.lo) +
         (p.ports.hi != p.ports.lo ? "-" + std::to_string(p.ports.hi) : "");
}

std::string hint_json(const VerifyHint& h, const std::string& topo) {
  const Packet& p = h.packet;
  std::ostringstream o;
  const char* pn = proto_name(p.proto);
  o << "{\"protocol\":" << (pn ? json_str(pn) : std::to_string(p.proto))
    << ",\"source\":" << json_str(format_ipv4(p.src)) << ",\"source_port\":" << p.sport
    << ",\"destination\":" << json_str(format_ipv4(p.dst)) << ",\"destination_port\":" << p.dport
    << ",\"direction\":" << json_str(dir_name(h.direction)) << ",\"access\":" << json_str(h.allow ? "Allow" : "Deny")
    << ",\"ruleName\":" << json_str(h.rule) << ",\"nsg\":" << json_str(h.rule_nsg)
    << ",\"verify\":" << json_str(verify_command(h, topo)) << "}";
  return o.str();
}

}  // namespace

std::string verify_command(const VerifyHint& h, const std::string& topo) {
  const Packet& p = h.packet;
  const char* pn = proto_name(p.proto);
  if (pn == nullptr) return "";  // verify asks about TCP, UDP and ICMP only
  const bool in = h.direction == NsgDirection::kInbound;
  const std::string local = in ? endpoint(p.dst, p.dport, p.proto) : endpoint(p.src, p.sport, p.proto);
  const std::string remote = in ? endpoint(p.src, p.sport, p.proto) : endpoint(p.dst, p.dport, p.proto);
  std::string c = "asenetctl verify --topology " + topo;
  if (!h.nsg.empty()) c += " --nsg " + h.nsg;
  return c + " --direction " + dir_name(h.direction) + " --protocol " + pn + " --local " + local + " --remote " +
         remote;
}

std::string analysis_json(const AnalysisReport& r, const std::string& topo) {
  std::ostringstream o;
  std::map<std::string, size_t> counts;
  o << "{\"findings\":[";
  for (size_t i = 0; i < r.findings.size(); ++i) {
    const Finding& f = r.findings[i];
    ++counts[f.kind];
    o << (i ? "," : "") << "{\"kind\":" << json_str(f.kind) << ",\"nsg\":" << json_str(f.nsg)
      << ",\"direction\":" << json_str(dir_name(f.direction)) << ",\"rule\":" << json_str(f.rule)
      << ",\"priority\":" << f.priority << ",\"related\":[";
    for (size_t j = 0; j < f.related.size(); ++j) o << (j ? "," : "") << json_str(f.related[j]);
    o << "],\"detail\":" << json_str(f.detail) << ",\"example\":" << (f.example ? hint_json(*f.example, topo) : "null")
      << "}";
  }
  o << "],\"exposure\":[";
  for (size_t i = 0; i < r.exposure.size(); ++i) {
    const Exposure& x = r.exposure[i];
    o << (i ? "," : "") << "{\"ase\":" << json_str(x.ase) << ",\"vip\":" << json_str(format_ipv4(x.vip))
      << ",\"nsg\":" << (x.nsg.empty() ? "null" : json_str(x.nsg))
      << ",\"internet_tag_empty\":" << (x.internet_empty ? "true" : "false") << ",\"from_internet\":[";
    for (size_t j = 0; j < x.ports.size(); ++j) {
      const ExposedPorts& p = x.ports[j];
      o << (j ? "," : "") << "{\"protocol\":" << json_str(p.protocol)
        << ",\"ports\":" << json_str(std::to_string(p.ports.lo) + "-" + std::to_string(p.ports.hi))
        << ",\"served_by_vip\":" << (p.served ? "true" : "false")
        << ",\"every_source\":" << (p.every_source ? "true" : "false") << ",\"sources\":" << p.sources
        << ",\"example_source\":" << json_str(format_ipv4(p.example_source)) << ",\"instances\":[";
      for (size_t k = 0; k < p.instances.size(); ++k) o << (k ? "," : "") << json_str(format_ipv4(p.instances[k]));
      o << "]}";
    }
    o << "],\"management\":[";
    for (size_t j = 0; j < x.management.size(); ++j)
      o << (j ? "," : "") << "{\"ok\":" << (x.management[j].first ? "true" : "false")
        << ",\"detail\":" << json_str(x.management[j].second) << "}";
    o << "]}";
  }
  o << "],\"limits\":[";
  for (size_t i = 0; i < r.limits.size(); ++i) {
    const NsgLimits& l = r.limits[i];
    o << (i ? "," : "") << "{\"nsg\":" << json_str(l.nsg) << ",\"rules\":" << l.rules
      << ",\"rule_limit\":" << l.rule_limit << ",\"source_addresses\":" << l.source_prefixes
      << ",\"destination_addresses\":" << l.destination_prefixes << ",\"address_limit\":" << l.prefix_limit
      << ",\"address_limit_scope\":" << json_str(l.prefix_limit_per_rule ? "rule" : "nsg")
      << ",\"acl_rules\":" << l.acl_rules << ",\"expansion\":{";
    for (size_t j = 0; j < l.expansion.size(); ++j)
      o << (j ? "," : "") << json_str(l.expansion[j].rule) << ":" << l.expansion[j].acl_rules;
    o << "},\"exceeded\":[";
    for (size_t j = 0; j < l.exceeded.size(); ++j) o << (j ? "," : "") << json_str(l.exceeded[j]);
    o << "]}";
  }
  o << "],\"incomplete\":[";
  for (size_t i = 0; i < r.incomplete.size(); ++i) o << (i ? "," : "") << json_str(r.incomplete[i]);
  o << "],\"summary\":{";
  const char* kinds[] = {"never-matches", "shadowed", "redundant", "conflicting", "masked"};
  for (size_t i = 0; i < 5; ++i) o << (i ? "," : "") << json_str(kinds[i]) << ":" << counts[kinds[i]];
  o << "}}";
  return o.str();
}

namespace {

void text_findings(std::ostringstream& o, const AnalysisReport& r, const std::string& topo) {
  std::string last;
  for (const Finding& f : r.findings) {
    const std::string head = "NSG " + f.nsg + ", " + dir_name(f.direction);
    if (head != last) o << "\n" << head << "\n";
    last = head;
    o << "  " << f.kind << ": " << f.rule << " (priority " << f.priority << "): " << f.detail << "\n";
    if (!f.related.empty()) {
      o << "      "
        << (f.kind == "redundant" ? "taken over by"
            : f.kind == "masked"  ? "denied by"
                                  : "decided by")
        << ":";
      for (const auto& x : f.related) o << " " << x;
      o << "\n";
    }
    if (f.example) {
      o << "      example: " << describe(f.example->packet) << " is " << (f.example->allow ? "allowed" : "denied")
        << " by " << f.example->rule_nsg << " " << f.example->rule << "\n";
      const std::string cmd = verify_command(*f.example, topo);
      o << "      check:   " << (cmd.empty() ? "(verify asks about TCP, UDP and ICMP only)" : cmd) << "\n";
    }
  }
}

void text_exposure(std::ostringstream& o, const AnalysisReport& r) {
  for (const Exposure& x : r.exposure) {
    o << "\nExposure of ASE " << x.ase << " (VIP " << format_ipv4(x.vip) << ", subnet NSG "
      << (x.nsg.empty() ? "none" : x.nsg) << "): what the Internet may send to its instances\n";
    if (x.ports.empty())
      o << "  nothing"
        << (x.internet_empty
                ? ": the Internet tag is empty here (a route for 0.0.0.0/0 makes VirtualNetwork cover every address)"
                : ": the NSG admits no packet from the Internet")
        << "\n";
    for (const ExposedPorts& p : x.ports) {
      std::string from = "every Internet address";
      if (!p.every_source && p.internet - p.sources < p.sources)
        from = "every Internet address but " + std::to_string(p.internet - p.sources) + " (e.g. from " +
               format_ipv4(p.example_source) + ")";
      else if (!p.every_source)
        from = std::to_string(p.sources) + " Internet address(es) (e.g. " + format_ipv4(p.example_source) + ")";
      o << "  " << ports_text(p) << " from " << from << " to " << p.instances.size()
        << " instance(s): " << (p.served ? "served by the VIP" : "admitted by the NSG, not served by the VIP") << "\n";
    }
    for (const auto& [ok, detail] : x.management) o << "  " << (ok ? "ok   " : "FAIL ") << detail << "\n";
  }
}

}  // namespace

std::string analysis_text(const AnalysisReport& r, const std::string& topo) {
  std::ostringstream o;
  std::map<std::string, size_t> counts;
  for (const auto& f : r.findings) ++counts[f.kind];
  o << r.findings.size() << " finding(s): " << counts["never-matches"] << " never-matches, " << counts["shadowed"]
    << " shadowed, " << counts["redundant"] << " redundant, " << counts["conflicting"] << " conflicting, "
    << counts["masked"] << " masked\n";
  text_findings(o, r, topo);
  text_exposure(o, r);
  o << "\nLimits (Azure's, for this era) and rte_acl expansion\n";
  for (const NsgLimits& l : r.limits) {
    o << "  NSG " << l.nsg << ": " << l.rules << " of " << l.rule_limit << " rules; " << l.source_prefixes
      << " source and " << l.destination_prefixes << " destination addresses (Azure: " << l.prefix_limit << " "
      << (l.prefix_limit_per_rule ? "per rule" : "per NSG, each side") << "); " << l.acl_rules << " rte_acl rules";
    const RuleExpansion* big = nullptr;
    for (const auto& e : l.expansion)
      if (big == nullptr || e.acl_rules > big->acl_rules) big = &e;
    if (big != nullptr) o << " (largest: " << big->rule << ", " << big->acl_rules << ")";
    o << "\n";
    for (const auto& e : l.exceeded) o << "    EXCEEDED: " << e << "\n";
  }
  for (const auto& s : r.incomplete) o << "\nNOT ANALYSED: " << s << "\n";
  return o.str();
}

}  // namespace asenet::control::analysis

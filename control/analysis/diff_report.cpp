// nsg diff's report: one JSON document, or one screen for a reviewer.
#include <sstream>

#include "control/analysis/nsg_diff.hpp"
#include "protocol/json.hpp"

namespace asenet::control::analysis {

using dataplane::NsgDirection;

namespace {

const char* dir_name(NsgDirection d) { return d == NsgDirection::kInbound ? "Inbound" : "Outbound"; }
const char* access(bool allow) { return allow ? "Allow" : "Deny"; }

std::string packet_json(const Packet& p) {
  const char* pn = proto_name(p.proto);
  std::ostringstream o;
  o << "{\"protocol\":" << (pn ? json_str(pn) : std::to_string(p.proto))
    << ",\"source\":" << json_str(format_ipv4(p.src)) << ",\"source_port\":" << p.sport
    << ",\"destination\":" << json_str(format_ipv4(p.dst)) << ",\"destination_port\":" << p.dport << "}";
  return o.str();
}

constexpr size_t kBoxesShown = 4;
constexpr size_t kFlowsShown = 20;

}  // namespace

std::string diff_json(const DiffReport& r, const std::string& ta, const std::string& tb) {
  std::ostringstream o;
  o << "{\"regions\":[";
  for (size_t i = 0; i < r.regions.size(); ++i) {
    const DiffRegion& d = r.regions[i];
    o << (i ? "," : "") << "{\"change\":" << json_str(std::string(access(d.allow_a)) + "->" + access(d.allow_b))
      << ",\"direction\":" << json_str(dir_name(d.direction)) << ",\"a\":{\"nsg\":" << json_str(d.nsg_a)
      << ",\"ruleName\":" << json_str(d.rule_a) << ",\"verify\":" << json_str(verify_command(d.example_a, ta))
      << "},\"b\":{\"nsg\":" << json_str(d.nsg_b) << ",\"ruleName\":" << json_str(d.rule_b)
      << ",\"verify\":" << json_str(verify_command(d.example_b, tb))
      << "},\"example\":" << packet_json(d.example_a.packet) << ",\"boxes\":[";
    for (size_t j = 0; j < d.region.boxes().size(); ++j) o << (j ? "," : "") << json_str(describe(d.region.boxes()[j]));
    o << "]}";
  }
  o << "],\"only_in_a\":[";
  for (size_t i = 0; i < r.only_a.size(); ++i) o << (i ? "," : "") << json_str(r.only_a[i]);
  o << "],\"only_in_b\":[";
  for (size_t i = 0; i < r.only_b.size(); ++i) o << (i ? "," : "") << json_str(r.only_b[i]);
  o << "],\"incomplete\":[";
  for (size_t i = 0; i < r.incomplete.size(); ++i) o << (i ? "," : "") << json_str(r.incomplete[i]);
  o << "]";
  if (r.pcap) {
    o << ",\"pcap\":{\"packets\":" << r.packets << ",\"not_ipv4\":" << r.unparsed << ",\"flows\":" << r.flows
      << ",\"changed\":" << r.changed.size() << ",\"flows_changed\":[";
    for (size_t i = 0; i < r.changed.size(); ++i) {
      const FlowChange& c = r.changed[i];
      o << (i ? "," : "") << "{\"file\":" << json_str(c.file) << ",\"first_packet\":" << c.first_packet
        << ",\"packets\":" << c.packets << ",\"packet\":" << packet_json(c.packet)
        << ",\"a\":{\"access\":" << json_str(access(c.allow_a)) << ",\"rule\":" << json_str(c.rule_a)
        << "},\"b\":{\"access\":" << json_str(access(c.allow_b)) << ",\"rule\":" << json_str(c.rule_b) << "}}";
    }
    o << "]}";
  }
  o << "}";
  return o.str();
}

std::string diff_text(const DiffReport& r, const std::string& ta, const std::string& tb) {
  std::ostringstream o;
  size_t to_deny = 0, to_allow = 0;
  for (const auto& d : r.regions) (d.allow_a ? to_deny : to_allow)++;
  o << r.regions.size() << " region(s) change verdict from " << ta << " to " << tb << ": " << to_deny
    << " Allow->Deny, " << to_allow << " Deny->Allow\n";
  for (const DiffRegion& d : r.regions) {
    o << "\n"
      << access(d.allow_a) << " -> " << access(d.allow_b) << ", " << dir_name(d.direction) << ", NSG " << d.nsg_a
      << (d.nsg_b != d.nsg_a ? " / " + d.nsg_b : "") << "\n";
    o << "  A: " << d.rule_a << "   B: " << d.rule_b << "\n";
    const auto& boxes = d.region.boxes();
    for (size_t j = 0; j < boxes.size() && j < kBoxesShown; ++j) o << "  packets: " << describe(boxes[j]) << "\n";
    if (boxes.size() > kBoxesShown)
      o << "  ... and " << boxes.size() - kBoxesShown << " more box(es) (--json lists all)\n";
    o << "  example: " << describe(d.example_a.packet) << "\n";
    const std::string va = verify_command(d.example_a, ta), vb = verify_command(d.example_b, tb);
    if (!va.empty()) o << "  check A: " << va << "\n  check B: " << vb << "\n";
  }
  for (const auto& n : r.only_a) o << "\nNSG " << n << " is only in " << ta << "\n";
  for (const auto& n : r.only_b) o << "\nNSG " << n << " is only in " << tb << "\n";
  for (const auto& s : r.incomplete) o << "\nNOT COMPARED: " << s << "\n";
  if (r.pcap) {
    o << "\nCaptures: " << r.packets << " packets (" << r.unparsed << " not IPv4), " << r.flows << " flows, "
      << r.changed.size() << " change verdict\n";
    for (size_t i = 0; i < r.changed.size() && i < kFlowsShown; ++i) {
      const FlowChange& c = r.changed[i];
      o << "  " << c.file << " #" << c.first_packet << " (" << c.packets
        << (c.packets == 1 ? " packet) " : " packets) ") << describe(c.packet) << ": " << access(c.allow_a) << " ("
        << c.rule_a << ") -> " << access(c.allow_b) << " (" << c.rule_b << ")\n";
    }
    if (r.changed.size() > kFlowsShown)
      o << "  ... and " << r.changed.size() - kFlowsShown << " more (--json lists all)\n";
  }
  return o.str();
}

}  // namespace asenet::control::analysis

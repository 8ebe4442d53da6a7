// asenetctl nsg diff: exactly which packets change verdict between two rule
// sets (the NSGs of two topologies, paired by name), and with captures, which
// of their flows would.
#pragma once

#include <string>
#include <vector>

#include "control/analysis/nsg_analyze.hpp"

namespace asenet::control::analysis {

/// Packets decided by rule_a in A and rule_b in B with opposite access.
struct DiffRegion {
  std::string nsg_a, nsg_b;
  dataplane::NsgDirection direction = dataplane::NsgDirection::kInbound;
  bool allow_a = false, allow_b = false;
  std::string rule_a, rule_b;
  Region region;
  VerifyHint example_a, example_b;  ///< the same packet, as verify answers on each side
};

/// One flow of a capture whose NSG verdict changes.
struct FlowChange {
  std::string file;
  uint64_t first_packet = 0;  ///< 1-based index in its file
  uint64_t packets = 0;       ///< packets of the flow (both directions)
  Packet packet;              ///< the first packet, as captured
  bool allow_a = false, allow_b = false;
  std::string rule_a, rule_b;  ///< "NSG securityRules/X", or "no NSG"
};

struct DiffReport {
  std::vector<DiffRegion> regions;
  std::vector<std::string> only_a, only_b;  ///< NSGs with no counterpart
  std::vector<std::string> incomplete;
  bool pcap = false;
  uint64_t flows = 0, packets = 0, unparsed = 0;
  std::vector<FlowChange> changed;
};

/// Exact regions. NSGs pair by name; when each side has one NSG, they pair
/// whatever their names (two versions of one NSG).
DiffReport nsg_diff(const dataplane::TableSpec& a, const dataplane::TableSpec& b, const std::string& only = "");

/// Adds the flows of `pcap` whose verdict changes. Throws std::runtime_error
/// when the file cannot be read.
void diff_pcap(const dataplane::TableSpec& a, const dataplane::TableSpec& b, const std::string& pcap, DiffReport& r);

/// Both sides' verdict for one packet, as the data plane's NSG stage decides
/// a new flow (outbound NSGs of the source, then inbound of the destination,
/// after the LB's choice of instance).
struct PathVerdict {
  bool allow = true;
  std::string rule = "no NSG";
  bool frontend_refused = false;  ///< to a VIP/ILB port nothing serves: no NSG decides
};
PathVerdict path_verdict(const dataplane::TableSpec& spec, const Packet& p);

std::string diff_json(const DiffReport& r, const std::string& topo_a, const std::string& topo_b);
std::string diff_text(const DiffReport& r, const std::string& topo_a, const std::string& topo_b);

}  // namespace asenet::control::analysis

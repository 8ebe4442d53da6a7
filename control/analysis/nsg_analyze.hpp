// asenetctl nsg analyze: what a topology's NSGs do, computed exactly over the
// packet space (region.hpp) from the same compiled rules the data plane and
// `verify` read. Each finding names its rule and a packet that proves it; the
// packet's verdict is the one `asenetctl verify` gives (the tests check).
#pragma once

#include <optional>
#include <functional>
#include <string>
#include <vector>

#include "control/analysis/region.hpp"
#include "control/model/topology.hpp"
#include "dataplane/tables/table_spec.hpp"

namespace asenet::control::analysis {

/// How `asenetctl verify` reproduces a finding's example.
struct VerifyHint {
  std::string nsg;  ///< with --nsg NSG (one NSG alone); empty: the path walk of --local
  dataplane::NsgDirection direction = dataplane::NsgDirection::kInbound;
  Packet packet;
  bool allow = false;    ///< the verdict verify prints
  std::string rule;      ///< "securityRules/X" or "defaultSecurityRules/X": verify's ruleName
  std::string rule_nsg;  ///< the NSG of that rule
};

struct Finding {
  std::string kind;  ///< never-matches | shadowed | redundant | conflicting | masked
  std::string nsg;
  dataplane::NsgDirection direction = dataplane::NsgDirection::kInbound;
  std::string rule;  ///< the rule the finding is about (ARM name)
  uint32_t priority = 0;
  std::vector<std::string> related;  ///< the rules that explain it (covering, taking over, conflicting)
  std::string detail;                ///< plain words
  std::optional<VerifyHint> example;
};

/// One TCP/UDP port range (or a portless protocol) the Internet reaches.
struct ExposedPorts {
  std::string protocol;       ///< TCP, UDP, ICMP, or "protocol N"
  Span ports;                 ///< {0,0} for portless protocols
  bool served = false;        ///< the VIP forwards it to the instances (TCP ports it serves)
  bool every_source = false;  ///< from every Internet address (else from part of it)
  uint64_t sources = 0;       ///< Internet addresses it is open to
  uint64_t internet = 0;      ///< addresses of the Internet tag
  uint32_t example_source = 0;
  std::vector<uint32_t> instances;  ///< instances it reaches
};

struct Exposure {
  std::string ase;
  uint32_t vip = 0;
  std::string nsg;                                       ///< the ASE subnet's NSG ("" when none)
  bool internet_empty = false;                           ///< the Internet tag covers no address (a UDR for 0.0.0.0/0)
  std::vector<ExposedPorts> ports;                       ///< what the NSG admits from the Internet to the instances
  std::vector<std::pair<bool, std::string>> management;  ///< doctor's management verdicts (ok, detail)
};

struct RuleExpansion {
  std::string rule;  ///< ARM name
  size_t acl_rules = 0;
};

struct NsgLimits {
  std::string nsg;
  size_t rules = 0, rule_limit = 0;
  size_t source_prefixes = 0, destination_prefixes = 0, prefix_limit = 0;
  bool prefix_limit_per_rule = false;  ///< 2016: per rule; current: per NSG, each side apart
  size_t acl_rules = 0;                ///< rte_acl rules after expansion, every category it is attached in
  std::vector<RuleExpansion> expansion;
  std::vector<std::string> exceeded;  ///< plain words, one per limit exceeded
};

struct AnalysisReport {
  std::vector<Finding> findings;
  std::vector<Exposure> exposure;
  std::vector<NsgLimits> limits;
  std::vector<std::string> incomplete;  ///< NSGs (and why) too fragmented to analyse exactly
};

/// Analyses every NSG of `topo` (or only `only`). `spec` = compile(topo).
/// `on_progress(done, total)`, when given, is called as each NSG and
/// direction is finished (asenetctl draws it on a terminal).
AnalysisReport analyze(const Topology& topo, const dataplane::TableSpec& spec, const std::string& only = "",
                       const std::function<void(size_t, size_t)>& on_progress = {});

std::string analysis_json(const AnalysisReport& r, const std::string& topology_path);
std::string analysis_text(const AnalysisReport& r, const std::string& topology_path);

/// The `asenetctl verify` command line that reproduces a hint.
std::string verify_command(const VerifyHint& h, const std::string& topology_path);

// Shared with nsg diff.

/// Local addresses an NSG sees (its subnets' prefixes and NIC addresses);
/// empty when it is attached nowhere (then it sees every address).
std::vector<Span> nsg_scope(const dataplane::TableSpec& spec, uint32_t nsg);

/// First-match evaluation of one NSG direction over a universe: for each rule
/// (in priority order), the packets it matches and the packets it decides.
struct Evaluation {
  std::vector<uint32_t> ids;  ///< global rule ids
  std::vector<Region> match;  ///< rule region ∩ universe
  std::vector<Region> reach;  ///< the packets the rule decides
};
Evaluation evaluate(const dataplane::TableSpec& spec, uint32_t nsg, dataplane::NsgDirection dir, const Region& u);

/// The hint for packet `p` decided by global rule `rule`; `nsg` non-empty: verify --nsg.
VerifyHint make_hint(const dataplane::TableSpec& spec, const std::string& nsg, dataplane::NsgDirection dir,
                     const Packet& p, uint32_t rule);

/// The Internet tag's addresses: every address outside spec.virtual_network.
std::vector<Span> internet_spans(const dataplane::TableSpec& spec);

/// The packets an evaluation allows.
Region allowed(const dataplane::TableSpec& spec, const Evaluation& e);

}  // namespace asenet::control::analysis

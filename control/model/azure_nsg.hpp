// Azure NSG JSON import: the output of `az network nsg show -o json` (flat
// rule properties) and ARM / REST `Microsoft.Network/networkSecurityGroups`
// resources (rules under "properties"), alone or inside a template's
// "resources". Rules are validated exactly like TOML rules (rule_fields.hpp);
// defaultSecurityRules, when present, are Azure's fixed six and are not read:
// the compiler adds the same six to every NSG.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "control/model/topology.hpp"

namespace asenet::control {

struct ImportedNsg {
  std::string name;            ///< the resource's name
  std::vector<NsgRule> rules;  ///< user rules (securityRules)
};

/// Reads `path`. Throws TopologyError naming `path` and line:col (of the JSON
/// syntax error, or of the offending rule's name) on any problem. `topo`
/// supplies the service tags rules may use.
ImportedNsg load_nsg_json(const std::string& path, const Topology& topo);
/// The same over text already read; `name` is what messages call it.
ImportedNsg parse_nsg_json(const std::string& text, const std::string& name, const Topology& topo);
/// One NSG object inside a document already parsed (`asenetctl import`):
/// messages name `file`, and `json_path` (e.g. "resources[2]") before fields.
ImportedNsg nsg_from_json(const nlohmann::json& resource, const std::string& file, const std::string& text,
                          const std::string& json_path, const Topology& topo);

}  // namespace asenet::control

// asenetctl import: Azure's JSON (what `az network vnet|nsg|route-table|
// vnet-gateway show/list`, `az network nic show`, `az appservice ase show` and
// `list-addresses` print, and ARM template exports from `az group export`), in
// any order and mix, to one topology file. What the JSON does not say
// (instances, a missing VIP) gets an explicit, commented default to edit.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "control/model/topology.hpp"

namespace asenet::control {

/// An Azure resource in the model the importer builds before writing TOML.
struct AzureImport {
  std::string toml;                   ///< the topology, ready to write
  std::vector<std::string> warnings;  ///< "FILE: JSON.PATH: message"
  std::vector<std::string> skipped;   ///< "FILE: JSON.PATH: TYPE NAME" (types asenet does not model)
  size_t resources = 0;               ///< resources read (imported or skipped)
};

/// Reads every file and writes one topology. Throws TopologyError naming the
/// file and the JSON path (and line:col of a JSON syntax error) on bad input.
/// `out_name` names the result in the validation pass. `on_file` (optional)
/// is called after each file with the files and resources read so far.
AzureImport import_azure(const std::vector<std::string>& files, const std::string& out_name,
                         const std::function<void(size_t files, size_t resources)>& on_file = {});

}  // namespace asenet::control

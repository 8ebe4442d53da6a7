// Reading a topology's NSGs (their rules, Azure's augmented rules and service
// tags, rules imported from an exported NSG with nsg_file) and its route
// tables, with the checks Azure makes on each: unique names, priorities
// within 100-4096 and unique per direction, at most 200 (era 2016) or 1,000
// rules an NSG unless [emulator] enforce_limits = false, and next hops that
// make sense for their type. The topology loader derives from it.
#pragma once

#include <string>

#include "control/model/toml_reader.hpp"

namespace asenet::control {

class RuleLoader : protected TomlReader {
 protected:
  explicit RuleLoader(Topology& topo) : TomlReader(topo) {}

  void load_nsg(const toml::table& tb, const std::string& path);
  NsgRule load_rule(const toml::table& tb, const std::string& path);
  void load_route_table(const toml::table& tb, const std::string& path);
};

}  // namespace asenet::control

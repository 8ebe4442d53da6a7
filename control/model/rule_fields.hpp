// Parsing of NSG rule fields shared by the TOML loader and the Azure JSON
// importer, so both accept and reject exactly the same things.
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "control/model/topology.hpp"

namespace asenet::control {

/// A rejected list element: `item` is its index in the list given.
struct FieldError : std::runtime_error {
  FieldError(size_t item_index, const std::string& msg) : std::runtime_error(msg), item(item_index) {}
  size_t item;
};

/// "80", "10001-10020", "*", "80,443" (augmented) per item; empty result = any.
std::vector<PortRange> parse_port_items(const std::vector<std::string>& items, bool allow_star);

/// Returns the canonical tag name for `name`, or nullopt when it is not a tag.
using TagResolver = std::function<std::optional<std::string>(const std::string& name)>;

/// "*", IPs, CIDRs, or one service tag. Throws FieldError.
AddressMatch parse_address_items(const std::vector<std::string>& items, const TagResolver& resolve,
                                 const std::string& known_tags);

/// Built-in tags (any case, classic spellings too) and the topology's own.
std::optional<std::string> resolve_tag(const Topology& t, const std::string& name);
std::string known_tags(const Topology& t);

}  // namespace asenet::control

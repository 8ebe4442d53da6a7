#include "control/model/azure_nsg.hpp"

#include "control/model/input_file.hpp"
#include "protocol/names.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include "control/model/rule_fields.hpp"

namespace asenet::control {

namespace {

/// nlohmann's parse error without its "[json.exception...] parse error at
/// line L, column C:" prefix (the position is ours) and with the input it
/// quotes ("last read: '...'") cut to a short escaped excerpt.
std::string json_error_text(const std::string& what) {
  std::string m = what.substr(what.find(':') == std::string::npos ? 0 : what.find(':') + 2);
  const std::string tag = "last read: '";
  const size_t at = m.find(tag);
  if (at != std::string::npos) {
    const size_t from = at + tag.size();
    const size_t to = m.find("'; ", from);
    const std::string read = m.substr(from, to == std::string::npos ? std::string::npos : to - from);
    m = m.substr(0, at) + "near " + quote(read.size() > 16 ? read.substr(read.size() - 16) : read, 16) +
        (to == std::string::npos ? "" : m.substr(to + 1));
  }
  return m;
}

using json = nlohmann::json;

Loc loc_at_offset(const std::string& text, size_t offset) {
  Loc l{1, 1};
  for (size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++l.line;
      l.col = 1;
    } else {
      ++l.col;
    }
  }
  return l;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

class Importer {
 public:
  Importer(std::string path, std::string text, const Topology& topo)
      : path_(std::move(path)), text_(std::move(text)), topo_(topo) {}
  /// One NSG object of a document already parsed (asenetctl import); messages
  /// put `prefix` (its JSON path) before the fields they name.
  Importer(std::string path, std::string text, const Topology& topo, const json& node, std::string prefix)
      : path_(std::move(path)), text_(std::move(text)), topo_(topo), node_(&node), prefix_(std::move(prefix)) {}

  ImportedNsg run() {
    try {
      return import();
    } catch (const json::exception& e) {
      // A field of an unexpected JSON type that the checks below did not
      // name (found by fuzz_azure_nsg): still bad input, never a crash.
      throw TopologyError(path_, Loc{1, 1}, "", std::string("unexpected JSON: ") + e.what());
    }
  }

 private:
  ImportedNsg import() {
    if (node_ != nullptr) return import_object(*node_);
    json root;
    try {
      root = json::parse(text_);
    } catch (const json::parse_error& e) {
      throw TopologyError(path_, loc_at_offset(text_, e.byte > 0 ? e.byte - 1 : 0), "",
                          "invalid JSON: " + json_error_text(e.what()));
    }
    const json* nsg = &root;
    if (root.is_object() && root.contains("resources") && root["resources"].is_array()) {
      std::vector<const json*> found;
      for (const auto& r : root["resources"])
        if (r.is_object() && r.contains("type") && r["type"].is_string() &&
            lower(r["type"].get<std::string>()) == "microsoft.network/networksecuritygroups")
          found.push_back(&r);
      if (found.size() != 1)
        fail(Loc{1, 1}, "resources",
             "expected exactly one Microsoft.Network/networkSecurityGroups resource, found " +
                 std::to_string(found.size()));
      nsg = found[0];
    }
    return import_object(*nsg);
  }

  ImportedNsg import_object(const json& node) {
    const json* nsg = &node;
    if (!nsg->is_object())
      fail(Loc{1, 1}, "", "expected a JSON object (an NSG resource or `az network nsg show` output)");
    if (nsg->contains("type") && (*nsg)["type"].is_string() &&
        lower((*nsg)["type"].get<std::string>()) != "microsoft.network/networksecuritygroups")
      fail(Loc{1, 1}, "type",
           "this is a " + (*nsg)["type"].get<std::string>() + " resource, not Microsoft.Network/networkSecurityGroups");
    ImportedNsg out;
    if (nsg->contains("name") && !(*nsg)["name"].is_string()) fail(Loc{1, 1}, "name", "expected a string");
    out.name = nsg->value("name", "");
    const json& props = nsg->contains("properties") && (*nsg)["properties"].is_object() ? (*nsg)["properties"] : *nsg;
    if (!props.contains("securityRules")) return out;  // an NSG with only the defaults
    const json& rules = props["securityRules"];
    if (!rules.is_array()) fail(Loc{1, 1}, "securityRules", "expected an array");
    std::map<std::pair<Direction, uint32_t>, std::string> seen;
    for (size_t i = 0; i < rules.size(); ++i) {
      NsgRule r = rule(rules[i], "securityRules[" + std::to_string(i) + "]");
      auto key = std::make_pair(r.direction, r.priority);
      if (auto it = seen.find(key); it != seen.end())
        fail(r.loc, "securityRules[" + std::to_string(i) + "].priority",
             "priority " + std::to_string(r.priority) + " is already used by " + to_string(r.direction) + " rule '" +
                 it->second + "' (priorities are unique per direction)");
      seen[key] = r.name;
      out.rules.push_back(std::move(r));
    }
    return out;
  }

  std::string path_;
  std::string text_;
  const Topology& topo_;
  const json* node_ = nullptr;
  std::string prefix_;

  [[noreturn]] void fail(Loc l, const std::string& p, const std::string& msg) const {
    throw TopologyError(path_, l, prefix_.empty() || p.empty() ? prefix_ + p : prefix_ + "." + p, msg);
  }

  /// Where a rule is: its "name" value in the text (nlohmann keeps no positions).
  Loc rule_loc(const std::string& name) const {
    std::smatch m;
    const std::regex re("\"name\"\\s*:\\s*\"" +
                        std::regex_replace(name, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") + "\"");
    if (std::regex_search(text_, m, re)) return loc_at_offset(text_, static_cast<size_t>(m.position(0)));
    return Loc{1, 1};
  }

  std::string str_field(const json& o, const char* key, const std::string& p, Loc l) const {
    if (!o.contains(key)) fail(l, p + "." + key, std::string("missing '") + key + "'");
    if (!o[key].is_string()) fail(l, p + "." + key, std::string("expected a string"));
    return o[key].get<std::string>();
  }

  /// The plural list if non-empty, else the singular string; both set = Azure error.
  std::vector<std::string> list_field(const json& o, const char* plural, const char* singular, const std::string& p,
                                      Loc l) const {
    std::vector<std::string> many;
    if (o.contains(plural) && !o[plural].is_null()) {
      if (!o[plural].is_array()) fail(l, p + "." + plural, "expected an array of strings");
      for (const auto& v : o[plural]) {
        if (!v.is_string()) fail(l, p + "." + plural, "expected an array of strings");
        many.push_back(v.get<std::string>());
      }
    }
    std::string one;
    if (o.contains(singular) && !o[singular].is_null()) {
      if (!o[singular].is_string()) fail(l, p + "." + singular, "expected a string");
      one = o[singular].get<std::string>();
    }
    if (!many.empty() && !one.empty())
      fail(l, p + "." + singular, std::string("both '") + singular + "' and '" + plural + "' are set; Azure takes one");
    if (!many.empty()) return many;
    if (!one.empty()) return {one};
    fail(l, p + "." + plural, std::string("missing '") + singular + "' / '" + plural + "'");
  }

  NsgRule rule(const json& j, const std::string& p) const {
    if (!j.is_object()) fail(Loc{1, 1}, p, "expected an object");
    NsgRule r;
    r.name = j.value("name", "");
    if (r.name.empty()) fail(Loc{1, 1}, p + ".name", "a rule needs a name");
    if (auto why = azure_name_problem(NameKind::kSecurityRule, r.name)) fail(Loc{1, 1}, p + ".name", *why);
    r.loc = rule_loc(r.name);
    const json& o = j.contains("properties") && j["properties"].is_object() ? j["properties"] : j;
    for (const char* asg : {"sourceApplicationSecurityGroups", "destinationApplicationSecurityGroups"})
      if (o.contains(asg) && o[asg].is_array() && !o[asg].empty())
        fail(r.loc, p + "." + asg, "application security groups are not supported: use address prefixes");
    if (!o.contains("priority") || !o["priority"].is_number_integer())
      fail(r.loc, p + ".priority", "missing or not an integer");
    const auto prio = o["priority"].get<int64_t>();
    if (topo_.emulator.enforce_limits && (prio < 100 || prio > 4096))
      fail(r.loc, p + ".priority",
           "rule " + quote(r.name) + ": priority " + std::to_string(prio) +
               " is outside 100-4096; Azure rejects such a rule, and so does asenet (set [emulator] enforce_limits = "
               "false to load it anyway)");
    if (prio < 1 || prio >= 65000)
      fail(r.loc, p + ".priority",
           "rule " + quote(r.name) + ": priority " + std::to_string(prio) +
               " is outside 1-64999: a rule must come before Azure's default rules");
    r.priority = static_cast<uint32_t>(prio);
    const std::string dir = lower(str_field(o, "direction", p, r.loc));
    if (dir == "inbound")
      r.direction = Direction::kInbound;
    else if (dir == "outbound")
      r.direction = Direction::kOutbound;
    else
      fail(r.loc, p + ".direction", "unknown value " + quote(dir) + " (expected Inbound | Outbound)");
    const std::string acc = lower(str_field(o, "access", p, r.loc));
    if (acc == "allow")
      r.access = Access::kAllow;
    else if (acc == "deny")
      r.access = Access::kDeny;
    else
      fail(r.loc, p + ".access", "unknown value " + quote(acc) + " (expected Allow | Deny)");
    const std::string proto = lower(str_field(o, "protocol", p, r.loc));
    if (proto == "tcp")
      r.protocol = Protocol::kTcp;
    else if (proto == "udp")
      r.protocol = Protocol::kUdp;
    else if (proto == "icmp")
      r.protocol = Protocol::kIcmp;
    else if (proto == "*" || proto == "any")
      r.protocol = Protocol::kAny;
    else
      fail(r.loc, p + ".protocol", "protocol " + quote(proto) + " is not supported (Tcp | Udp | Icmp | *)");
    auto addr = [&](const char* pl, const char* sg) {
      const auto items = list_field(o, pl, sg, p, r.loc);
      try {
        return parse_address_items(
            items, [&](const std::string& s) { return resolve_tag(topo_, s); }, known_tags(topo_));
      } catch (const FieldError& e) {
        fail(r.loc, p + "." + pl, e.what());
      }
    };
    auto ports = [&](const char* pl, const char* sg) {
      const auto items = list_field(o, pl, sg, p, r.loc);
      try {
        return parse_port_items(items, true);
      } catch (const FieldError& e) {
        fail(r.loc, p + "." + pl, e.what());
      }
    };
    r.source = addr("sourceAddressPrefixes", "sourceAddressPrefix");
    r.destination = addr("destinationAddressPrefixes", "destinationAddressPrefix");
    r.source_ports = ports("sourcePortRanges", "sourcePortRange");
    r.destination_ports = ports("destinationPortRanges", "destinationPortRange");
    return r;
  }
};

}  // namespace

ImportedNsg load_nsg_json(const std::string& path, const Topology& topo) {
  std::string text, why;
  if (!read_input_file(path, text, why)) throw TopologyError(path, Loc{0, 0}, "", "NSG file " + why);
  return Importer(path, std::move(text), topo).run();
}

ImportedNsg parse_nsg_json(const std::string& text, const std::string& name, const Topology& topo) {
  return Importer(name, text, topo).run();
}

ImportedNsg nsg_from_json(const nlohmann::json& resource, const std::string& file, const std::string& text,
                          const std::string& json_path, const Topology& topo) {
  return Importer(file, text, topo, resource, json_path).run();
}

}  // namespace asenet::control

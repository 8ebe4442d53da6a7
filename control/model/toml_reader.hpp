// Reading a topology's TOML with positions: every accessor either returns
// the value or throws TopologyError at the node's file:line:col with its
// path (`subnets[1].nsg`) and a message a person understands. The topology
// loader (topology_loader.cpp) derives from it; nothing else includes it.
#pragma once

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "control/model/azure_nsg.hpp"
#include "control/model/rule_fields.hpp"
#include "control/model/topology.hpp"
#include "protocol/names.hpp"

namespace asenet::control {

class TomlReader {
 protected:
  explicit TomlReader(Topology& topo) : t_(topo) {}

  static std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
  }

  static std::string trim(std::string_view s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return std::string(s.substr(b, e - b));
  }

  static const char* type_name(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::table: return "a table";
      case toml::node_type::array: return "an array";
      case toml::node_type::string: return "a string";
      case toml::node_type::integer: return "an integer";
      case toml::node_type::floating_point: return "a float";
      case toml::node_type::boolean: return "a boolean";
      case toml::node_type::date: return "a date";
      case toml::node_type::time: return "a time";
      case toml::node_type::date_time: return "a date-time";
      default: return "nothing";
    }
  }

  static Loc loc_of(const toml::node& n) {
    const auto& b = n.source().begin;
    return {b.line, b.column};
  }

  Topology& t_;

  [[noreturn]] void fail(Loc l, const std::string& path, const std::string& msg) const {
    throw TopologyError(t_.file, l, path, msg);
  }
  void warn(Loc l, const std::string& path, const std::string& msg) {
    t_.warnings.push_back(t_.file + ":" + std::to_string(l.line) + ":" + std::to_string(l.col) + ": " + path + ": " +
                          msg);
  }
  static std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
  }

  void check_keys(const toml::table& tb, const std::string& path,
                  std::initializer_list<std::string_view> allowed) const {
    for (auto&& [k, v] : tb) {
      if (std::find(allowed.begin(), allowed.end(), k.str()) != allowed.end()) continue;
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      const auto& kb = k.source().begin;
      const Loc at = kb.line != 0 ? Loc{kb.line, kb.column} : loc_of(v);
      fail(at, join(path, k.str()), "unknown key " + quote(k.str()) + " (allowed here: " + list + ")");
    }
  }

  const toml::table& table(const toml::node& n, const std::string& path) const {
    if (auto* tb = n.as_table()) return *tb;
    fail(loc_of(n), path, std::string("expected a table, found ") + type_name(n));
  }

  template <typename F>
  void for_each_table(const toml::node& n, const std::string& path, F&& f) {
    const toml::array* arr = n.as_array();
    if (arr == nullptr)
      fail(loc_of(n), path, std::string("expected an array of tables ([[") + path + "]]), found " + type_name(n));
    for (size_t i = 0; i < arr->size(); ++i) {
      std::string p = path + "[" + std::to_string(i) + "]";
      f(table((*arr)[i], p), p);
    }
  }

  std::string str(const toml::node& n, const std::string& path) const {
    if (auto* s = n.as_string()) return s->get();
    fail(loc_of(n), path, std::string("expected a string, found ") + type_name(n));
  }

  const toml::node& required(const toml::table& tb, std::string_view key, const std::string& path) const {
    if (auto* n = tb.get(key)) return *n;
    fail(loc_of(tb), join(path, key), "missing required key '" + std::string(key) + "'");
  }

  std::string req_str(const toml::table& tb, std::string_view key, const std::string& path) const {
    return str(required(tb, key, path), join(path, key));
  }

  bool boolean(const toml::node& n, const std::string& path) const {
    if (auto* b = n.as_boolean()) return b->get();
    fail(loc_of(n), path, std::string("expected true or false, found ") + type_name(n));
  }

  /// A list of nodes: an array, or a single value standing for a one-element list.
  static std::vector<const toml::node*> items(const toml::node& n) {
    std::vector<const toml::node*> out;
    if (auto* arr = n.as_array()) {
      for (auto& e : *arr) out.push_back(&e);
    } else {
      out.push_back(&n);
    }
    return out;
  }
  static std::string item_path(const toml::node& list, const std::string& path, size_t i) {
    return list.is_array() ? path + "[" + std::to_string(i) + "]" : path;
  }

  std::string name(const toml::table& tb, const std::string& path, NameKind kind) const {
    const auto& n = required(tb, "name", path);
    std::string s = str(n, join(path, "name"));
    if (auto why = azure_name_problem(kind, s)) fail(loc_of(n), join(path, "name"), *why);
    return s;
  }

  uint32_t ip(const toml::node& n, const std::string& path) const {
    std::string s = str(n, path);
    auto v = parse_ipv4(s);
    if (!v) fail(loc_of(n), path, quote(s) + " is not an IPv4 address");
    return *v;
  }

  Cidr cidr(const toml::node& n, const std::string& path) const {
    std::string s = str(n, path);
    return cidr_text(s, loc_of(n), path);
  }
  Cidr cidr_text(const std::string& s, Loc l, const std::string& path) const {
    auto r = parse_cidr(s);
    if (r.host_bits_set) {
      auto len = std::stoi(s.substr(s.find('/') + 1));
      Cidr fixed{r.raw_addr & Cidr{0, static_cast<uint8_t>(len)}.mask(), static_cast<uint8_t>(len)};
      fail(l, path, quote(s) + " has host bits set; Azure expects the network address, e.g. " + format_cidr(fixed));
    }
    if (!r.cidr) fail(l, path, quote(s) + " is not an IPv4 address or CIDR prefix");
    return *r.cidr;
  }

  std::vector<Cidr> cidr_list(const toml::node& n, const std::string& path) const {
    std::vector<Cidr> out;
    auto its = items(n);
    for (size_t i = 0; i < its.size(); ++i) out.push_back(cidr(*its[i], item_path(n, path, i)));
    return out;
  }

  /// The string items of a list node (integers become their decimal text).
  std::vector<std::string> item_texts(const toml::node& n, const std::string& path) const {
    std::vector<std::string> out;
    auto its = items(n);
    for (size_t i = 0; i < its.size(); ++i) {
      if (auto* iv = its[i]->as_integer()) {
        out.push_back(std::to_string(iv->get()));
      } else {
        out.push_back(str(*its[i], item_path(n, path, i)));
      }
    }
    return out;
  }

  /// Ports: 80, "80", "10001-10020", "*", "80,443" (augmented), or lists of those.
  std::vector<PortRange> ports(const toml::node& n, const std::string& path, bool allow_star) const {
    const auto texts = item_texts(n, path);
    try {
      return parse_port_items(texts, allow_star);
    } catch (const FieldError& e) {
      auto its = items(n);
      const toml::node& at = e.item < its.size() ? *its[e.item] : n;
      fail(loc_of(at), texts.size() > 1 || n.is_array() ? item_path(n, path, e.item) : path, e.what());
    }
  }

  AddressMatch address(const toml::node& n, const std::string& path) const {
    const auto texts = item_texts(n, path);
    try {
      AddressMatch m = parse_address_items(
          texts, [&](const std::string& s) { return resolve_tag(t_, s); }, known_tags(t_));
      m.loc = loc_of(n);
      return m;
    } catch (const FieldError& e) {
      auto its = items(n);
      const toml::node& at = e.item < its.size() ? *its[e.item] : n;
      fail(loc_of(at), path, e.what());
    }
  }

  template <typename E>
  E enum_value(const toml::node& n, const std::string& path,
               std::initializer_list<std::pair<std::string_view, E>> values) const {
    std::string s = str(n, path);
    std::string key = lower(trim(s));
    key.erase(std::remove(key.begin(), key.end(), ' '), key.end());
    std::string allowed;
    for (auto& [name, v] : values) {
      std::string cand = lower(name);
      cand.erase(std::remove(cand.begin(), cand.end(), ' '), cand.end());
      if (cand == key) return v;
      if (name != "*") allowed += (allowed.empty() ? "" : " | ") + std::string(name);
    }
    fail(loc_of(n), path, "unknown value " + quote(s) + " (expected " + allowed + ")");
  }
};

}  // namespace asenet::control

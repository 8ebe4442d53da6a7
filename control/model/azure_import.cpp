// Reading Azure's JSON into the importer's model; azure_import_writer.cpp
// writes the model as a topology.
#include "control/model/azure_import.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "control/model/azure_import_model.hpp"
#include "control/model/azure_nsg.hpp"
#include "control/model/input_file.hpp"
#include "protocol/names.hpp"

namespace asenet::control {

using json = nlohmann::json;

namespace azimport {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string last_segment(const std::string& id) {
  const auto at = id.find_last_of('/');
  return lower(at == std::string::npos ? id : id.substr(at + 1));
}

}  // namespace azimport

namespace {

using namespace azimport;

/// ARM template expressions, the part exports use: parameters('p') (its
/// defaultValue), variables('v'), resourceId(..., 'name') (the name),
/// concat(...), and string literals. Anything else stays as written.
class ArmEval {
 public:
  ArmEval(const json* params, const json* vars) : params_(params), vars_(vars) {}

  /// The value of `s` if it is an expression we evaluate.
  std::optional<std::string> operator()(const std::string& s) const {
    if (s.size() < 2 || s.front() != '[' || s.back() != ']' || s.rfind("[[", 0) == 0) return std::nullopt;
    size_t i = 1;
    auto v = expr(s, i);
    if (!v || i != s.size() - 1) return std::nullopt;
    return v;
  }

 private:
  const json* params_;
  const json* vars_;

  static void skip(const std::string& s, size_t& i) {
    while (i < s.size() && s[i] == ' ') ++i;
  }

  std::optional<std::string> expr(const std::string& s, size_t& i, int depth = 0) const {
    skip(s, i);
    if (depth > 16 || i >= s.size()) return std::nullopt;
    if (s[i] == '\'') {
      std::string out;
      for (++i; i < s.size(); ++i) {
        if (s[i] == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
          out += '\'';
          ++i;
        } else if (s[i] == '\'') {
          ++i;
          return out;
        } else {
          out += s[i];
        }
      }
      return std::nullopt;
    }
    size_t j = i;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) != 0)) ++j;
    const std::string fn = s.substr(i, j - i);
    i = j;
    skip(s, i);
    if (i >= s.size() || s[i] != '(') return std::nullopt;
    ++i;
    std::vector<std::string> args;
    skip(s, i);
    while (i < s.size() && s[i] != ')') {
      auto a = expr(s, i, depth + 1);
      if (!a) return std::nullopt;
      args.push_back(*a);
      skip(s, i);
      if (i < s.size() && s[i] == ',') ++i;
    }
    if (i >= s.size()) return std::nullopt;
    ++i;
    return call(lower(fn), args);
  }

  std::optional<std::string> call(const std::string& fn, const std::vector<std::string>& a) const {
    if (fn == "concat") {
      std::string out;
      for (const auto& x : a) out += x;
      return out;
    }
    if ((fn == "resourceid" || fn == "subscriptionresourceid") && !a.empty()) return a.back();
    if (fn == "parameters" && a.size() == 1 && params_ != nullptr && params_->contains(a[0])) {
      const json& p = (*params_)[a[0]];
      if (p.is_object() && p.contains("defaultValue") && p["defaultValue"].is_string())
        return (*this)(p["defaultValue"].get<std::string>()).value_or(p["defaultValue"].get<std::string>());
    }
    if (fn == "variables" && a.size() == 1 && vars_ != nullptr && vars_->contains(a[0]) && (*vars_)[a[0]].is_string()) {
      const std::string v = (*vars_)[a[0]].get<std::string>();
      return (*this)(v).value_or(v);
    }
    return std::nullopt;
  }
};

/// Every string of `j` that is an expression we evaluate, evaluated.
void resolve(json& j, const ArmEval& eval) {
  if (j.is_string()) {
    if (auto v = eval(j.get<std::string>())) j = *v;
  } else if (j.is_array() || j.is_object()) {
    for (auto& x : j) resolve(x, eval);
  }
}

}  // namespace

namespace azimport {

std::string Reader::where(const std::string& path) const { return file_ + (path.empty() ? "" : ": " + path); }

[[noreturn]] void Reader::fail(const std::string& path, const std::string& msg) const {
  throw TopologyError(file_, Loc{1, 1}, path, msg);
}

const json& Reader::props(const json& r) {
  return r.contains("properties") && r["properties"].is_object() ? r["properties"] : r;
}

std::string Reader::str(const json& o, const char* key, const std::string& path, bool required) const {
  if (!o.contains(key) || o[key].is_null()) {
    if (required) fail(path + "." + key, std::string("missing '") + key + "'");
    return "";
  }
  if (!o[key].is_string()) fail(path + "." + key, "expected a string");
  return o[key].get<std::string>();
}

std::vector<std::string> Reader::strings(const json& o, const char* key, const std::string& path) const {
  std::vector<std::string> out;
  if (!o.contains(key) || o[key].is_null()) return out;
  if (!o[key].is_array()) fail(path + "." + key, "expected an array of strings");
  for (size_t i = 0; i < o[key].size(); ++i) {
    if (!o[key][i].is_string()) fail(path + "." + key + "[" + std::to_string(i) + "]", "expected a string");
    out.push_back(o[key][i].get<std::string>());
  }
  return out;
}

std::string Reader::ref(const json& o, const char* key, const std::string& path) const {
  if (!o.contains(key) || o[key].is_null()) return "";
  if (!o[key].is_object() || !o[key].contains("id") || !o[key]["id"].is_string())
    fail(path + "." + key, "expected {\"id\": \"...\"}");
  return o[key]["id"].get<std::string>();
}

}  // namespace azimport

namespace {

using azimport::Model;
using azimport::Reader;

/// The resources of one document, with their JSON paths.
std::vector<std::pair<json*, std::string>> resources_of(json& root) {
  std::vector<std::pair<json*, std::string>> out;
  const char* lists[] = {"resources", "value"};
  if (root.is_array()) {
    for (size_t i = 0; i < root.size(); ++i) out.emplace_back(&root[i], "[" + std::to_string(i) + "]");
    return out;
  }
  for (const char* l : lists)
    if (root.is_object() && root.contains(l) && root[l].is_array() && !root.contains("type")) {
      for (size_t i = 0; i < root[l].size(); ++i)
        out.emplace_back(&root[l][i], std::string(l) + "[" + std::to_string(i) + "]");
      return out;
    }
  out.emplace_back(&root, "");
  return out;
}

void read_file(const std::string& file, Model& m) {
  std::string text, why;
  if (!read_input_file(file, text, why)) throw TopologyError(file, Loc{0, 0}, "", "Azure JSON file " + why);
  json root;
  try {
    root = json::parse(text);
  } catch (const json::parse_error& e) {
    Loc l{1, 1};
    for (size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') {
        ++l.line;
        l.col = 1;
      } else {
        ++l.col;
      }
    }
    throw TopologyError(file, l, "", "invalid JSON (Azure CLI or ARM output expected)");
  }
  if (!root.is_object() && !root.is_array())
    throw TopologyError(file, Loc{1, 1}, "", "expected a JSON object or array of Azure resources");
  const json* params = root.is_object() && root.contains("parameters") ? &root["parameters"] : nullptr;
  const json* vars = root.is_object() && root.contains("variables") ? &root["variables"] : nullptr;
  json resolved = root;
  if (params != nullptr || vars != nullptr) resolve(resolved, ArmEval(params, vars));
  Reader rd(file, text);
  for (auto& [r, path] : resources_of(resolved)) {
    if (!r->is_object()) rd.fail(path, "expected a resource object");
    m.read_resource(rd, *r, path);
  }
}

}  // namespace

namespace azimport {

void Model::read_resource(const Reader& rd, const json& r, const std::string& path) {
  ++resources;
  std::string type = lower(rd.str(r, "type", path, false));
  const json& p = Reader::props(r);
  if (type.empty()) {  // az prints some objects without their type
    if (r.contains("serviceIpAddress") || r.contains("internalIpAddress"))
      type = "microsoft.web/hostingenvironments/capacities/virtualip";
    else if (p.contains("securityRules") || p.contains("defaultSecurityRules"))
      type = "microsoft.network/networksecuritygroups";
    else if (p.contains("addressSpace") && p.contains("subnets"))
      type = "microsoft.network/virtualnetworks";
    else if (r.contains("network") && r.contains("origin"))
      type = "learned-route";
  }
  if (type == "microsoft.network/virtualnetworks") return read_vnet(rd, r, path);
  if (type == "microsoft.network/virtualnetworks/subnets") return read_subnet_resource(rd, r, path);
  if (type == "microsoft.network/networksecuritygroups") return read_nsg(rd, r, path);
  if (type == "microsoft.network/networksecuritygroups/securityrules") return note_child(rd, r, path, "security rule");
  if (type == "microsoft.network/routetables") return read_route_table(rd, r, path);
  if (type == "microsoft.network/routetables/routes") return note_child(rd, r, path, "route");
  if (type == "microsoft.network/networkinterfaces") return read_nic(rd, r, path);
  if (type == "microsoft.network/virtualnetworkgateways") return read_gateway(rd, r, path);
  if (type == "microsoft.network/localnetworkgateways") {
    const json& space = p.contains("localNetworkAddressSpace") ? p["localNetworkAddressSpace"] : json::object();
    for (const auto& s : rd.strings(space, "addressPrefixes", path + ".properties.localNetworkAddressSpace"))
      bgp_routes.push_back(s);
    has_gateway = true;
    if (gateway_where.empty()) gateway_where = rd.where(path);
    return;
  }
  if (type == "learned-route") {
    const std::string origin = lower(rd.str(r, "origin", path, false));
    if (origin != "network") bgp_routes.push_back(rd.str(r, "network", path, true));
    has_gateway = true;
    if (gateway_where.empty()) gateway_where = rd.where(path);
    return;
  }
  if (type == "microsoft.web/hostingenvironments") return read_ase(rd, r, path);
  if (type.rfind("microsoft.web/hostingenvironments/capacities", 0) == 0 && r.contains("serviceIpAddress"))
    return read_ase_addresses(rd, r, path);
  skipped.push_back(rd.where(path) + ": " + (type.empty() ? "(no type)" : rd.str(r, "type", path, false)) + " " +
                    rd.str(r, "name", path, false));
}

void Model::note_child(const Reader& rd, const json& r, const std::string& path, const char* what) {
  // `az group export` repeats inline children as resources of their own:
  // the inline copy is the one imported.
  skipped.push_back(rd.where(path) + ": " + what + " " + rd.str(r, "name", path, false) +
                    " as a resource of its own (its parent's inline copy is the one read)");
}

}  // namespace azimport

AzureImport import_azure(const std::vector<std::string>& files, const std::string& out_name,
                         const std::function<void(size_t, size_t)>& on_file) {
  azimport::Model m;
  for (size_t i = 0; i < files.size(); ++i) {
    try {
      read_file(files[i], m);
    } catch (const json::exception& e) {
      throw TopologyError(files[i], Loc{1, 1}, "", std::string("unexpected JSON: ") + e.what());
    }
    if (on_file) on_file(i + 1, m.resources);
  }
  AzureImport out;
  out.toml = m.write(files);
  out.warnings = m.warnings;
  out.skipped = m.skipped;
  out.resources = m.resources;
  try {
    load_topology_text(out.toml, out_name);
  } catch (const TopologyError& e) {
    // A value the JSON holds that a topology may not (a name Azure would
    // refuse, an address that is none): name the resource it came from.
    std::string where;
    for (const auto& [line, w] : m.marks)
      if (line <= e.loc().line) where = w;
    std::string file = files.empty() ? out_name : files.front(), path;
    for (const auto& f : files)
      if (where == f || where.rfind(f + ": ", 0) == 0) {
        file = f;
        path = where.size() > f.size() ? where.substr(f.size() + 2) : "";
      }
    throw TopologyError(file, Loc{1, 1}, path, e.message() + " (as " + e.path() + " of the topology)");
  }
  return out;
}

}  // namespace asenet::control

// The importer's model of Azure resources (azure_import.cpp reads documents,
// azure_import_resources.cpp reads each resource type, azure_import_writer.cpp
// writes the topology). Internal to control/model.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "control/model/topology.hpp"

namespace asenet::control::azimport {

std::string lower(std::string s);
/// "…/networkSecurityGroups/NSG-1" -> "nsg-1" (Azure ids compare without case).
std::string last_segment(const std::string& id);

/// One input file: field access that fails with the file and JSON path.
class Reader {
 public:
  Reader(std::string file, std::string text) : file_(std::move(file)), text_(std::move(text)) {}
  [[nodiscard]] std::string where(const std::string& path) const;
  [[noreturn]] void fail(const std::string& path, const std::string& msg) const;
  static const nlohmann::json& props(const nlohmann::json& r);
  std::string str(const nlohmann::json& o, const char* key, const std::string& path, bool required) const;
  std::vector<std::string> strings(const nlohmann::json& o, const char* key, const std::string& path) const;
  /// The id of {"id": "..."} under key, or "".
  std::string ref(const nlohmann::json& o, const char* key, const std::string& path) const;
  [[nodiscard]] const std::string& file() const { return file_; }
  [[nodiscard]] const std::string& text() const { return text_; }

 private:
  std::string file_, text_;
};

struct Vnet {
  std::string name, id, where;
  std::vector<std::string> prefixes;
};
struct Subnet {
  std::string name, id, vnet, prefix, nsg_ref, route_table_ref, where;
};
struct NsgRes {
  std::string name, id, where;
  std::vector<NsgRule> rules;
  std::vector<std::string> out_of_range;  ///< rules with a priority Azure refuses
};
struct RouteRes {
  std::string name, prefix, type, ip;
};
struct RouteTableRes {
  std::string name, id, where;
  bool disable_bgp = false;
  std::vector<RouteRes> routes;
};
struct NicRes {
  std::string name, vm, ip, nsg_ref, where;
};
struct AseRes {
  std::string name, subnet_ref, ilb_mode = "None", kind, where;
};

struct Model {
  std::vector<Vnet> vnets;
  std::vector<Subnet> subnets;
  std::vector<NsgRes> nsgs;
  std::vector<RouteTableRes> route_tables;
  std::vector<NicRes> nics;
  std::vector<AseRes> ases;
  std::map<std::string, std::pair<std::string, std::string>> ase_addresses;  ///< ASE (lower) -> VIP, ILB
  bool has_gateway = false;
  std::string gateway_where, tags_where;  ///< the first resource that gave them
  std::vector<std::string> bgp_routes;
  std::set<std::string> tags;  ///< service tags the rules use that asenet does not build in
  std::vector<std::string> warnings, skipped;
  size_t resources = 0;
  /// Where each part of the written topology came from: (first line, "FILE: JSON.PATH").
  std::vector<std::pair<size_t, std::string>> marks;

  void read_resource(const Reader& rd, const nlohmann::json& r, const std::string& path);
  std::string write(const std::vector<std::string>& files);

 private:
  void read_vnet(const Reader& rd, const nlohmann::json& r, const std::string& path);
  void read_subnet(const Reader& rd, const nlohmann::json& s, const std::string& path, const std::string& vnet);
  void read_subnet_resource(const Reader& rd, const nlohmann::json& r, const std::string& path);
  void read_nsg(const Reader& rd, const nlohmann::json& r, const std::string& path);
  void read_route_table(const Reader& rd, const nlohmann::json& r, const std::string& path);
  void read_nic(const Reader& rd, const nlohmann::json& r, const std::string& path);
  void read_gateway(const Reader& rd, const nlohmann::json& r, const std::string& path);
  void read_ase(const Reader& rd, const nlohmann::json& r, const std::string& path);
  void read_ase_addresses(const Reader& rd, const nlohmann::json& r, const std::string& path);
  std::vector<Subnet> write_network(std::ostringstream& o, const std::vector<std::string>& files);
  void write_ases(std::ostringstream& o, const std::vector<Subnet>& mine);
  void write_hosts(std::ostringstream& o);
  void write_rules(std::ostringstream& o);
  void mark(const std::ostringstream& o, const std::string& where);
  void note_child(const Reader& rd, const nlohmann::json& r, const std::string& path, const char* what);
};

}  // namespace asenet::control::azimport

#include "daemon/telemetry.hpp"

#include <rte_telemetry.h>

#include <algorithm>
#include <cctype>

namespace asenet::daemon {

using namespace asenet::dataplane;
using namespace asenet::control;

namespace {

/// Read by the callbacks, through the agent's mutex-guarded copy.
LiveDataplane* g_live = nullptr;

}  // namespace

/// DPDK rejects other characters: "10.0.1.4" -> "10_0_1_4",
/// "ase-nsg/AllowHttps" -> "ase_nsg/AllowHttps".
std::string tel_name(std::string_view in) {
  std::string s(in.substr(0, RTE_TEL_MAX_STRING_LEN - 1));
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '/') c = '_';
  return s;
}

namespace {

int tel_stats(const char*, const char*, rte_tel_data* d) {
  if (g_live == nullptr) return -1;  // stopping
  const StatsSnapshot s = g_live->telemetry_copy();
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "generation", s.generation);
  rte_tel_data_add_dict_u64(d, "health_epoch", s.health_epoch);
  rte_tel_data_add_dict_u64(d, "workers", s.workers);
  rte_tel_data_add_dict_u64(d, "packets_in", s.packets_in);
  rte_tel_data_add_dict_u64(d, "packets_forwarded", s.forwarded);
  rte_tel_data_add_dict_u64(d, "packets_dropped", s.dropped);
  rte_tel_data_add_dict_u64(d, "flows_live", s.flows_live);
  rte_tel_data_add_dict_u64(d, "flows_created", s.flows_created);
  rte_tel_data_add_dict_u64(d, "pushes", s.pushes);
  rte_tel_data_add_dict_u64(d, "heap_bytes_in_use", s.heap_bytes_in_use);
  rte_tel_data_add_dict_u64(d, "mbufs_in_use", s.mbufs_in_use);
  return 0;
}

int tel_ports(const char*, const char*, rte_tel_data* d) {
  if (g_live == nullptr) return -1;  // stopping
  const StatsSnapshot s = g_live->telemetry_copy();
  rte_tel_data_start_dict(d);
  for (size_t p = 0; p < kNumPorts; ++p) {
    const std::string n(port_name(static_cast<Port>(p)));
    rte_tel_data_add_dict_u64(d, (n + "_rx").c_str(), s.ports[p].rx);
    rte_tel_data_add_dict_u64(d, (n + "_tx").c_str(), s.ports[p].tx);
    rte_tel_data_add_dict_u64(d, (n + "_drops").c_str(), s.ports[p].drops());
  }
  return 0;
}

int tel_drops(const char*, const char*, rte_tel_data* d) {
  if (g_live == nullptr) return -1;  // stopping
  const StatsSnapshot s = g_live->telemetry_copy();
  rte_tel_data_start_dict(d);
  for (size_t r = 1; r < s.drops.size(); ++r)
    rte_tel_data_add_dict_u64(d, std::string(drop_reason_name(static_cast<DropReason>(r))).c_str(), s.drops[r]);
  return 0;
}

/// A telemetry dict holds at most RTE_TEL_MAX_DICT_ENTRIES (256) entries of
/// names below 128 bytes: the busiest rules first (stats --json has them all).
std::vector<std::pair<std::string, uint64_t>> busiest_rules(const StatsSnapshot& s) {
  std::vector<std::pair<std::string, uint64_t>> v(s.rule_hits.begin(), s.rule_hits.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  if (v.size() > RTE_TEL_MAX_DICT_ENTRIES) v.resize(RTE_TEL_MAX_DICT_ENTRIES);
  return v;
}

int tel_rule_hits(const char*, const char*, rte_tel_data* d) {
  if (g_live == nullptr) return -1;  // stopping
  const StatsSnapshot s = g_live->telemetry_copy();
  rte_tel_data_start_dict(d);
  for (const auto& [k, c] : busiest_rules(s)) rte_tel_data_add_dict_u64(d, tel_name(k).c_str(), c);
  return 0;
}

/// The names the keys of /asenet/rule_hits (params "rule_hits", the default)
/// or /asenet/snat ("snat") stand for: telemetry's key rules turn '-' and '.'
/// into '_', so the original is the value here.
int tel_names(const char*, const char* params, rte_tel_data* d) {
  if (g_live == nullptr) return -1;  // stopping
  const std::string_view which = params != nullptr ? params : "";
  if (!which.empty() && which != "rule_hits" && which != "snat") return -EINVAL;
  const StatsSnapshot s = g_live->telemetry_copy();
  rte_tel_data_start_dict(d);
  if (which == "snat") {
    size_t n = 0;
    for (const auto& i : s.instances) {
      if (n++ == RTE_TEL_MAX_DICT_ENTRIES) break;
      const std::string ip = format_ipv4(i.ip);
      rte_tel_data_add_dict_string(d, tel_name(ip).c_str(), ip.c_str());
    }
    return 0;
  }
  for (const auto& [k, c] : busiest_rules(s)) rte_tel_data_add_dict_string(d, tel_name(k).c_str(), k.c_str());
  return 0;
}

int tel_snat(const char*, const char*, rte_tel_data* d) {
  if (g_live == nullptr) return -1;  // stopping
  const StatsSnapshot s = g_live->telemetry_copy();
  rte_tel_data_start_dict(d);
  size_t n = 0;
  for (const auto& i : s.instances) {
    if (n++ == RTE_TEL_MAX_DICT_ENTRIES) break;
    rte_tel_data_add_dict_u64(d, tel_name(format_ipv4(i.ip)).c_str(), i.snat_ports_in_use);
  }
  return 0;
}

}  // namespace

void register_telemetry(LiveDataplane& live) {
  g_live = &live;
  rte_telemetry_register_cmd("/asenet/stats", tel_stats, "Generation, packets, flows. No parameters");
  rte_telemetry_register_cmd("/asenet/ports", tel_ports, "Per side rx, tx, device drops. No parameters");
  rte_telemetry_register_cmd("/asenet/drops", tel_drops, "Drops by reason. No parameters");
  rte_telemetry_register_cmd("/asenet/rule_hits", tel_rule_hits, "New flows per NSG rule. No parameters");
  rte_telemetry_register_cmd("/asenet/snat", tel_snat, "SNAT ports in use per instance. No parameters");
  rte_telemetry_register_cmd("/asenet/names", tel_names,
                             "The names the keys stand for. Parameters: rule_hits (default) or snat");
}

void unregister_telemetry() { g_live = nullptr; }

}  // namespace asenet::daemon

#include "control/report/flow_logs.hpp"
#include "dataplane/core/time.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <sstream>

#include "protocol/json.hpp"
#include "control/report/safe_fs.hpp"

namespace asenet::control {

using namespace asenet::dataplane;

std::string flow_log_rule_label(const NsgRuleSpec& r) { return (r.is_default ? "DefaultRule_" : "UserRule_") + r.name; }

std::string flow_log_mac(uint32_t ip) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "000D3A%06X", ip & 0xffffff);
  return buf;
}

void FlowLogWriter::add(const FlowLogEvent& e, const TableSpec& spec) {
  const auto key = std::make_tuple(e.worker, e.flow_slot, e.flow_serial);
  if (e.kind == FlowLogKind::kBegin || e.kind == FlowLogKind::kDeny) {
    // Version 2 tuples are TCP or UDP; other protocols are not logged.
    if (e.proto != 6 && e.proto != 17) return;
    std::vector<Level> levels;
    for (uint8_t k = 0; k < e.nrules && k < e.rule.size(); ++k) {
      if (e.rule[k] >= spec.nsg_rules.size()) continue;
      const NsgRuleSpec& r = spec.nsg_rules[e.rule[k]];
      if (!spec.nsgs[r.nsg].flow_logs) continue;
      Level l;
      l.nsg = spec.nsgs[r.nsg].name;
      l.rule = flow_log_rule_label(r);
      l.direction = r.direction == NsgDirection::kInbound ? 'I' : 'O';
      l.proto = e.proto == 6 ? 'T' : 'U';
      // Outbound rules judge the packet as sent, inbound ones as delivered.
      l.src = e.src;
      l.sport = e.sport;
      l.dst = l.direction == 'I' ? e.xdst : e.dst;
      l.dport = l.direction == 'I' ? e.xdport : e.dport;
      levels.push_back(std::move(l));
    }
    if (levels.empty()) return;
    // A denied flow: the level that denied it is the last one evaluated.
    if (e.kind == FlowLogKind::kDeny) {
      record(levels.back(), e.time_ns, 'D', 'B', nullptr);
      return;
    }
    for (const auto& l : levels) record(l, e.time_ns, 'A', 'B', nullptr);
    open_[key] = std::move(levels);
    return;
  }
  const auto it = open_.find(key);
  if (it == open_.end()) return;  // began before logging was on
  for (const auto& l : it->second) record(l, e.time_ns, 'A', e.kind == FlowLogKind::kEnd ? 'E' : 'C', &e);
  if (e.kind == FlowLogKind::kEnd) open_.erase(it);
}

void FlowLogWriter::record(const Level& l, uint64_t time_ns, char access, char state, const FlowLogEvent* counts) {
  const uint64_t unix_ns = static_cast<uint64_t>(static_cast<int64_t>(time_ns) + offset_);
  std::ostringstream t;
  t << unix_ns / kNsPerSecond << "," << format_ipv4(l.src) << "," << format_ipv4(l.dst) << "," << l.sport << ","
    << l.dport << "," << l.proto << "," << l.direction << "," << access << "," << state << ",";
  if (counts != nullptr)
    t << counts->packets[0] << "," << counts->bytes[0] << "," << counts->packets[1] << "," << counts->bytes[1];
  else
    t << ",,,";
  const uint64_t minute = unix_ns / 60000000000ull;
  const uint32_t vnet_end = l.direction == 'I' ? l.dst : l.src;
  pending_[{minute, l.nsg}][flow_log_mac(vnet_end)][l.rule].push_back(Tuple{unix_ns, t.str()});
}

bool FlowLogWriter::flush(uint64_t now_ns, std::string& error) {
  const uint64_t now_unix =
      now_ns == UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(static_cast<int64_t>(now_ns) + offset_);
  for (auto it = pending_.begin(); it != pending_.end();) {
    const uint64_t minute = it->first.first;
    if (now_unix != UINT64_MAX && (minute + 1) * 60000000000ull > now_unix) {
      ++it;
      continue;
    }
    const std::string& nsg = it->first.second;
    const std::time_t secs = static_cast<std::time_t>(minute * 60);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char stamp[64];
    // Path components: the NSG's name (validated by the loader and by asenetd
    // for a pushed spec, and checked again by write_file_beneath) and the date.
    auto part = [](const char* key, int v, int width) {
      char b[16];
      std::snprintf(b, sizeof b, "%s=%0*d", key, width, v);
      return std::string(b);
    };
    const std::vector<std::string> dirs = {nsg,
                                           part("y", tm.tm_year + 1900, 4),
                                           part("m", tm.tm_mon + 1, 2),
                                           part("d", tm.tm_mday, 2),
                                           part("h", tm.tm_hour, 2),
                                           part("m", tm.tm_min, 2)};
    const std::time_t end = secs + 60;
    std::tm te{};
    gmtime_r(&end, &te);
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.0000000Z", te.tm_year + 1900, te.tm_mon + 1,
                  te.tm_mday, te.tm_hour, te.tm_min, te.tm_sec);
    std::ostringstream o;
    const std::string resource =
        "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/RESOURCEGROUPS/ASENET/PROVIDERS/"
        "MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/";
    std::string upper = nsg;
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    o << "{\"records\":[";
    bool first_mac = true;
    for (auto& [mac, rules] : it->second) {
      o << (first_mac ? "" : ",") << "{\"time\":\"" << stamp
        << "\",\"systemId\":\"00000000-0000-0000-0000-000000000000\",\"macAddress\":\"" << mac
        << "\",\"category\":\"NetworkSecurityGroupFlowEvent\",\"resourceId\":" << json_str(resource + upper)
        << ",\"operationName\":\"NetworkSecurityGroupFlowEvents\",\"properties\":{\"Version\":2,\"flows\":[";
      first_mac = false;
      bool first_rule = true;
      for (auto& [rule, tuples] : rules) {
        std::stable_sort(tuples.begin(), tuples.end());
        o << (first_rule ? "" : ",") << "{\"rule\":" << json_str(rule) << ",\"flows\":[{\"mac\":\"" << mac
          << "\",\"flowTuples\":[";
        first_rule = false;
        for (size_t k = 0; k < tuples.size(); ++k) o << (k ? "," : "") << json_str(tuples[k].text);
        written_ += tuples.size();
        o << "]}]}";
      }
      o << "]}}";
    }
    o << "]}\n";
    if (!write_file_beneath(dir_, dirs, "PT1M.json", o.str(), false, error)) return false;
    ++files_;
    it = pending_.erase(it);
  }
  return true;
}

}  // namespace asenet::control

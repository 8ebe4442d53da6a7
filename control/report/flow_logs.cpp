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

namespace {
constexpr uint64_t kNsPerMinute = 60 * kNsPerSecond;
}  // namespace

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
  for (const auto& l : it->second) {
    record(l, e.time_ns, 'A', e.kind == FlowLogKind::kEnd ? 'E' : 'C', &e);
  }
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
  const uint64_t minute = std::max(unix_ns / kNsPerMinute, next_minute_);  // a written minute is not rewritten
  const uint32_t vnet_end = l.direction == 'I' ? l.dst : l.src;
  pending_[minute][{l.nsg, flow_log_mac(vnet_end)}][l.rule].push_back(Tuple{unix_ns, t.str()});
}

namespace {

constexpr const char* kSubscription = "00000000-0000-0000-0000-000000000000";

std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

std::string key_value(const char* key, int v, int width) {
  char b[24];
  std::snprintf(b, sizeof b, "%s=%0*d", key, width, v);
  return b;
}

/// Where the NSGs' resource ids start: with "/" and an NSG's name in
/// capitals, the record's resourceId, and (after "resourceId=") its blob's
/// first folders.
std::string nsgs_resource() {
  return std::string("/SUBSCRIPTIONS/") + kSubscription +
         "/RESOURCEGROUPS/ASENET/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS";
}

}  // namespace

std::vector<std::string> FlowLogWriter::blob_folders(const std::string& nsg, uint64_t unix_hour,
                                                     const std::string& mac) {
  const std::time_t secs = static_cast<std::time_t>(unix_hour * 3600);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  // The NSG's name was validated by the loader (and by asenetd for a pushed
  // spec); write_file_beneath's checks stand behind that.
  std::vector<std::string> dirs = {"resourceId="};
  std::istringstream id(nsgs_resource().substr(1));
  for (std::string part; std::getline(id, part, '/');) dirs.push_back(part);
  // The name stays one component: write_file_beneath refuses it whole if it
  // holds a '/' that slipped past validation.
  for (auto part :
       {upper(nsg), key_value("y", tm.tm_year + 1900, 4), key_value("m", tm.tm_mon + 1, 2),
        key_value("d", tm.tm_mday, 2), key_value("h", tm.tm_hour, 2), std::string("m=00"), "macAddress=" + mac})
    dirs.push_back(std::move(part));
  return dirs;
}

std::string FlowLogWriter::record_json(uint64_t minute, const std::string& nsg, const std::string& mac, Rules& rules) {
  const std::time_t secs = static_cast<std::time_t>(minute * 60);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.0000000Z", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::ostringstream o;
  o << "{\"time\":\"" << stamp << "\",\"systemId\":\"" << kSubscription << "\",\"macAddress\":\"" << mac
    << "\",\"category\":\"NetworkSecurityGroupFlowEvent\",\"resourceId\":"
    << json_str(nsgs_resource() + "/" + upper(nsg))
    << ",\"operationName\":\"NetworkSecurityGroupFlowEvents\",\"properties\":{\"Version\":2,\"flows\":[";
  bool first_rule = true;
  for (auto& [rule, tuples] : rules) {
    std::stable_sort(tuples.begin(), tuples.end());
    o << (first_rule ? "" : ",") << "{\"rule\":" << json_str(rule) << ",\"flows\":[{\"mac\":\"" << mac
      << "\",\"flowTuples\":[";
    first_rule = false;
    for (size_t k = 0; k < tuples.size(); ++k) o << (k ? "," : "") << json_str(tuples[k].text);
    o << "]}]}";
  }
  o << "]}}";
  return o.str();
}

bool FlowLogWriter::flush(uint64_t now_ns, std::string& error) {
  const uint64_t now_unix =
      now_ns == UINT64_MAX ? UINT64_MAX : static_cast<uint64_t>(static_cast<int64_t>(now_ns) + offset_);
  // Every due minute's records, gathered per file: (NSG, hour, MAC) -> records
  // in minute order, then one append per file.
  struct File {
    std::string items;
    uint64_t tuples = 0, records = 0;
  };
  std::map<std::tuple<std::string, uint64_t, std::string>, File> files;
  for (auto it = pending_.begin(); it != pending_.end();) {
    const uint64_t minute = it->first;
    if (now_unix != UINT64_MAX && (minute + 1) * kNsPerMinute > now_unix) break;
    for (auto& [where, rules] : it->second) {
      File& f = files[{where.first, minute / 60, where.second}];
      f.items += (f.items.empty() ? "" : ",") + record_json(minute, where.first, where.second, rules);
      for (const auto& [rule, tuples] : rules) f.tuples += tuples.size();
      ++f.records;
    }
    next_minute_ = std::max(next_minute_, minute + 1);
    it = pending_.erase(it);
  }
  static constexpr DocumentShape kRecords{"{\"records\":[", ",", "]}\n"};
  bool ok = true;
  for (const auto& [key, f] : files) {
    const auto& [nsg, hour, mac] = key;
    bool created = false;
    std::string why;
    if (!append_to_document_beneath(dir_, blob_folders(nsg, hour, mac), "PT1H.json", kRecords, f.items, created, why)) {
      if (ok) error = why;
      ok = false;
      lost_ += f.tuples;
      continue;
    }
    files_ += created ? 1 : 0;
    written_ += f.tuples;
    records_ += f.records;
  }
  return ok;
}

}  // namespace asenet::control

// NSG flow logs, version 2 (azure-semantics 6.8): turns the workers' flow log
// events into Azure's JSON records, laid out as Azure lays out its blobs in
// the container insights-logs-networksecuritygroupflowevent [W-FL]: one file
// per NSG, hour and NIC (MAC address),
//   DIR/resourceId=/SUBSCRIPTIONS/<SUB>/RESOURCEGROUPS/ASENET/PROVIDERS/
//       MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/<NSG>/y=YYYY/m=MM/d=DD/h=HH/
//       m=00/macAddress=<MAC>/PT1H.json = {"records":[RECORD, ...]}
// and, as Azure collects flows every minute, one RECORD per minute appended
// to it as the hour goes (the document stays whole between appends):
// RECORD = {time, systemId, macAddress, category "NetworkSecurityGroupFlowEvent",
//   resourceId, operationName "NetworkSecurityGroupFlowEvents",
//   properties: {Version: 2, flows: [{rule, flows: [{mac, flowTuples: [...]}]}]}}
// and each tuple "epoch,src,dst,sport,dport,T|U,I|O,A|D,B|C|E,pkts,bytes,pkts,bytes"
// (empty counts on B). Control side only.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "dataplane/flow/flow_log.hpp"
#include "dataplane/tables/table_spec.hpp"

namespace asenet::control {

class FlowLogWriter {
 public:
  /// `dir`: where the files go. `epoch_offset_ns` turns event times into Unix
  /// time (0 for replay, whose clock is the capture's).
  explicit FlowLogWriter(std::string dir, int64_t epoch_offset_ns = 0)
      : dir_(std::move(dir)), offset_(epoch_offset_ns) {}

  /// One event; `spec` must be the generation the event names (kBegin, kDeny).
  void add(const dataplane::FlowLogEvent& e, const dataplane::TableSpec& spec);
  /// Appends the record of every minute that ended at or before `now_ns`
  /// (event clock) to its hour's file, or of every minute. An event that
  /// arrives for a minute already written goes into the next minute's record
  /// (its tuple keeps its own time). Returns false with `error` when a file
  /// cannot be written (its records are dropped and counted, the rest written).
  bool flush(uint64_t now_ns, std::string& error);
  bool flush_all(std::string& error) { return flush(UINT64_MAX, error); }
  [[nodiscard]] uint64_t tuples_written() const noexcept { return written_; }
  [[nodiscard]] uint64_t records_written() const noexcept { return records_; }
  [[nodiscard]] uint64_t files_written() const noexcept { return files_; }
  [[nodiscard]] uint64_t tuples_lost() const noexcept { return lost_; }
  /// The folders below `dir` of an NSG's file for an hour and MAC (Azure's blob name).
  static std::vector<std::string> blob_folders(const std::string& nsg, uint64_t unix_hour, const std::string& mac);

 private:
  struct Level {  ///< one logged NSG's view of a flow
    std::string nsg, rule;
    char direction = 'I';
    char proto = 'T';
    uint32_t src = 0, dst = 0;
    uint16_t sport = 0, dport = 0;
  };
  struct Tuple {
    uint64_t time_ns;
    std::string text;
    bool operator<(const Tuple& o) const { return std::tie(time_ns, text) < std::tie(o.time_ns, o.text); }
  };
  using Rules = std::map<std::string, std::vector<Tuple>>;
  void record(const Level& l, uint64_t time_ns, char access, char state, const dataplane::FlowLogEvent* counts);
  std::string record_json(uint64_t minute, const std::string& nsg, const std::string& mac, Rules& rules);

  std::string dir_;
  int64_t offset_;
  /// Flows begun and not ended: (worker, slot, created) -> their logged levels.
  std::map<std::tuple<uint16_t, uint32_t, uint64_t>, std::vector<Level>> open_;
  /// minute -> (NSG, MAC) -> rule -> tuples.
  std::map<uint64_t, std::map<std::pair<std::string, std::string>, Rules>> pending_;
  uint64_t next_minute_ = 0;  ///< minutes before it are written
  uint64_t written_ = 0, records_ = 0, files_ = 0, lost_ = 0;
};

/// Azure's rule label in flow logs: "DefaultRule_NAME" or "UserRule_NAME".
std::string flow_log_rule_label(const dataplane::NsgRuleSpec& r);
/// The MAC shown for a VNet address: 00-0D-3A (Microsoft's prefix) and the
/// address's low 24 bits, as 12 hex digits (emulated NICs have no real MAC).
std::string flow_log_mac(uint32_t ip);

}  // namespace asenet::control

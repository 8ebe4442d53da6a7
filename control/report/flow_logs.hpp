// NSG flow logs, version 2 (azure-semantics 6.8): turns the workers' flow log
// events into Azure's JSON records, one file per NSG and minute:
//   DIR/<NSG>/y=YYYY/m=MM/d=DD/h=HH/m=MM/PT1M.json = {"records":[RECORD, ...]}
// one RECORD per NIC (MAC address), in MAC order:
// RECORD = {time, systemId, macAddress, category "NetworkSecurityGroupFlowEvent",
//   resourceId, operationName "NetworkSecurityGroupFlowEvents",
//   properties: {Version: 2, flows: [{rule, flows: [{mac, flowTuples: [...]}]}]}}
// and each tuple "epoch,src,dst,sport,dport,T|U,I|O,A|D,B|C|E,pkts,bytes,pkts,bytes"
// (empty counts on B). Control side only.
#pragma once

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
  /// Writes every minute that ended before `now_ns` (event clock), or all.
  /// Returns false with `error` when a file cannot be written.
  bool flush(uint64_t now_ns, std::string& error);
  bool flush_all(std::string& error) { return flush(UINT64_MAX, error); }
  [[nodiscard]] uint64_t tuples_written() const noexcept { return written_; }
  [[nodiscard]] uint64_t files_written() const noexcept { return files_; }

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
  void record(const Level& l, uint64_t time_ns, char access, char state, const dataplane::FlowLogEvent* counts);

  std::string dir_;
  int64_t offset_;
  /// Flows begun and not ended: (worker, slot, created) -> their logged levels.
  std::map<std::tuple<uint16_t, uint32_t, uint64_t>, std::vector<Level>> open_;
  /// (minute, NSG) -> mac -> rule -> tuples.
  std::map<std::pair<uint64_t, std::string>, std::map<std::string, std::map<std::string, std::vector<Tuple>>>> pending_;
  uint64_t written_ = 0, files_ = 0;
};

/// Azure's rule label in flow logs: "DefaultRule_NAME" or "UserRule_NAME".
std::string flow_log_rule_label(const dataplane::NsgRuleSpec& r);
/// The MAC shown for a VNet address: 00-0D-3A (Microsoft's prefix) and the
/// address's low 24 bits, as 12 hex digits (emulated NICs have no real MAC).
std::string flow_log_mac(uint32_t ip);

}  // namespace asenet::control

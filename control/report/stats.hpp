// The live data plane's figures of one moment (StatsSnapshot) and the three
// ways asenetd prints them: JSON (`stats --json`), the Prometheus text format
// and a few lines for a person. The daemon's agent fills the snapshot; this
// room only formats it, so the formats can never disagree.
#pragma once

#include <array>
#include <map>
#include <cstdint>
#include <string>
#include <vector>

#include "control/report/rule_totals.hpp"
#include "control/report/summary.hpp"
#include "dataplane/core/drop_reason.hpp"
#include "dataplane/core/fabric.hpp"

namespace asenet::control {

/// Figures of one moment: the single source of `stats --json`, Prometheus and
/// the DPDK telemetry commands, so the three can never disagree.
/// The label of a flow state in stats: kTcpStateNames, "not_tcp" for index 0.
std::string flow_state_label(size_t state);

struct StatsSnapshot {
  uint64_t generation = 0;      ///< pushed: the first topology is 1, each push adds one
  std::string spec_hash;        ///< the pushed spec's hash (wire::spec_hash): a pool's nodes compare it
  uint64_t health_epoch = 0;    ///< health changes (asenetctl health, probes) since start
  uint64_t tables_version = 0;  ///< tables published (pushes and health changes alike)
  unsigned workers = 0;
  unsigned node = 0, nodes = 1;  ///< this node's number in its pool (asenetd --node) and the pool's size
  /// A pool's membership (pool_map.hpp): the member nodes, the slots each
  /// node owns, how many changes since start, and for how many more seconds
  /// the previous owners of moved slots are asked.
  std::vector<unsigned> members;
  std::vector<unsigned> slots_by_node;
  uint64_t membership_changes = 0;
  double previous_owners_s = 0;
  struct WorkerFigures {
    uint64_t packets = 0;      ///< processed by this worker (its own and those handed to it)
    uint64_t handed_off = 0;   ///< received by it, processed by the worker owning their connection
    uint64_t handed_in = 0;    ///< received by another worker, processed here
    uint64_t busy_cycles = 0;  ///< TSC cycles of polls that found packets (live)
    uint64_t idle_cycles = 0;  ///< TSC cycles of empty polls and idle sleep (live)
    uint64_t flows_live = 0;
    uint64_t peer_sent = 0, peer_received = 0;    ///< a pool: frames sent to / from the owning node
    uint64_t peer_dropped = 0, peer_refused = 0;  ///< a pool: a link down or full; a frame not for this pool
    uint64_t peer_asked = 0, peer_returned = 0;   ///< a pool: to a moved connection's previous owner; sent back
  };
  std::vector<WorkerFigures> per_worker;
  struct PortFigures {
    uint64_t rx = 0, tx = 0;              ///< packets the pipeline took in / sent out on this side
    uint64_t nic_rx = 0, nic_tx = 0;      ///< the device's own counters (rte_eth_stats)
    uint64_t rx_bytes = 0, tx_bytes = 0;  ///< the device's byte counters (ibytes, obytes), CRC not counted
    uint64_t imissed = 0, ierrors = 0, oerrors = 0, rx_nombuf = 0;
    [[nodiscard]] uint64_t drops() const noexcept { return imissed + ierrors + oerrors + rx_nombuf; }
  };
  std::array<PortFigures, dataplane::kNumPorts> ports{};
  uint64_t packets_in = 0, forwarded = 0, dropped = 0;
  std::array<uint64_t, static_cast<size_t>(dataplane::DropReason::kCount)> drops{};
  uint64_t flows_created = 0, flows_live = 0, flow_capacity = 0, resets_sent = 0, resets_unsent = 0;
  uint64_t icmp_frag_needed = 0;  ///< ICMP fragmentation-needed sent for DF packets over the MTU
  /// Live flows per TCP state, indexed like dataplane::kTcpStateNames (0: not TCP).
  std::array<uint64_t, 7> flows_by_state{};
  RuleHits rule_hits;
  /// "NSG/RULE" -> packets and bytes of the flows it allowed, every NSG,
  /// counted by the workers as the packets pass (rule_totals.hpp).
  RuleTrafficMap rule_traffic;
  uint64_t rule_uncounted_flows = 0;  ///< flows no rule set could take (RuleTally::uncounted)
  struct InstanceFigures {
    std::string ase;
    uint32_t ip = 0;
    bool up = true;
    uint64_t snat_ports_in_use = 0;
    uint64_t snat_destinations = 0;  ///< destinations it holds SNAT ports for (a port is reused across them)
    uint64_t snat_ports_preallocated = 0;
    uint64_t snat_exhausted = 0;
  };
  std::vector<InstanceFigures> instances;
  struct NeighborFigures {
    dataplane::Port port = dataplane::Port::kVnet;
    uint32_t ip = 0;
    std::string mac;   ///< empty while unresolved
    double age_s = 0;  ///< since learned (or asked, while unresolved)
    unsigned worker = 0;
  };
  struct ProbeFigures {
    std::string ase;
    uint32_t ip = 0;
    uint16_t port = 0;
    bool up = true;
    std::string last;  ///< "ok", "timeout", "refused", "nsg_deny", "no_neighbor", or "" before the first
    uint64_t sent = 0, succeeded = 0, failed = 0;
    /// The last successful probe's round trip (sent until the worker got the
    /// answer that decided it: the SYN-ACK, or the HTTP status); -1: none yet.
    double rtt_s = -1;
  };
  std::vector<ProbeFigures> probes;
  bool l2 = false;  ///< [l2] arp on: the neighbour tables below are in use
  std::vector<NeighborFigures> neighbors;
  uint64_t arp_replies = 0, arp_requests = 0;
  uint64_t heap_bytes_in_use = 0, heap_bytes_total = 0;
  uint64_t heap_allocations = 0;  ///< live rte_malloc blocks: a leak makes this grow
  uint64_t mbufs_in_use = 0, mbufs_total = 0;
  uint64_t pushes = 0, pushes_failed = 0, health_changes = 0;
  bool flow_logs = false;
  uint64_t flow_log_tuples = 0, flow_log_files = 0, flow_log_events_dropped = 0;
  uint64_t flow_log_records = 0,
           flow_log_tuples_lost = 0;  ///< records appended; tuples whose file could not be written
  uint64_t control_rejected = 0, control_malformed = 0;
  bool tracing = false;
  bool capturing = false;
};

std::string stats_json(const StatsSnapshot& s);
/// The Prometheus text exposition format (version 0.0.4).
std::string stats_prometheus(const StatsSnapshot& s);
/// A few lines for a person.
std::string stats_text(const StatsSnapshot& s);

}  // namespace asenet::control

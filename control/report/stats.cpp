#include "control/report/stats.hpp"

#include <cstdio>
#include <sstream>

#include "dataplane/flow/flow_table.hpp"
#include "protocol/json.hpp"

namespace asenet::control {

using namespace asenet::dataplane;

static_assert(std::tuple_size_v<decltype(StatsSnapshot::flows_by_state)> == kTcpStateNames.size());

std::string flow_state_label(size_t state) {
  return state == 0 ? std::string("not_tcp") : std::string(kTcpStateNames.at(state));
}

namespace {

std::string prom_label(std::string_view v) {
  std::string o;
  for (char c : v) {
    if (c == '\\')
      o += "\\\\";
    else if (c == '"')
      o += "\\\"";
    else if (c == '\n')
      o += "\\n";
    else
      o += c;
  }
  return o;
}

}  // namespace

namespace {

/// "per_worker" and "ports".
void workers_and_ports_json(std::ostringstream& o, const StatsSnapshot& s) {
  o << "\"per_worker\":[";
  for (size_t w = 0; w < s.per_worker.size(); ++w) {
    const auto& f = s.per_worker[w];
    o << (w ? "," : "") << "{\"packets\":" << f.packets << ",\"handed_off\":" << f.handed_off
      << ",\"handed_in\":" << f.handed_in << ",\"flows_live\":" << f.flows_live << ",\"busy_cycles\":" << f.busy_cycles
      << ",\"idle_cycles\":" << f.idle_cycles << ",\"peer_sent\":" << f.peer_sent
      << ",\"peer_received\":" << f.peer_received << ",\"peer_dropped\":" << f.peer_dropped
      << ",\"peer_refused\":" << f.peer_refused << ",\"peer_asked\":" << f.peer_asked
      << ",\"peer_returned\":" << f.peer_returned << "}";
  }
  o << "],\"ports\":{";
  for (size_t p = 0; p < kNumPorts; ++p) {
    const auto& f = s.ports[p];
    o << (p ? "," : "") << json_str(port_name(static_cast<Port>(p))) << ":{\"rx\":" << f.rx << ",\"tx\":" << f.tx
      << ",\"drops\":" << f.drops() << ",\"nic_rx\":" << f.nic_rx << ",\"nic_tx\":" << f.nic_tx
      << ",\"rx_bytes\":" << f.rx_bytes << ",\"tx_bytes\":" << f.tx_bytes << ",\"imissed\":" << f.imissed
      << ",\"ierrors\":" << f.ierrors << ",\"oerrors\":" << f.oerrors << ",\"rx_nombuf\":" << f.rx_nombuf << "}";
  }
  o << "}";
}

/// "snat": per instance and per ASE, then "health".
void snat_json(std::ostringstream& o, const StatsSnapshot& s) {
  o << "\"snat\":{\"by_instance\":{";
  bool first = true;
  std::map<std::string, std::array<uint64_t, 3>> by_ase;
  for (const auto& i : s.instances) {
    o << (first ? "" : ",") << json_str(format_ipv4(i.ip)) << ":{\"ase\":" << json_str(i.ase)
      << ",\"in_use\":" << i.snat_ports_in_use << ",\"destinations\":" << i.snat_destinations
      << ",\"preallocated\":" << i.snat_ports_preallocated << ",\"exhausted\":" << i.snat_exhausted << "}";
    first = false;
    auto& a = by_ase[i.ase];
    a[0] += i.snat_ports_in_use;
    a[1] += i.snat_ports_preallocated;
    a[2] += i.snat_exhausted;
  }
  o << "},\"by_ase\":{";
  first = true;
  for (const auto& [name, v] : by_ase) {
    o << (first ? "" : ",") << json_str(name) << ":{\"in_use\":" << v[0] << ",\"preallocated\":" << v[1]
      << ",\"exhausted\":" << v[2] << "}";
    first = false;
  }
  o << "}},\"health\":{";
  first = true;
  for (const auto& i : s.instances) {
    o << (first ? "" : ",") << json_str(i.ase + "/" + format_ipv4(i.ip)) << ":" << (i.up ? "\"up\"" : "\"down\"");
    first = false;
  }
  o << "}";
}

/// "l2" ([l2] arp: its counters and the neighbours) and "probes", when there.
void l2_and_probes_json(std::ostringstream& o, const StatsSnapshot& s) {
  if (s.l2) {
    o << ",\"l2\":{\"arp_replies\":" << s.arp_replies << ",\"arp_requests\":" << s.arp_requests << ",\"neighbors\":[";
    for (size_t i = 0; i < s.neighbors.size(); ++i) {
      const auto& n = s.neighbors[i];
      o << (i ? "," : "") << "{\"port\":" << json_str(port_name(n.port)) << ",\"ip\":" << json_str(format_ipv4(n.ip))
        << ",\"mac\":" << (n.mac.empty() ? std::string("null") : json_str(n.mac))
        << ",\"state\":" << (n.mac.empty() ? "\"incomplete\"" : "\"reachable\"")
        << ",\"age_s\":" << static_cast<uint64_t>(n.age_s) << ",\"worker\":" << n.worker << "}";
    }
    o << "]}";
  }
  if (!s.probes.empty()) {
    o << ",\"probes\":[";
    for (size_t i = 0; i < s.probes.size(); ++i) {
      const auto& p = s.probes[i];
      o << (i ? "," : "") << "{\"ase\":" << json_str(p.ase) << ",\"instance\":" << json_str(format_ipv4(p.ip))
        << ",\"port\":" << p.port << ",\"state\":" << (p.up ? "\"up\"" : "\"down\"") << ",\"last\":" << json_str(p.last)
        << ",\"sent\":" << p.sent << ",\"succeeded\":" << p.succeeded << ",\"failed\":" << p.failed;
      if (p.rtt_s >= 0) o << ",\"rtt_s\":" << p.rtt_s;
      o << "}";
    }
    o << "]";
  }
}

void prom_head(std::ostringstream& o, const char* name, const char* type, const char* help) {
  o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n";
}

/// `NAME{port="SIDE"} VALUE` for each side.
template <typename F>
void prom_per_port(std::ostringstream& o, const char* name, F value) {
  for (size_t p = 0; p < kNumPorts; ++p)
    o << name << "{port=\"" << port_name(static_cast<Port>(p)) << "\"} " << value(p) << "\n";
}

/// Bytes per rule and flows per TCP state (issue 19, section 1).
void prometheus_rules_and_states(std::ostringstream& o, const StatsSnapshot& s) {
  auto head = [&](const char* name, const char* type, const char* help) { prom_head(o, name, type, help); };
  head("asenet_rule_bytes_total", "counter",
       "IP bytes of the flows each NSG rule allowed, per direction (forward: initiator to responder), every NSG, "
       "counted as the packets pass; a flow counts against the rules that allowed it, after a push too.");
  auto per_rule = [&](const char* name, auto value) {
    for (const auto& [k, v] : s.rule_traffic) {
      const auto slash = k.find('/');
      for (int d = 0; d < 2; ++d)
        o << name << "{nsg=\"" << prom_label(k.substr(0, slash)) << "\",rule=\"" << prom_label(k.substr(slash + 1))
          << "\",direction=\"" << (d == 0 ? "forward" : "reply") << "\"} " << value(v, d) << "\n";
    }
  };
  per_rule("asenet_rule_bytes_total", [](const RuleTraffic& v, int d) { return v.bytes[d]; });
  head("asenet_rule_packets_total", "counter", "Packets of the flows each NSG rule allowed, per direction.");
  per_rule("asenet_rule_packets_total", [](const RuleTraffic& v, int d) { return v.packets[d]; });
  head("asenet_rule_uncounted_flows_total", "counter",
       "Flows whose packets no rule counter took (a worker's rule sets all held by live flows).");
  o << "asenet_rule_uncounted_flows_total " << s.rule_uncounted_flows << "\n";
  head("asenet_flows_by_state", "gauge", "Connections in the flow tables per TCP state (not_tcp: UDP, ICMP).");
  for (size_t st = 0; st < s.flows_by_state.size(); ++st)
    o << "asenet_flows_by_state{state=\"" << flow_state_label(st) << "\"} " << s.flows_by_state[st] << "\n";
}

/// A pool's node (asenetd --node, --peer): its place and its peer links.
void prometheus_pool(std::ostringstream& o, const StatsSnapshot& s) {
  if (s.nodes <= 1) return;
  prom_head(o, "asenet_pool_nodes", "gauge", "Nodes in this node's pool (asenetd --peer); node is this one's number.");
  o << "asenet_pool_nodes{node=\"" << s.node << "\"} " << s.nodes << "\n";
  prom_head(o, "asenet_pool_slots", "gauge",
            "Connection owner slots each node of the pool holds (pool_map.hpp); 0: not a member.");
  for (size_t n = 0; n < s.slots_by_node.size(); ++n)
    o << "asenet_pool_slots{owner=\"" << n << "\"} " << s.slots_by_node[n] << "\n";
  prom_head(o, "asenet_pool_membership_changes_total", "counter",
            "Membership changes this node took (push --members).");
  o << "asenet_pool_membership_changes_total " << s.membership_changes << "\n";
  prom_head(o, "asenet_peer_packets_total", "counter",
            "Frames on the peer links: sent to the owning node, received from another, dropped (link down or full), "
            "refused (not a peer frame of this pool, or not this node's); after a membership change, asked (sent to a "
            "moved connection's previous owner) and returned (asked here, not held, sent back to the owner).");
  const std::array<std::pair<const char*, uint64_t StatsSnapshot::WorkerFigures::*>, 6> kinds = {
      {{"sent", &StatsSnapshot::WorkerFigures::peer_sent},
       {"received", &StatsSnapshot::WorkerFigures::peer_received},
       {"dropped", &StatsSnapshot::WorkerFigures::peer_dropped},
       {"refused", &StatsSnapshot::WorkerFigures::peer_refused},
       {"asked", &StatsSnapshot::WorkerFigures::peer_asked},
       {"returned", &StatsSnapshot::WorkerFigures::peer_returned}}};
  for (const auto& [name, field] : kinds) {
    uint64_t n = 0;
    for (const auto& f : s.per_worker) n += f.*field;
    o << "asenet_peer_packets_total{direction=\"" << name << "\"} " << n << "\n";
  }
}

/// The series issue 19 added: bytes, probes, flow logs, the control side.
void prometheus_more(std::ostringstream& o, const StatsSnapshot& s) {
  prom_head(o, "asenet_port_rx_bytes_total", "counter", "Bytes the device received on each side (its ibytes).");
  prom_per_port(o, "asenet_port_rx_bytes_total", [&](size_t p) { return s.ports[p].rx_bytes; });
  prom_head(o, "asenet_port_tx_bytes_total", "counter", "Bytes the device sent on each side (its obytes).");
  prom_per_port(o, "asenet_port_tx_bytes_total", [&](size_t p) { return s.ports[p].tx_bytes; });
  prom_head(o, "asenet_flow_capacity", "gauge", "Connections the flow tables can hold.");
  o << "asenet_flow_capacity " << s.flow_capacity << "\n";
  prom_head(o, "asenet_resets_sent_total", "counter", "RSTs the load balancer sent for idled-out flows.");
  o << "asenet_resets_sent_total " << s.resets_sent << "\n";
  prom_head(o, "asenet_snat_ports_preallocated", "gauge", "SNAT ports preallocated to each ASE instance.");
  for (const auto& i : s.instances)
    o << "asenet_snat_ports_preallocated{ase=\"" << prom_label(i.ase) << "\",backend=\"" << format_ipv4(i.ip) << "\"} "
      << i.snat_ports_preallocated << "\n";
  // Each family's samples together, after its # TYPE (the format's rule).
  auto probes = [&](const char* name, const char* type, const char* help, auto value) {
    prom_head(o, name, type, help);
    for (const auto& p : s.probes)
      o << name << "{ase=\"" << prom_label(p.ase) << "\",backend=\"" << format_ipv4(p.ip) << "\",port=\"" << p.port
        << "\"} " << value(p) << "\n";
  };
  using Probe = StatsSnapshot::ProbeFigures;
  probes("asenet_probe_up", "gauge", "Health probe state of each instance (1 up, 0 down).",
         [](const Probe& p) { return p.up ? 1 : 0; });
  probes("asenet_probe_sent_total", "counter", "Health probes sent to each instance.",
         [](const Probe& p) { return p.sent; });
  probes("asenet_probe_failed_total", "counter", "Health probes that failed, per instance.",
         [](const Probe& p) { return p.failed; });
  // NaN until an instance has answered once (Prometheus' own "no value").
  probes("asenet_probe_rtt_seconds", "gauge", "Round trip of the last successful health probe of each instance.",
         [](const Probe& p) { return p.rtt_s >= 0 ? std::to_string(p.rtt_s) : std::string("NaN"); });
  prom_head(o, "asenet_flow_log_records_total", "counter", "NSG flow log flow tuples written.");
  o << "asenet_flow_log_records_total " << s.flow_log_tuples << "\n";
  prom_head(o, "asenet_flow_log_events_dropped_total", "counter", "Flow log events lost (the workers' rings full).");
  o << "asenet_flow_log_events_dropped_total " << s.flow_log_events_dropped << "\n";
  prom_head(o, "asenet_flow_log_tuples_lost_total", "counter",
            "Flow tuples lost because their file could not be written.");
  o << "asenet_flow_log_tuples_lost_total " << s.flow_log_tuples_lost << "\n";
  prom_head(o, "asenet_pushes_failed_total", "counter", "Pushes refused or failed (the old tables kept).");
  o << "asenet_pushes_failed_total " << s.pushes_failed << "\n";
  prom_head(o, "asenet_health_changes_total", "counter", "Instances marked up or down (health, probes).");
  o << "asenet_health_changes_total " << s.health_changes << "\n";
}

}  // namespace

std::string stats_json(const StatsSnapshot& s) {
  std::ostringstream o;
  o << "{\"generation\":" << s.generation << ",\"spec_hash\":" << json_str(s.spec_hash)
    << ",\"health_epoch\":" << s.health_epoch << ",\"tables_version\":" << s.tables_version
    << ",\"workers\":" << s.workers << ",\"node\":" << s.node << ",\"nodes\":" << s.nodes << ",";
  if (s.nodes > 1) {
    o << "\"pool\":{\"members\":[";
    for (size_t i = 0; i < s.members.size(); ++i) o << (i ? "," : "") << s.members[i];
    o << "],\"slots_by_node\":[";
    for (size_t i = 0; i < s.slots_by_node.size(); ++i) o << (i ? "," : "") << s.slots_by_node[i];
    o << "],\"membership_changes\":" << s.membership_changes << ",\"previous_owners_s\":" << s.previous_owners_s
      << "},";
  }
  workers_and_ports_json(o, s);
  o << ",\"packets_in\":" << s.packets_in << ",\"packets_forwarded\":" << s.forwarded
    << ",\"packets_dropped\":" << s.dropped << ",\"drops\":{";
  bool first = true;
  for (size_t r = 1; r < s.drops.size(); ++r) {
    if (s.drops[r] == 0) continue;
    o << (first ? "" : ",") << json_str(drop_reason_name(static_cast<DropReason>(r))) << ":" << s.drops[r];
    first = false;
  }
  o << "},\"rule_hits\":" << rule_hits_json(s.rule_hits) << ",\"rule_bytes\":{";
  bool first_rb = true;
  for (const auto& [k, v] : s.rule_traffic) {
    o << (first_rb ? "" : ",") << json_str(k) << ":{\"forward\":" << v.bytes[0] << ",\"reply\":" << v.bytes[1] << "}";
    first_rb = false;
  }
  o << "},\"rule_packets\":{";
  first_rb = true;
  for (const auto& [k, v] : s.rule_traffic) {
    o << (first_rb ? "" : ",") << json_str(k) << ":{\"forward\":" << v.packets[0] << ",\"reply\":" << v.packets[1]
      << "}";
    first_rb = false;
  }
  o << "},\"rule_uncounted_flows\":" << s.rule_uncounted_flows << ",\"flows\":{\"live\":" << s.flows_live
    << ",\"by_state\":{";
  for (size_t st = 0; st < s.flows_by_state.size(); ++st)
    o << (st ? "," : "") << "\"" << flow_state_label(st) << "\":" << s.flows_by_state[st];
  o << "}"
    << ",\"capacity\":" << s.flow_capacity << ",\"created\":" << s.flows_created << ",\"resets_sent\":" << s.resets_sent
    << ",\"icmp_frag_needed_sent\":" << s.icmp_frag_needed << ",\"resets_unsent\":" << s.resets_unsent << "},";
  snat_json(o, s);
  l2_and_probes_json(o, s);
  o << ",\"memory\":{\"heap_bytes_in_use\":" << s.heap_bytes_in_use << ",\"heap_bytes_total\":" << s.heap_bytes_total
    << ",\"heap_allocations\":" << s.heap_allocations << ",\"mbufs_in_use\":" << s.mbufs_in_use
    << ",\"mbufs_total\":" << s.mbufs_total << "},\"control\":{\"pushes\":" << s.pushes
    << ",\"pushes_failed\":" << s.pushes_failed << ",\"health_changes\":" << s.health_changes
    << ",\"connections_rejected\":" << s.control_rejected << ",\"messages_malformed\":" << s.control_malformed
    << ",\"tracing\":" << (s.tracing ? "true" : "false") << ",\"capturing\":" << (s.capturing ? "true" : "false")
    << "}";
  if (s.flow_logs)
    o << ",\"flow_logs\":{\"tuples_written\":" << s.flow_log_tuples << ",\"records_written\":" << s.flow_log_records
      << ",\"files_written\":" << s.flow_log_files << ",\"tuples_lost\":" << s.flow_log_tuples_lost
      << ",\"events_dropped\":" << s.flow_log_events_dropped << "}";
  o << "}";
  return o.str();
}

std::string stats_prometheus(const StatsSnapshot& s) {
  std::ostringstream o;
  auto head = [&](const char* name, const char* type, const char* help) { prom_head(o, name, type, help); };
  head("asenet_generation", "gauge",
       "Topology generation live in the data plane (the first is 1, each push adds one).");
  o << "asenet_generation " << s.generation << "\n";
  if (!s.spec_hash.empty()) {
    head("asenet_spec_info", "gauge", "The live spec's hash as a label (a pool's nodes show the same), always 1.");
    o << "asenet_spec_info{spec_hash=\"" << prom_label(s.spec_hash) << "\"} 1\n";
  }
  head("asenet_health_epoch", "gauge", "Health changes applied since start (asenetctl health and the probes).");
  o << "asenet_health_epoch " << s.health_epoch << "\n";
  head("asenet_workers", "gauge", "Worker lcores running the pipeline.");
  o << "asenet_workers " << s.workers << "\n";
  head("asenet_worker_busy_cycles_total", "counter", "TSC cycles each worker spent on polls that found packets.");
  for (size_t w = 0; w < s.per_worker.size(); ++w)
    o << "asenet_worker_busy_cycles_total{worker=\"" << w << "\"} " << s.per_worker[w].busy_cycles << "\n";
  head("asenet_worker_idle_cycles_total", "counter", "TSC cycles each worker spent on empty polls and idle sleep.");
  for (size_t w = 0; w < s.per_worker.size(); ++w)
    o << "asenet_worker_idle_cycles_total{worker=\"" << w << "\"} " << s.per_worker[w].idle_cycles << "\n";
  prometheus_pool(o, s);
  head("asenet_port_rx_packets_total", "counter", "Packets the pipeline received on each side.");
  prom_per_port(o, "asenet_port_rx_packets_total", [&](size_t p) { return s.ports[p].rx; });
  head("asenet_port_tx_packets_total", "counter", "Packets the pipeline sent on each side.");
  prom_per_port(o, "asenet_port_tx_packets_total", [&](size_t p) { return s.ports[p].tx; });
  head("asenet_port_drops_total", "counter", "Packets the device dropped (missed, errors, no mbuf).");
  prom_per_port(o, "asenet_port_drops_total", [&](size_t p) { return s.ports[p].drops(); });
  head("asenet_drops_total", "counter", "Packets the pipeline dropped, by reason.");
  for (size_t r = 1; r < s.drops.size(); ++r)
    o << "asenet_drops_total{reason=\"" << drop_reason_name(static_cast<DropReason>(r)) << "\"} " << s.drops[r] << "\n";
  head("asenet_packets_forwarded_total", "counter", "Input packets that left on some port.");
  o << "asenet_packets_forwarded_total " << s.forwarded << "\n";
  head("asenet_rule_hits_total", "counter", "New flows decided by each NSG rule.");
  for (const auto& [k, v] : s.rule_hits) {
    const auto slash = k.find('/');
    o << "asenet_rule_hits_total{nsg=\"" << prom_label(k.substr(0, slash)) << "\",rule=\""
      << prom_label(k.substr(slash + 1)) << "\"} " << v << "\n";
  }
  head("asenet_flows", "gauge", "Connections in the flow tables.");
  o << "asenet_flows " << s.flows_live << "\n";
  head("asenet_flows_created_total", "counter", "Connections installed.");
  o << "asenet_flows_created_total " << s.flows_created << "\n";
  head("asenet_snat_ports_in_use", "gauge", "SNAT ports held, per ASE instance.");
  for (const auto& i : s.instances)
    o << "asenet_snat_ports_in_use{ase=\"" << prom_label(i.ase) << "\",backend=\"" << format_ipv4(i.ip) << "\"} "
      << i.snat_ports_in_use << "\n";
  head("asenet_snat_destinations", "gauge",
       "Destinations (IP, port where per port, protocol) an instance holds SNAT ports for; each has the whole "
       "preallocation to itself.");
  for (const auto& i : s.instances)
    o << "asenet_snat_destinations{ase=\"" << prom_label(i.ase) << "\",backend=\"" << format_ipv4(i.ip) << "\"} "
      << i.snat_destinations << "\n";
  head("asenet_snat_exhausted_total", "counter", "Connections refused for want of a SNAT port, per instance.");
  for (const auto& i : s.instances)
    o << "asenet_snat_exhausted_total{ase=\"" << prom_label(i.ase) << "\",backend=\"" << format_ipv4(i.ip) << "\"} "
      << i.snat_exhausted << "\n";
  head("asenet_instance_up", "gauge", "Backend health (1 up, 0 down).");
  for (const auto& i : s.instances)
    o << "asenet_instance_up{ase=\"" << prom_label(i.ase) << "\",backend=\"" << format_ipv4(i.ip) << "\"} "
      << (i.up ? 1 : 0) << "\n";
  head("asenet_heap_bytes_in_use", "gauge", "DPDK heap bytes allocated.");
  o << "asenet_heap_bytes_in_use " << s.heap_bytes_in_use << "\n";
  head("asenet_mbufs_in_use", "gauge", "Mbufs out of the pool.");
  o << "asenet_mbufs_in_use " << s.mbufs_in_use << "\n";
  head("asenet_pushes_total", "counter", "Generations pushed.");
  o << "asenet_pushes_total " << s.pushes << "\n";
  prometheus_more(o, s);
  prometheus_rules_and_states(o, s);
  return o.str();
}

std::string stats_text(const StatsSnapshot& s) {
  std::ostringstream o;
  o << "generation " << s.generation << " (health epoch " << s.health_epoch << ") on " << s.workers << " worker"
    << (s.workers == 1 ? "" : "s");
  if (s.nodes > 1) {
    o << ", node " << s.node << " of a pool of " << s.nodes << " (members";
    for (const unsigned m : s.members) o << " " << m;
    o << ")";
    if (s.previous_owners_s > 0)
      o << ", previous owners asked for " << static_cast<uint64_t>(s.previous_owners_s) << " s more";
  }
  o << "\n";
  for (size_t p = 0; p < kNumPorts; ++p)
    o << "  " << port_name(static_cast<Port>(p)) << ": rx " << s.ports[p].rx << ", tx " << s.ports[p].tx
      << ", device drops " << s.ports[p].drops() << "\n";
  o << "  forwarded " << s.forwarded << ", dropped " << s.dropped;
  bool first = true;
  for (size_t r = 1; r < s.drops.size(); ++r) {
    if (s.drops[r] == 0) continue;
    o << (first ? ": " : ", ") << drop_reason_name(static_cast<DropReason>(r)) << " " << s.drops[r];
    first = false;
  }
  o << "\n  flows " << s.flows_live << " live of " << s.flow_capacity << ", " << s.flows_created << " created";
  first = true;
  for (size_t st = 0; st < s.flows_by_state.size(); ++st) {
    if (s.flows_by_state[st] == 0) continue;
    o << (first ? " (" : ", ") << flow_state_label(st) << " " << s.flows_by_state[st];
    first = false;
  }
  o << (first ? "\n" : ")\n");
  for (const auto& i : s.instances)
    o << "  " << i.ase << " " << format_ipv4(i.ip) << (i.up ? " up" : " down") << ", SNAT ports " << i.snat_ports_in_use
      << "/" << i.snat_ports_preallocated << " (" << i.snat_destinations
      << (i.snat_destinations == 1 ? " destination)" : " destinations)")
      << (i.snat_exhausted ? ", exhausted " + std::to_string(i.snat_exhausted) : "") << "\n";
  for (size_t w = 0; w < s.per_worker.size(); ++w) {
    const auto& f = s.per_worker[w];
    if (f.busy_cycles + f.idle_cycles == 0) continue;
    char share[16];
    std::snprintf(share, sizeof share, "%.1f",
                  100.0 * static_cast<double>(f.busy_cycles) / static_cast<double>(f.busy_cycles + f.idle_cycles));
    o << "  worker " << w << ": " << f.packets << " packets, busy " << share << " % of its cycles\n";
  }
  for (const auto& [k, v] : s.rule_hits) o << "  rule " << k << ": " << v << "\n";
  for (const auto& p : s.probes)
    o << "  probe " << p.ase << " " << format_ipv4(p.ip) << ":" << p.port << " " << (p.up ? "up" : "down") << ", last "
      << (p.last.empty() ? std::string("-") : p.last) << " (" << p.succeeded << " ok, " << p.failed << " failed"
      << (p.rtt_s >= 0 ? ", round trip " + std::to_string(p.rtt_s * 1e3) + " ms" : std::string()) << ")\n";
  for (const auto& n : s.neighbors)
    o << "  neighbour " << port_name(n.port) << " " << format_ipv4(n.ip) << " "
      << (n.mac.empty() ? std::string("incomplete") : n.mac) << " (" << static_cast<uint64_t>(n.age_s) << " s)\n";
  return o.str();
}

}  // namespace asenet::control

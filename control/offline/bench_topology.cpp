// asenetctl bench --topology T [--pcap FILE]: the bench on the user's own
// topology and rule sets, in process (bench_user.cpp makes the traffic):
// established packets (in install order and in random order), new
// connections, per-stage cycles, the rte_acl rules after expansion and their
// build time, the memory, and each rule's share of the connections.
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include "control/compiler/compile.hpp"
#include "control/offline/bench.hpp"
#include "control/offline/bench_inprocess.hpp"
#include "control/offline/bench_user.hpp"
#include "dataplane/ports/ports.hpp"
#include "protocol/json.hpp"

namespace asenet::control {

using namespace asenet::dataplane;
using namespace asenet::control::bench;

namespace {

constexpr unsigned kNewFlowTable = 2000000;

struct TopologyReport {
  const BenchOptions& opt;
  const UserTraffic& traffic;
  size_t user_rules = 0, acl_rules = 0;
  double acl_build_s = 0;
  RunResult est, fresh;
  std::vector<std::pair<std::string, uint64_t>> hits;  ///< "NSG securityRules/X" -> connections
};

std::string stages_text(const std::array<double, kNumStages>& s) {
  std::string out;
  char buf[48];
  for (size_t i = 0; i < kNumStages; ++i) {
    std::snprintf(buf, sizeof buf, "%s%s %.1f", i ? ", " : "", kStages[i], s[i]);
    out += buf;
  }
  return out;
}

std::string stages_json(const std::array<double, kNumStages>& s) {
  std::string out = "{";
  char buf[48];
  for (size_t i = 0; i < kNumStages; ++i) {
    std::snprintf(buf, sizeof buf, "%s\"%s\":%.1f", i ? "," : "", kStages[i], s[i]);
    out += buf;
  }
  return out + "}";
}

void print(const TopologyReport& r) {
  uint64_t total = 0;
  for (const auto& h : r.hits) total += h.second;
  const double est_cyc = r.est.per_pkt - r.est.gen_per_pkt, new_cyc = r.fresh.per_pkt - r.fresh.gen_per_pkt;
  const double mib = static_cast<double>(r.est.flow_table_bytes + r.est.snat_bytes) / (1 << 20);
  if (r.opt.json) {
    std::string s = "{\"topology\":" + json_str(r.opt.topology) +
                    ",\"traffic\":" + json_str(r.opt.pcap.empty() ? "generated" : "pcap:" + r.opt.pcap);
    char buf[2048];
    std::snprintf(buf, sizeof buf,
                  ",\"templates\":%zu,\"templates_refused\":%zu,\"nsg_rules\":%zu,\"acl_rules\":%zu,"
                  "\"acl_build_seconds\":%.3f,\"established\":{\"flows\":%u,\"mpps\":%.3f,\"cycles_per_packet\":%.1f,"
                  "\"random_order_cycles_per_packet\":%.1f,\"drops\":%llu,\"stage_cycles_per_packet\":%s},"
                  "\"new_connections\":{\"per_s\":%.0f,\"cycles_per_connection\":%.1f,\"created\":%llu,\"drops\":%llu,"
                  "\"stage_cycles_per_packet\":%s},\"memory\":{\"flow_capacity\":%u,\"flow_and_snat_mib\":%.1f}",
                  r.traffic.flows.size(), r.traffic.refused, r.user_rules, r.acl_rules, r.acl_build_s, r.est.flows_live,
                  r.est.mpps, est_cyc, r.est.have_random ? r.est.random_per_pkt : 0.0,
                  static_cast<unsigned long long>(r.est.drops), stages_json(r.est.stages).c_str(), r.fresh.conn_per_s,
                  new_cyc, static_cast<unsigned long long>(r.fresh.created),
                  static_cast<unsigned long long>(r.fresh.drops), stages_json(r.fresh.stages).c_str(),
                  r.est.flow_capacity, mib);
    s += buf;
    s += ",\"drops\":{";
    bool first = true;
    for (size_t d = 0; d < r.est.drop_reasons.size(); ++d)
      if (const uint64_t n = r.est.drop_reasons[d] + r.fresh.drop_reasons[d]; n > 0) {
        s += (first ? "" : ",") + json_str(drop_reason_name(static_cast<DropReason>(d))) + ":" + std::to_string(n);
        first = false;
      }
    s += "},\"rule_share\":{";
    for (size_t i = 0; i < r.hits.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%s%s:{\"connections\":%llu,\"share\":%.4f}", i ? "," : "",
                    json_str(r.hits[i].first).c_str(), static_cast<unsigned long long>(r.hits[i].second),
                    total ? static_cast<double>(r.hits[i].second) / static_cast<double>(total) : 0.0);
      s += buf;
    }
    s += "},\"paths\":[";
    for (size_t i = 0; i < r.traffic.flows.size(); ++i)
      s += (i ? "," : "") + std::string("{\"path\":") + json_str(r.traffic.flows[i].path) +
           ",\"rule\":" + json_str(r.traffic.flows[i].rule) + "}";
    std::printf("%s]}\n", s.c_str());
    return;
  }
  std::printf("bench on %s: %zu NSG rules (%zu rte_acl rules, built in %.3f s); traffic %s\n", r.opt.topology.c_str(),
              r.user_rules, r.acl_rules, r.acl_build_s,
              r.opt.pcap.empty() ? ("generated: " + std::to_string(r.traffic.flows.size()) + " connection templates, " +
                                    std::to_string(r.traffic.refused) + " refused further along their path")
                                       .c_str()
                                 : ("the frames of " + r.opt.pcap).c_str());
  for (const auto& f : r.traffic.flows) std::printf("  template: %s (%s)\n", f.path.c_str(), f.rule.c_str());
  std::printf(
      "  established: %.2f Mpps, %.1f cycles/packet (random order, frames from the LLC: %.1f), %u flows, %llu "
      "dropped\n",
      r.est.mpps, est_cyc, r.est.random_per_pkt, r.est.flows_live, static_cast<unsigned long long>(r.est.drops));
  if (r.est.have_stages) std::printf("    by stage: %s\n", stages_text(r.est.stages).c_str());
  std::printf("  new connections: %.2f M/s, %.1f cycles each (%llu created, %llu dropped)\n", r.fresh.conn_per_s / 1e6,
              new_cyc, static_cast<unsigned long long>(r.fresh.created),
              static_cast<unsigned long long>(r.fresh.drops));
  if (r.fresh.have_stages) std::printf("    by stage: %s\n", stages_text(r.fresh.stages).c_str());
  std::string drops;
  for (size_t d = 0; d < r.est.drop_reasons.size(); ++d)
    if (const uint64_t n = r.est.drop_reasons[d] + r.fresh.drop_reasons[d]; n > 0)
      drops += " " + std::string(drop_reason_name(static_cast<DropReason>(d))) + " " + std::to_string(n);
  std::printf("  drops by reason:%s", drops.empty() ? " none" : drops.c_str());
  std::printf("\n  memory: %u-flow table and SNAT %.1f MiB\n", r.est.flow_capacity, mib);
  std::printf("  each rule's share of the connections (NSG decisions in the data plane):\n");
  for (const auto& [rule, n] : r.hits)
    std::printf("    %6.2f %%  %s\n", total ? 100.0 * static_cast<double>(n) / static_cast<double>(total) : 0.0,
                rule.c_str());
}

/// The measured part, with EAL up.
int measure(const Topology& topo, TopologyReport& r) {
  const BenchOptions& opt = r.opt;
  std::string err;
  std::vector<rte_mempool*> pools;
  for (unsigned i = 0; i < opt.workers; ++i) {
    rte_mempool* p = rte_pktmbuf_pool_create(("tbench_pool" + std::to_string(i)).c_str(), kBenchPoolMbufs, 256, 0,
                                             RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    if (p == nullptr) return std::cerr << "asenetctl bench: cannot create the mbuf pools\n", 1;
    pools.push_back(p);
  }
  const auto spec = compile(topo, 1);
  const auto t0 = std::chrono::steady_clock::now();
  auto ts = TableSet::build(spec, opt.workers, err);
  r.acl_build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ReplayPorts ports;
  if (!ts || !create_replay_ports(opt.workers, 4096, pools[0], ports, err))
    return std::cerr << "asenetctl bench: " << err << "\n", 1;
  r.acl_rules = ts->acl_rule_count();
  Scenario est;
  est.name = "topology";
  est.user = &r.traffic;
  est.use_frames = !opt.pcap.empty();
  est.flows = est.use_frames ? static_cast<unsigned>(r.traffic.frames.size()) : opt.flows;
  Scenario fresh = est;
  fresh.established = false;
  fresh.use_frames = false;
  fresh.flows = 0;
  const unsigned n = opt.workers;
  bool ok = run_workers(est, opt, *ts, ports, pools, n, est.flows + 1024, 0, r.est, err);
  if (ok && !r.traffic.flows.empty())
    ok = run_workers(fresh, opt, *ts, ports, pools, n, kNewFlowTable, 1, r.fresh, err);
  destroy_replay_ports(ports);
  if (!ok) return std::cerr << "asenetctl bench: " << err << "\n", 1;
  for (uint32_t id = 0; id < spec.nsg_rules.size(); ++id)
    if (const uint64_t h = ts->rule_hits_total(id); h > 0)
      r.hits.emplace_back(spec.nsgs[spec.nsg_rules[id].nsg].name + " " + spec.nsg_rules[id].arm_name(), h);
  std::sort(r.hits.begin(), r.hits.end(), [](auto& a, auto& b) { return a.second > b.second; });
  return 0;
}

}  // namespace

int run_topology_bench(const BenchOptions& opt) {
  Topology topo;
  try {
    topo = load_topology(opt.topology);
  } catch (const TopologyError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  for (const auto& w : topo.warnings) std::cerr << "warning: " << w << "\n";
  const auto spec = compile(topo, 1);
  UserTraffic traffic = traffic_from_topology(topo, spec);
  if (!opt.pcap.empty()) {
    std::string why;
    if (!traffic_from_pcap(opt.pcap, topo, traffic, why))
      return std::cerr << "asenetctl bench: --pcap " << why << "\n", 2;
  }
  if (traffic.flows.empty() && opt.pcap.empty()) {
    std::cerr << "asenetctl bench: " << opt.topology
              << " admits no connection on its paths (Internet to a VIP, on-premises to an ILB, instances out): "
                 "nothing to measure (give --pcap FILE)\n";
    return 1;
  }
  TopologyReport r{opt, traffic, 0, 0, 0, {}, {}, {}};
  for (const auto& n : topo.nsgs) r.user_rules += n.rules.size();
  const std::string prefix = "asenet-tbench-" + std::to_string(getpid());
  std::string err;
  if (!bench_eal(opt, kNewFlowTable, prefix, err)) return std::cerr << "asenetctl bench: " << err << "\n", 1;
  const int rc = measure(topo, r);
  if (rc == 0) print(r);
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all("/var/run/dpdk/" + prefix, ec);
  return rc;
}

}  // namespace asenet::control

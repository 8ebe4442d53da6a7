// asenetd: the live data plane. This file is the composition root and only
// wires the rooms together: the options (daemon/options), the topology
// (control/model) compiled by control/compiler, the devices (daemon/devices),
// the workers (dataplane/runtime), the agent that publishes generations and
// reads counters (daemon/agent), the control socket (protocol/) with its
// request handlers (daemon/handlers) and DPDK telemetry (daemon/telemetry).
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "control/report/summary.hpp"
#include "daemon/agent.hpp"
#include "daemon/devices.hpp"
#include "daemon/handlers.hpp"
#include "daemon/options.hpp"
#include "daemon/peers.hpp"
#include "daemon/metrics_http.hpp"
#include "daemon/telemetry.hpp"
#include "dataplane/ports/ports.hpp"
#include "dataplane/runtime/handover.hpp"
#include "dataplane/runtime/worker.hpp"
#include "protocol/control_socket.hpp"

namespace po = boost::program_options;
using namespace asenet;
using namespace asenet::dataplane;
using namespace asenet::control;
using namespace asenet::daemon;

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

/// EAL down, and its runtime folder (/var/run/dpdk/PREFIX) with it.
void eal_cleanup(const std::string& runtime_dir) {
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all(runtime_dir, ec);
}

/// One context, connection table and setup per worker, and the rings over
/// which they hand each other packets.
struct Workers {
  std::vector<std::unique_ptr<WorkerContext>> ctxs;
  std::vector<WorkerTables> tables;
  std::vector<WorkerSetup> setups;
  std::vector<rte_ring*> handoff;
};

bool make_workers(unsigned n, uint32_t flow_table_size, uint32_t idle_sleep_us,
                  const std::array<uint16_t, kNumPorts>& port_ids, const PoolMembership& members, rte_mempool* pool,
                  TableHandover& handover, Workers& out, std::string& err) {
  // Several workers: RSS picks a queue per flow direction, not per
  // connection, so each worker hands a packet to the worker that owns its
  // connection (steer_worker, docs/design/lb-nat.md) over these rings.
  if (n > 1) {
    out.handoff = make_handoff_rings("asenetd_ho", n, 4096, err);
    if (out.handoff.empty()) {
      err = "handoff rings: " + err;
      return false;
    }
  }
  out.setups.resize(n);
  for (unsigned w = 0; w < n; ++w) {
    WorkerTables tables;
    if (!make_worker_tables("asenetd_w" + std::to_string(w), flow_table_size, tables, err)) {
      err = "connection table: " + err + " (lower [emulator] flow_table_size or give EAL more -m)";
      return false;
    }
    auto c = std::make_unique<WorkerContext>();
    c->worker_id = w;
    attach_worker_tables(*c, tables, pool);
    out.tables.push_back(std::move(tables));
    c->tx_port_id = port_ids;
    c->tx_queue = static_cast<uint16_t>(w);
    c->clock = ClockMode::kTsc;
    c->tsc_hz = rte_get_tsc_hz();
    out.setups[w].ctx = c.get();
    for (size_t s = 0; s < kNumPorts; ++s)
      out.setups[w].sources.push_back(RxSource{port_ids[s], static_cast<uint16_t>(w), static_cast<Port>(s), false});
    // A pool: each worker polls its queue of every peer link too, and sends
    // other nodes' packets on its own queue of theirs (docs/design/scale-out.md).
    for (unsigned j = 0; j < members.nodes && members.nodes > 1; ++j)
      if (j != members.node)
        out.setups[w].sources.push_back(
            RxSource{members.peer_port[j], static_cast<uint16_t>(w), Port::kInternet, false, true});
    out.setups[w].pool = members.nodes > 1 ? &members : nullptr;
    out.setups[w].workers = n;
    out.setups[w].tables = &handover;
    out.setups[w].stop = &g_stop;
    out.setups[w].handoff = out.handoff;
    out.setups[w].idle_sleep_us = idle_sleep_us;
    out.ctxs.push_back(std::move(c));
  }
  return true;
}

/// Listens on --control-socket if given. Returns 0, or the exit code.
int open_socket(const po::variables_map& vm, ControlServer& server) {
  if (vm.count("control-socket") == 0) return 0;
  ControlServerOptions so;
  so.path = vm["control-socket"].as<std::string>();
  if (vm.count("control-group")) {
    so.group = lookup_group(vm["control-group"].as<std::string>());
    if (!so.group) {
      std::cerr << "asenetd: --control-group: no group '" << vm["control-group"].as<std::string>() << "'\n";
      return 2;
    }
  }
  if (std::string err; !server.listen(so, err)) {
    std::cerr << "asenetd: control socket: " << err << "\n";
    return 1;
  }
  return 0;
}

/// The main lcore until a signal or --duration: requests, probes, the live
/// trace, flow logs and telemetry every 200 ms.
void control_loop(const po::variables_map& vm, LiveDataplane& live, ControlServer& server, RequestHandlers& handlers) {
  const bool with_socket = vm.count("control-socket") > 0;
  const auto handle = [&](ControlServer::ClientId id, wire::Type type, std::string_view payload) {
    handlers.handle(id, type, payload);
  };
  const double duration = vm["duration"].as<double>();
  const bool probes = !vm["no-probes"].as<bool>();  // a pool's follower: health comes from its prober
  const auto start = std::chrono::steady_clock::now();
  auto last_refresh = start;
  while (!g_stop.load()) {
    if (with_socket)
      server.poll(live.tracing() || live.capturing() ? 5 : 20, handle);
    else
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (probes) live.probe_tick();
    live.expire_staged();
    handlers.pump_trace();
    handlers.pump_capture();
    const auto now = std::chrono::steady_clock::now();
    if (now - last_refresh >= std::chrono::milliseconds(200)) {
      if (std::string why; !live.pump_flow_logs(false, why)) std::cerr << "asenetd: flow logs: " << why << "\n";
      live.note_control(server.rejected(), server.malformed());
      live.refresh_neighbors();  // the probes' and telemetry's copy, at most 200 ms old
      live.refresh_telemetry();
      last_refresh = now;
    }
    if (duration > 0 && std::chrono::duration<double>(now - start).count() >= duration) g_stop.store(true);
  }
  if (live.tracing()) live.trace_stop();
  if (live.capturing()) live.capture_stop();
}

/// The final counters, as --summary writes them.
std::string final_summary(const LiveDataplane& live, const Workers& w) {
  const StatsSnapshot fin = live.snapshot();
  const WorkerCounters total = control::sum_counters(w.ctxs);
  std::ostringstream js;
  js << "{\"generation\":" << fin.generation << ",\"health_epoch\":" << fin.health_epoch
     << ",\"packets_in\":" << fin.packets_in << ",\"packets_in_by_port\":" << control::per_port_json(total.rx)
     << ",\"packets_forwarded\":" << total.forwarded << ",\"packets_out\":" << control::per_port_json(total.tx)
     << ",\"drops\":" << control::drops_json(total) << ",\"rule_hits\":" << control::rule_hits_json(fin.rule_hits)
     << ",\"flows_created\":" << total.flows_created << ",\"pushes\":" << fin.pushes << "}";
  return js.str();
}

/// Everything between the ports being up and the workers stopping.
int run(const po::variables_map& vm, const Topology& topo, unsigned n, const std::array<uint16_t, kNumPorts>& ports,
        const PoolMembership& members, rte_mempool* pool, const std::optional<ListenAddress>& metrics_at) {
  TableHandover handover(n);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  Workers workers;
  std::string err;
  if (!make_workers(n, topo.emulator.flow_table_size, vm["idle-sleep"].as<unsigned>(), ports, members, pool, handover,
                    workers, err)) {
    std::cerr << "asenetd: " << err << "\n";
    return 1;
  }
  LiveDataplane live(handover, workers.ctxs, workers.tables, ports, pool);
  live.set_pool(members.node, members.nodes);
  if (vm.count("flow-logs")) live.enable_flow_logs(vm["flow-logs"].as<std::string>());
  // Probes are always wired, so a push may add probe_port to an ASE.
  LiveDataplane::PublishResult first;
  if (!live.enable_probes(err) || !live.start(control::compile(topo, 0), first, err)) {
    std::cerr << "asenetd: " << err << "\n";
    return 1;
  }
  live.refresh_telemetry();
  register_telemetry(live);
  MetricsServer metrics;
  if (std::string why; metrics_at && !metrics.start(*metrics_at, live, why)) {
    std::cerr << "asenetd: --metrics-listen: " << why << "\n";
    unregister_telemetry();
    return 1;
  }
  ControlServer server;
  if (const int rc = open_socket(vm, server); rc != 0) return rc;
  unsigned w = 0, lcore = 0;
  RTE_LCORE_FOREACH_WORKER(lcore) {
    if (w < n) rte_eal_remote_launch(worker_main, &workers.setups[w++], lcore);
  }
  std::cerr << "asenetd: generation " << handover.generation() << " live on " << n << " worker" << (n > 1 ? "s" : "")
            << (members.nodes > 1 ? ", node " + std::to_string(members.node) + " of " + std::to_string(members.nodes)
                                  : std::string())
            << (vm.count("control-socket") ? ", control socket " + vm["control-socket"].as<std::string>() : "") << "\n";
  RequestHandlers handlers(
      live, server, handover,
      StartSettings{
          {topo.ports.internet, topo.ports.vnet, topo.ports.onprem}, topo.emulator.flow_table_size, topo.emulator.mtu});
  control_loop(vm, live, server, handlers);
  rte_eal_mp_wait_lcore();
  int rc = 0;
  if (std::string why; !live.pump_flow_logs(true, why)) {
    std::cerr << "asenetd: flow logs: " << why << "\n";
    rc = 1;
  }
  const std::string summary = final_summary(live, workers);
  std::cerr << "asenetd: stopped: " << summary << "\n";
  if (vm.count("summary")) {
    std::ofstream f(vm["summary"].as<std::string>(), std::ios::trunc);
    f << summary << "\n";
    if (!f) rc = 1;
  }
  metrics.stop();
  unregister_telemetry();
  for (uint16_t p : ports) {
    rte_eth_dev_stop(p);
    rte_eth_dev_close(p);
  }
  for (unsigned j = 0; j < members.nodes && members.nodes > 1; ++j) {
    if (j == members.node) continue;
    rte_eth_dev_stop(members.peer_port[j]);
    rte_eth_dev_close(members.peer_port[j]);
  }
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  // Options and topology first: a mistake is one line, before EAL says anything.
  int eal_argc = 0, exit_code = 0;
  const auto vm = parse_command_line(argc, argv, eal_argc, exit_code);
  if (!vm) return exit_code;
  control::Topology topo;
  try {
    topo = control::load_topology((*vm)["topology"].as<std::string>());
  } catch (const control::TopologyError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  std::optional<ListenAddress> metrics_at;
  if (vm->count("metrics-listen")) {
    std::string why;
    metrics_at = parse_listen_address((*vm)["metrics-listen"].as<std::string>(), why);
    if (!metrics_at) {
      std::cerr << "asenetd: --metrics-listen: " << why << "\n";
      return 2;
    }
  }
  std::string peer_error;
  const auto peers = parse_peers(
      vm->count("node") ? std::optional<unsigned>((*vm)["node"].as<unsigned>()) : std::nullopt,
      vm->count("peer") ? (*vm)["peer"].as<std::vector<std::string>>() : std::vector<std::string>{}, peer_error);
  if (!peers) {
    std::cerr << "asenetd: " << peer_error << "\n";
    return 2;
  }
  if (rte_eal_init(eal_argc, argv) < 0) {
    std::cerr << "asenetd: rte_eal_init failed: " << rte_strerror(rte_errno) << "\n";
    return 2;
  }
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  for (const auto& w : topo.warnings) std::cerr << "warning: " << w << "\n";
  const unsigned worker_lcores = rte_lcore_count() - 1;
  const unsigned workers = vm->count("workers") ? (*vm)["workers"].as<unsigned>() : worker_lcores;
  if (worker_lcores == 0 || workers == 0 || workers > worker_lcores) {
    std::cerr << "asenetd: " << workers << " workers need as many worker lcores; EAL has " << worker_lcores
              << " (give e.g. -l 0-" << std::max(1u, workers) << ")\n";
    eal_cleanup(runtime_dir);
    return 2;
  }
  std::array<uint16_t, kNumPorts> ports{};
  if (std::string err; !attach_ports(topo, ports, err)) {
    std::cerr << err << "\n";
    eal_cleanup(runtime_dir);
    return 2;
  }
  const unsigned nb_mbufs = vm->count("mbufs") ? (*vm)["mbufs"].as<unsigned>()
                                               : (kNumPorts + peers->nodes - 1) * workers * 2048 + workers * 512 + 4096;
  rte_mempool* pool =
      rte_pktmbuf_pool_create("asenetd_pool", nb_mbufs, 256, 0, data_room_for_mtu(topo.emulator.mtu), rte_socket_id());
  if (pool == nullptr) {
    std::cerr << "asenetd: cannot create the mbuf pool (" << nb_mbufs << " mbufs): " << rte_strerror(rte_errno)
              << "; give EAL more memory (-m)\n";
    eal_cleanup(runtime_dir);
    return 1;
  }
  for (size_t s = 0; s < kNumPorts; ++s) {
    if (std::string err; !setup_port(ports[s], static_cast<uint16_t>(workers), pool, err) ||
                         !set_port_mtu(ports[s], static_cast<uint16_t>(topo.emulator.mtu), err)) {
      std::cerr << "asenetd: port " << port_name(static_cast<Port>(s)) << ": " << err << "\n";
      eal_cleanup(runtime_dir);
      return 1;
    }
  }
  PoolMembership members;
  if (std::string err;
      !attach_peers(*peers, workers, static_cast<uint16_t>(topo.emulator.mtu), ports, pool, members, err)) {
    std::cerr << "asenetd: " << err << "\n";
    rte_mempool_free(pool);
    eal_cleanup(runtime_dir);
    return 2;
  }
  const int rc = run(*vm, topo, workers, ports, members, pool, metrics_at);
  rte_mempool_free(pool);
  eal_cleanup(runtime_dir);
  return rc;
}

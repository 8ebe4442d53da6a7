// asenetd: the live data plane. This file is the composition root: it compiles
// the topology with control/ and hands the TableSpec to the data plane library,
// which itself never includes control/, toml++ or Boost.
#include <boost/program_options.hpp>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "control/compile.hpp"
#include "control/json.hpp"
#include "control/summary.hpp"
#include "control/topology.hpp"
#include "dataplane/ports/ports.hpp"
#include "dataplane/runtime/handover.hpp"
#include "dataplane/runtime/worker.hpp"

namespace po = boost::program_options;
using namespace asenet;
using namespace asenet::dataplane;

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

po::options_description options() {
  po::options_description d(R"(usage: asenetd [EAL args] -- --topology T [options]

The asenet data plane. EAL arguments come first (e.g. -l 0-1 --no-huge
--file-prefix NAME --vdev ...). The topology's [ports] table names the device of
each side (internet, vnet, onprem): a vdev string that asenetd probes itself
(net_pcap0,rx_pcap=in.pcap,tx_pcap=out.pcap / net_null0 / net_tap0,iface=tap0),
the name of a device EAL already probed (a PCI address, a --vdev name), or
tap:NAME. One worker per worker lcore polls one queue of every port; the main
lcore stays free for control. SIGINT/SIGTERM stop cleanly.

options)");
  d.add_options()
      ("help,h", "show this help")
      ("topology", po::value<std::string>()->required(), "topology file (TOML, contract section 2)")
      ("workers", po::value<unsigned>(), "worker count (default: every worker lcore)")
      ("duration", po::value<double>()->default_value(0), "stop after this many seconds (0: run until a signal)")
      ("summary", po::value<std::string>(), "write the final counters as JSON to this file on exit");
  return d;
}

/// Finds or probes the device for one side; returns its port id or -1.
int attach_port(const std::string& spec, std::string& error) {
  std::string devargs = spec;
  if (spec.rfind("tap:", 0) == 0) devargs = "net_tap_" + spec.substr(4) + ",iface=" + spec.substr(4);
  const std::string name = devargs.substr(0, devargs.find(','));
  uint16_t port = 0;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port) == 0) return port;
  if (rte_dev_probe(devargs.c_str()) != 0) {
    error = "cannot probe device '" + devargs + "': " + rte_strerror(rte_errno);
    return -1;
  }
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0) {
    error = "device '" + devargs + "' was probed but has no ethdev named '" + name + "'";
    return -1;
  }
  return port;
}

}  // namespace

int main(int argc, char** argv) {
  // --help must work without starting EAL.
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::cout << options() << "\n";
      return 0;
    }
  }
  const int consumed = rte_eal_init(argc, argv);
  if (consumed < 0) {
    std::cerr << "asenetd: rte_eal_init failed: " << rte_strerror(rte_errno) << "\n";
    return 2;
  }
  std::vector<std::string> rest(argv + consumed + 1, argv + argc);
  po::variables_map vm;
  auto desc = options();
  try {
    po::store(po::command_line_parser(rest).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "asenetd: " << e.what() << " (try asenetd --help)\n";
    rte_eal_cleanup();
    return 2;
  }
  control::Topology topo;
  try {
    topo = control::load_topology(vm["topology"].as<std::string>());
  } catch (const control::TopologyError& e) {
    std::cerr << e.what() << "\n";
    rte_eal_cleanup();
    return 2;
  }
  for (const auto& w : topo.warnings) std::cerr << "warning: " << w << "\n";

  const unsigned worker_lcores = rte_lcore_count() - 1;
  unsigned workers = vm.count("workers") ? vm["workers"].as<unsigned>() : worker_lcores;
  if (worker_lcores == 0 || workers == 0 || workers > worker_lcores) {
    std::cerr << "asenetd: " << workers << " workers need as many worker lcores; EAL has " << worker_lcores
              << " (give e.g. -l 0-" << std::max(1u, workers) << ")\n";
    rte_eal_cleanup();
    return 2;
  }

  std::array<const std::optional<std::string>*, kNumPorts> specs = {&topo.ports.internet, &topo.ports.vnet,
                                                                     &topo.ports.onprem};
  std::array<uint16_t, kNumPorts> port_ids{};
  std::string err;
  for (size_t s = 0; s < kNumPorts; ++s) {
    if (!specs[s]->has_value()) {
      std::cerr << topo.file << ": ports." << port_name(static_cast<Port>(s))
                << ": missing; live mode needs a device for every side (net_null0 for an unused one)\n";
      rte_eal_cleanup();
      return 2;
    }
    const int p = attach_port(**specs[s], err);
    if (p < 0) {
      std::cerr << topo.file << ": ports." << port_name(static_cast<Port>(s)) << ": " << err << "\n";
      rte_eal_cleanup();
      return 2;
    }
    for (size_t o = 0; o < s; ++o) {
      if (port_ids[o] == p) {
        std::cerr << topo.file << ": ports." << port_name(static_cast<Port>(s)) << ": device is already side "
                  << port_name(static_cast<Port>(o)) << "\n";
        rte_eal_cleanup();
        return 2;
      }
    }
    port_ids[s] = static_cast<uint16_t>(p);
  }

  const unsigned nb_mbufs = kNumPorts * workers * 2048 + workers * 512 + 4096;
  rte_mempool* pool = rte_pktmbuf_pool_create("asenetd_pool", nb_mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                              rte_socket_id());
  if (pool == nullptr) {
    std::cerr << "asenetd: cannot create the mbuf pool (" << nb_mbufs << " mbufs): " << rte_strerror(rte_errno)
              << "; give EAL more memory (-m)\n";
    rte_eal_cleanup();
    return 1;
  }
  for (size_t s = 0; s < kNumPorts; ++s) {
    if (!setup_port(port_ids[s], static_cast<uint16_t>(workers), pool, err)) {
      std::cerr << "asenetd: port " << port_name(static_cast<Port>(s)) << ": " << err << "\n";
      rte_eal_cleanup();
      return 1;
    }
  }

  int rc = 0;
  {
    TableHandover handover(workers);
    auto tables = TableSet::build(control::compile(topo, 1), workers, err);
    if (!tables) {
      std::cerr << "asenetd: building tables: " << err << "\n";
      return 1;
    }
    handover.publish(std::move(tables));

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    std::vector<std::unique_ptr<WorkerContext>> ctxs;
    std::vector<WorkerTables> worker_tables;
    if (workers > 1 && !topo.ases.empty())
      std::cerr << "asenetd: warning: with " << workers << " workers, NIC RSS does not keep both directions of a "
                << "NATed flow on one worker (replay steers them; live steering is not built yet): use one worker\n";
    std::vector<WorkerSetup> setups(workers);
    for (unsigned w = 0; w < workers; ++w) {
      WorkerTables tables;
      if (!make_worker_tables("asenetd_w" + std::to_string(w), topo.emulator.flow_table_size, tables, err)) {
        std::cerr << "asenetd: connection table: " << err
                  << " (lower [emulator] flow_table_size or give EAL more -m)\n";
        return 1;
      }
      auto c = std::make_unique<WorkerContext>();
      c->flows = tables.flows.get();
      c->snat = tables.snat.get();
      c->pool = pool;
      tables.flows->set_idle_hook(send_idle_resets, c.get());
      worker_tables.push_back(std::move(tables));
      c->worker_id = w;
      c->tx_port_id = port_ids;
      c->tx_queue = static_cast<uint16_t>(w);
      c->clock = ClockMode::kTsc;
      c->tsc_hz = rte_get_tsc_hz();
      setups[w].ctx = c.get();
      for (size_t s = 0; s < kNumPorts; ++s)
        setups[w].sources.push_back(RxSource{port_ids[s], static_cast<uint16_t>(w), static_cast<Port>(s), false});
      setups[w].tables = &handover;
      setups[w].stop = &g_stop;
      ctxs.push_back(std::move(c));
    }
    unsigned w = 0;
    unsigned lcore;
    RTE_LCORE_FOREACH_WORKER(lcore) {
      if (w < workers) rte_eal_remote_launch(worker_main, &setups[w++], lcore);
    }
    std::cerr << "asenetd: generation " << handover.generation() << " live on " << workers << " worker"
              << (workers > 1 ? "s" : "") << "\n";

    const double duration = vm["duration"].as<double>();
    const auto start = std::chrono::steady_clock::now();
    while (!g_stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      if (duration > 0 && std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= duration)
        g_stop.store(true);
    }
    rte_eal_mp_wait_lcore();

    const WorkerCounters total = control::sum_counters(ctxs);
    uint64_t in = 0;
    for (auto v : total.rx) in += v;
    std::ostringstream js;
    js << "{\"generation\":" << handover.generation() << ",\"packets_in\":" << in
       << ",\"packets_in_by_port\":" << control::per_port_json(total.rx) << ",\"packets_forwarded\":" << total.forwarded
       << ",\"packets_out\":" << control::per_port_json(total.tx) << ",\"drops\":" << control::drops_json(total)
       << ",\"rule_hits\":" << control::rule_hits_json(*handover.acquire()) << ",\"flows_created\":" << total.flows_created
       << "}";
    std::cerr << "asenetd: stopped: " << js.str() << "\n";
    if (vm.count("summary")) {
      std::ofstream f(vm["summary"].as<std::string>(), std::ios::trunc);
      f << js.str() << "\n";
      if (!f) rc = 1;
    }
    for (uint16_t p : port_ids) {
      rte_eth_dev_stop(p);
      rte_eth_dev_close(p);
    }
  }
  rte_mempool_free(pool);
  rte_eal_cleanup();
  return rc;
}

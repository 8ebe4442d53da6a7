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
#include <rte_telemetry.h>
#include <rte_version.h>

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cerrno>
#include <filesystem>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "control/compile.hpp"
#include "control/control_socket.hpp"
#include "control/json.hpp"
#include "control/live.hpp"
#include "control/names.hpp"
#include "control/spec_diff.hpp"
#include "control/summary.hpp"
#include "control/topology.hpp"
#include "control/wire.hpp"
#include "dataplane/ports/ports.hpp"
#include "dataplane/runtime/handover.hpp"
#include "dataplane/runtime/worker.hpp"

namespace po = boost::program_options;
using namespace asenet;
using namespace asenet::dataplane;
using namespace asenet::control;

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
tap:NAME. One worker per worker lcore polls one queue of every port (RSS
spreads flows over the workers); with several workers each packet is handed to
the worker that owns its connection, so both directions of a NATed flow meet
one flow table and SNAT pool. The main lcore runs the control loop: the
control socket (asenetctl push / stats / trace / health) and the DPDK telemetry
commands /asenet/stats, /asenet/ports, /asenet/drops, /asenet/rule_hits and
/asenet/snat (read them with dpdk-telemetry.py), and the active health probes
of ASEs with probe_port. With [l2] arp = true it answers ARP and resolves its
next hops' MACs, for real hosts (scripts/lab). SIGINT/SIGTERM stop cleanly,
and a clean stop leaves no /var/run/dpdk/PREFIX behind.

asenetd's own options come after `--` and are checked, with the topology,
before EAL starts. On a machine with PCI NICs that other programs use, give
EAL --no-pci (or -a ADDRESS for the NICs asenetd may take). A TAP device
(tap:NAME) needs root or CAP_NET_ADMIN. A net_null device without no-rx=1
floods the worker with empty frames (each dropped as malformed): asenetd
warns.

options)");
  d.add_options()
      ("help,h", "show this help")
      ("version", "print asenetd's and DPDK's versions")
      ("topology", po::value<std::string>()->required(), "topology file (TOML, contract section 2)")
      ("workers", po::value<unsigned>(), "worker count (default: every worker lcore)")
      ("control-socket", po::value<std::string>(), "listen for asenetctl on this unix socket (created mode 0600)")
      ("control-group", po::value<std::string>(), "also let this group use the control socket (mode 0660)")
      ("flow-logs", po::value<std::string>(), "write NSG flow logs (version 2) of NSGs with flow_logs = true under this "
                                              "directory, one file per NSG and minute")
      ("mbufs", po::value<unsigned>(), "mbufs in the pool (default: enough for every queue's descriptors; a pcap "
                                        "vdev with infinite_rx needs one per packet of its capture as well)")
      ("duration", po::value<double>()->default_value(0), "stop after this many seconds (0: run until a signal)")
      ("summary", po::value<std::string>(), "write the final counters as JSON to this file on exit");
  return d;
}

/// Finds or probes the device for one side; returns its port id or -1.
/// Whether this process may create TAP devices: root or CAP_NET_ADMIN (bit 12
/// of the effective set), and /dev/net/tun opens. False with the reason.
bool can_make_taps(std::string& error) {
  bool admin = ::geteuid() == 0;
  if (!admin) {
    std::ifstream st("/proc/self/status");
    std::string line;
    while (std::getline(st, line))
      if (line.rfind("CapEff:", 0) == 0) admin = (std::stoull(line.substr(7), nullptr, 16) >> 12 & 1) != 0;
  }
  if (!admin) {
    error = "a TAP device needs root or CAP_NET_ADMIN; asenetd runs as uid " + std::to_string(::geteuid()) +
            " without it (run it as root, or give the binary cap_net_admin)";
    return false;
  }
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    error = std::string("cannot open /dev/net/tun for a TAP device: ") + std::strerror(errno);
    return false;
  }
  ::close(fd);
  return true;
}

int attach_port(const std::string& spec, std::string& error) {
  std::string devargs = spec;
  if (spec.rfind("tap:", 0) == 0) devargs = "net_tap_" + spec.substr(4) + ",iface=" + spec.substr(4);
  const std::string name = devargs.substr(0, devargs.find(','));
  uint16_t port = 0;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port) == 0) return port;
  if ((name.rfind("net_tap", 0) == 0 || name.rfind("net_tun", 0) == 0) && !can_make_taps(error)) return -1;
  if (name.rfind("net_null", 0) == 0 && devargs.find("no-rx=1") == std::string::npos)
    std::cerr << "warning: " << spec << ": a net_null device without no-rx=1 receives endless empty frames, "
              << "each dropped as malformed; add no-rx=1 for a side that only sends\n";
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


LiveDataplane* g_live = nullptr;

/// Telemetry names may hold letters, digits, '_' and '/' only (DPDK rejects
/// others): every other character becomes '_' ("10.0.1.4" -> "10_0_1_4",
/// "ase-nsg/AllowHttps" -> "ase_nsg/AllowHttps"), cut below 128 bytes.
std::string tel_name(std::string_view in) {
  std::string s(in.substr(0, RTE_TEL_MAX_STRING_LEN - 1));
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '/') c = '_';
  return s;
}  // read by telemetry callbacks (through its mutex-guarded copy)

int tel_stats(const char*, const char*, rte_tel_data* d) {
  const StatsSnapshot s = g_live->telemetry_copy();
  rte_tel_data_start_dict(d);
  rte_tel_data_add_dict_u64(d, "generation", s.generation);
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
  const StatsSnapshot s = g_live->telemetry_copy();
  rte_tel_data_start_dict(d);
  for (size_t r = 1; r < s.drops.size(); ++r)
    rte_tel_data_add_dict_u64(d, std::string(drop_reason_name(static_cast<DropReason>(r))).c_str(), s.drops[r]);
  return 0;
}

int tel_rule_hits(const char*, const char*, rte_tel_data* d) {
  // A telemetry dict holds at most RTE_TEL_MAX_DICT_ENTRIES (256) entries of
  // names below 128 bytes: the busiest rules first (stats --json has them all).
  const StatsSnapshot s = g_live->telemetry_copy();
  std::vector<std::pair<std::string, uint64_t>> v(s.rule_hits.begin(), s.rule_hits.end());
  std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  rte_tel_data_start_dict(d);
  size_t n = 0;
  for (const auto& [k, c] : v) {
    if (n++ == RTE_TEL_MAX_DICT_ENTRIES) break;
    rte_tel_data_add_dict_u64(d, tel_name(k).c_str(), c);
  }
  return 0;
}

int tel_snat(const char*, const char*, rte_tel_data* d) {
  const StatsSnapshot s = g_live->telemetry_copy();
  rte_tel_data_start_dict(d);
  size_t n = 0;
  for (const auto& i : s.instances) {
    if (n++ == RTE_TEL_MAX_DICT_ENTRIES) break;
    rte_tel_data_add_dict_u64(d, tel_name(format_ipv4(i.ip)).c_str(), i.snat_ports_in_use);
  }
  return 0;
}

void register_telemetry() {
  rte_telemetry_register_cmd("/asenet/stats", tel_stats, "Generation, packets, flows. No parameters");
  rte_telemetry_register_cmd("/asenet/ports", tel_ports, "Per side rx, tx, device drops. No parameters");
  rte_telemetry_register_cmd("/asenet/drops", tel_drops, "Drops by reason. No parameters");
  rte_telemetry_register_cmd("/asenet/rule_hits", tel_rule_hits, "New flows per NSG rule. No parameters");
  rte_telemetry_register_cmd("/asenet/snat", tel_snat, "SNAT ports in use per instance. No parameters");
}

std::string publish_json(const LiveDataplane::PublishResult& r) {
  std::ostringstream o;
  o << "{\"generation\":" << r.generation << ",\"previous\":" << r.previous << ",\"acl_rules\":" << r.acl_rules
    << ",\"build_ms\":" << r.build_ms << ",\"swap_ms\":" << r.swap_ms << "}";
  return o.str();
}

/// Turns a trace request into a filter; throws std::exception with a message.
TraceFilter trace_filter(const nlohmann::json& j) {
  TraceFilter f;
  auto ip = [](const nlohmann::json& v, const char* what) {
    const auto c = parse_cidr(v.get<std::string>() + "/32");
    if (!c.cidr) throw std::runtime_error(std::string(what) + ": not an IPv4 address");
    return c.cidr->addr;
  };
  if (j.contains("port")) {
    const auto name = j["port"].get<std::string>();
    f.ports = 0;
    for (size_t p = 0; p < kNumPorts; ++p)
      if (name == port_name(static_cast<Port>(p))) f.ports = static_cast<uint8_t>(1u << p);
    if (f.ports == 0) throw std::runtime_error("port: must be internet, vnet or onprem");
  }
  if (j.contains("src")) { f.match_src = true; f.src = ip(j["src"], "src"); }
  if (j.contains("dst")) { f.match_dst = true; f.dst = ip(j["dst"], "dst"); }
  if (j.contains("sport")) { f.match_sport = true; f.sport = j["sport"].get<uint16_t>(); }
  if (j.contains("dport")) { f.match_dport = true; f.dport = j["dport"].get<uint16_t>(); }
  if (j.contains("proto")) { f.match_proto = true; f.proto = j["proto"].get<uint8_t>(); }
  return f;
}

}  // namespace

int main(int argc, char** argv) {
  // asenetd's own options and the topology are checked before EAL starts, so
  // a mistake is one line, not EAL's start-up chatter or its usage text.
  int dashdash = -1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      dashdash = i;
      break;
    }
  }
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::cout << options() << "\n";
      return 0;
    }
    if (std::strcmp(argv[i], "--version") == 0) {
      std::cout << "asenetd " << ASENET_VERSION << " (" << rte_version() << ")\n";
      return 0;
    }
  }
  auto desc = options();
  if (dashdash < 0) {
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      if (a.rfind("--", 0) == 0 && desc.find_nothrow(a.substr(2, a.find('=') - 2), false) != nullptr) {
        std::cerr << "asenetd: " << a << " is asenetd's option: put asenetd's options after `--` "
                  << "(asenetd [EAL args] -- --topology T ...)\n";
        return 2;
      }
    }
    std::cerr << "asenetd: no `--` and no --topology: asenetd [EAL args] -- --topology T [options] "
              << "(try asenetd --help)\n";
    return 2;
  }
  std::vector<std::string> rest(argv + dashdash + 1, argv + argc);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(rest).options(desc).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "asenetd: " << e.what() << " (try asenetd --help)\n";
    return 2;
  }
  control::Topology topo;
  try {
    topo = control::load_topology(vm["topology"].as<std::string>());
  } catch (const control::TopologyError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  const int consumed = rte_eal_init(dashdash, argv);
  if (consumed < 0) {
    std::cerr << "asenetd: rte_eal_init failed: " << rte_strerror(rte_errno) << "\n";
    return 2;
  }
  // The runtime folder (/var/run/dpdk/PREFIX) is removed on a clean stop.
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  auto eal_cleanup = [&] {
    rte_eal_cleanup();
    std::error_code ec;
    std::filesystem::remove_all(runtime_dir, ec);
  };
  for (const auto& w : topo.warnings) std::cerr << "warning: " << w << "\n";

  const unsigned worker_lcores = rte_lcore_count() - 1;
  unsigned workers = vm.count("workers") ? vm["workers"].as<unsigned>() : worker_lcores;
  if (worker_lcores == 0 || workers == 0 || workers > worker_lcores) {
    std::cerr << "asenetd: " << workers << " workers need as many worker lcores; EAL has " << worker_lcores
              << " (give e.g. -l 0-" << std::max(1u, workers) << ")\n";
    eal_cleanup();
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
      eal_cleanup();
      return 2;
    }
    const int p = attach_port(**specs[s], err);
    if (p < 0) {
      std::cerr << topo.file << ": ports." << port_name(static_cast<Port>(s)) << ": " << err << "\n";
      eal_cleanup();
      return 2;
    }
    for (size_t o = 0; o < s; ++o) {
      if (port_ids[o] == p) {
        std::cerr << topo.file << ": ports." << port_name(static_cast<Port>(s)) << ": device is already side "
                  << port_name(static_cast<Port>(o)) << "\n";
        eal_cleanup();
        return 2;
      }
    }
    port_ids[s] = static_cast<uint16_t>(p);
  }

  const unsigned nb_mbufs =
      vm.count("mbufs") ? vm["mbufs"].as<unsigned>() : kNumPorts * workers * 2048 + workers * 512 + 4096;
  rte_mempool* pool = rte_pktmbuf_pool_create("asenetd_pool", nb_mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                              rte_socket_id());
  if (pool == nullptr) {
    std::cerr << "asenetd: cannot create the mbuf pool (" << nb_mbufs << " mbufs): " << rte_strerror(rte_errno)
              << "; give EAL more memory (-m)\n";
    eal_cleanup();
    return 1;
  }
  for (size_t s = 0; s < kNumPorts; ++s) {
    if (!setup_port(port_ids[s], static_cast<uint16_t>(workers), pool, err)) {
      std::cerr << "asenetd: port " << port_name(static_cast<Port>(s)) << ": " << err << "\n";
      eal_cleanup();
      return 1;
    }
  }

  int rc = 0;
  {
    TableHandover handover(workers);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    std::vector<std::unique_ptr<WorkerContext>> ctxs;
    std::vector<WorkerTables> worker_tables;
    // Several workers: RSS picks a queue per flow direction, not per
    // connection, so each worker hands a packet to the worker that owns its
    // connection (steer_worker, docs/design/lb-nat.md) over these rings.
    std::vector<rte_ring*> handoff;
    if (workers > 1) {
      handoff = make_handoff_rings("asenetd_ho", workers, 4096, err);
      if (handoff.empty()) {
        std::cerr << "asenetd: handoff rings: " << err << "\n";
        return 1;
      }
    }
    std::vector<WorkerSetup> setups(workers);
    for (unsigned w = 0; w < workers; ++w) {
      WorkerTables tables;
      if (!make_worker_tables("asenetd_w" + std::to_string(w), topo.emulator.flow_table_size, tables, err)) {
        std::cerr << "asenetd: connection table: " << err
                  << " (lower [emulator] flow_table_size or give EAL more -m)\n";
        return 1;
      }
      auto c = std::make_unique<WorkerContext>();
      c->worker_id = w;
      attach_worker_tables(*c, tables, pool);
      worker_tables.push_back(std::move(tables));
      c->tx_port_id = port_ids;
      c->tx_queue = static_cast<uint16_t>(w);
      c->clock = ClockMode::kTsc;
      c->tsc_hz = rte_get_tsc_hz();
      setups[w].ctx = c.get();
      for (size_t s = 0; s < kNumPorts; ++s)
        setups[w].sources.push_back(RxSource{port_ids[s], static_cast<uint16_t>(w), static_cast<Port>(s), false});
      setups[w].tables = &handover;
      setups[w].stop = &g_stop;
      setups[w].handoff = handoff;
      ctxs.push_back(std::move(c));
    }
    LiveDataplane live(handover, ctxs, worker_tables, port_ids, pool);
    if (vm.count("flow-logs")) live.enable_flow_logs(vm["flow-logs"].as<std::string>());
    // Probes are always wired, so a push may add probe_port to an ASE.
    if (!live.enable_probes(err)) {
      std::cerr << "asenetd: health probes: " << err << "\n";
      return 1;
    }
    LiveDataplane::PublishResult first;
    if (!live.publish(control::compile(topo, 0), first, err)) {
      std::cerr << "asenetd: " << err << "\n";
      return 1;
    }
    live.refresh_telemetry();
    g_live = &live;
    register_telemetry();

    ControlServer server;
    const bool with_socket = vm.count("control-socket") > 0;
    if (with_socket) {
      ControlServerOptions so;
      so.path = vm["control-socket"].as<std::string>();
      if (vm.count("control-group")) {
        so.group = lookup_group(vm["control-group"].as<std::string>());
        if (!so.group) {
          std::cerr << "asenetd: --control-group: no group '" << vm["control-group"].as<std::string>() << "'\n";
          return 2;
        }
      }
      if (!server.listen(so, err)) {
        std::cerr << "asenetd: control socket: " << err << "\n";
        return 1;
      }
    }

    unsigned w = 0;
    unsigned lcore;
    RTE_LCORE_FOREACH_WORKER(lcore) {
      if (w < workers) rte_eal_remote_launch(worker_main, &setups[w++], lcore);
    }
    std::cerr << "asenetd: generation " << handover.generation() << " live on " << workers << " worker"
              << (workers > 1 ? "s" : "")
              << (with_socket ? ", control socket " + vm["control-socket"].as<std::string>() : std::string()) << "\n";

    ControlServer::ClientId tracer = 0;
    // What only takes effect at start: a push must not claim to change it.
    const std::array<std::optional<std::string>, kNumPorts> start_ports = {topo.ports.internet, topo.ports.vnet,
                                                                          topo.ports.onprem};
    const uint32_t start_flow_table_size = topo.emulator.flow_table_size;
    auto refuse_push = [&](ControlServer::ClientId id, const std::string& why) {
      live.note_push_failed();
      server.send(id, wire::Type::kError, why);
      std::cerr << "asenetd: push refused: " << why << "\n";
    };
    auto handle = [&](ControlServer::ClientId id, wire::Type type, std::string_view payload) {
      try {
        switch (type) {
          case wire::Type::kPushPlan: {
            std::string_view hdr_text, spec_bytes;
            std::string why;
            if (!wire::split_push(payload, hdr_text, spec_bytes, why)) return refuse_push(id, why);
            const auto hdr = nlohmann::json::parse(hdr_text);
            const std::string file = hdr.value("file", std::string("the pushed topology"));
            const auto& start = hdr.at("start");
            if (start.contains("ports")) {
              for (size_t p = 0; p < kNumPorts; ++p) {
                const std::string side(port_name(static_cast<Port>(p)));
                if (!start["ports"].contains(side)) continue;  // [ports] is optional in a push
                const std::string want = start["ports"][side].get<std::string>();
                if (!start_ports[p] || *start_ports[p] != want)
                  return refuse_push(id, file + ": ports." + side + " = " + quote(want, 80) +
                                             " takes effect only when asenetd starts; it runs with " +
                                             (start_ports[p] ? quote(*start_ports[p], 80) : std::string("none")) +
                                             " (restart asenetd to change devices)");
              }
            }
            if (start.contains("flow_table_size") &&
                start["flow_table_size"].get<uint32_t>() != start_flow_table_size)
              return refuse_push(id, file + ": emulator.flow_table_size = " +
                                         std::to_string(start["flow_table_size"].get<uint32_t>()) +
                                         " takes effect only when asenetd starts; it runs with " +
                                         std::to_string(start_flow_table_size) + " (restart asenetd to change it)");
            TableSpec spec;
            if (!wire::decode_spec(spec_bytes, spec, why)) return refuse_push(id, why);
            const TableSpec& running = live.spec();
            if (spec.l2.arp != running.l2.arp && !hdr.value("allow_l2_change", false))
              return refuse_push(id, file + ": [l2] arp = " + (spec.l2.arp ? "true" : "false") +
                                         " would turn ARP answering " + (spec.l2.arp ? "on" : "off") +
                                         "; asenetd runs with it " + (running.l2.arp ? "on" : "off") +
                                         (running.l2.arp ? " and its hosts would lose their neighbours" : "") +
                                         " (push with --allow-l2-change to do it anyway)");
            nlohmann::json changes = nlohmann::json::array();
            for (const auto& c : describe_changes(running, spec)) changes.push_back(c);
            if (hdr.value("dry_run", false)) {
              const uint64_t g = handover.generation();
              const nlohmann::json r = {{"generation", g}, {"previous", g}, {"acl_rules", 0}, {"build_ms", 0.0},
                                        {"swap_ms", 0.0}, {"changes", changes}, {"dry_run", true}};
              server.send(id, wire::Type::kOk, r.dump());
              return;
            }
            LiveDataplane::PublishResult r;
            if (!live.push(std::move(spec), r, why)) {
              server.send(id, wire::Type::kError, why);
              std::cerr << "asenetd: push refused: " << why << "\n";
              return;
            }
            std::cerr << "asenetd: generation " << r.generation << " live (" << r.acl_rules << " ACL rules, built in "
                      << r.build_ms << " ms, swapped in " << r.swap_ms << " ms)\n";
            for (const auto& c : changes) std::cerr << "asenetd:   " << c.get<std::string>() << "\n";
            auto reply = nlohmann::json::parse(publish_json(r));
            reply["changes"] = changes;
            reply["dry_run"] = false;
            server.send(id, wire::Type::kOk, reply.dump());
            return;
          }
          case wire::Type::kPush: {
            TableSpec spec;
            std::string why;
            LiveDataplane::PublishResult r;
            bool decoded = wire::decode_spec(payload, spec, why);
            if (!decoded || !live.push(std::move(spec), r, why)) {
              if (!decoded) live.note_push_failed();
              server.send(id, wire::Type::kError, why);
              std::cerr << "asenetd: push refused: " << why << "\n";
              return;
            }
            std::cerr << "asenetd: generation " << r.generation << " live (" << r.acl_rules << " ACL rules, built in "
                      << r.build_ms << " ms, swapped in " << r.swap_ms << " ms)\n";
            server.send(id, wire::Type::kOk, publish_json(r));
            return;
          }
          case wire::Type::kStats: {
            const auto j = payload.empty() ? nlohmann::json::object() : nlohmann::json::parse(payload);
            const std::string format = j.value("format", "json");
            live.note_control(server.rejected(), server.malformed());
            const StatsSnapshot snap = live.snapshot();
            if (format == "json") server.send(id, wire::Type::kOk, stats_json(snap));
            else if (format == "prometheus") server.send(id, wire::Type::kOk, stats_prometheus(snap));
            else if (format == "text") server.send(id, wire::Type::kOk, stats_text(snap));
            else server.send(id, wire::Type::kError, "format must be json, prometheus or text");
            return;
          }
          case wire::Type::kHealth: {
            const auto j = nlohmann::json::parse(payload);
            const auto ip = parse_cidr(j.at("instance").get<std::string>() + "/32");
            if (!ip.cidr) {
              server.send(id, wire::Type::kError, "instance: not an IPv4 address");
              return;
            }
            LiveDataplane::PublishResult r;
            std::string why;
            const bool up = j.at("up").get<bool>();
            if (!live.set_health(j.at("ase").get<std::string>(), ip.cidr->addr, up, r, why)) {
              server.send(id, wire::Type::kError, why);
              return;
            }
            std::cerr << "asenetd: " << j.at("ase").get<std::string>() << " " << format_ipv4(ip.cidr->addr)
                      << (up ? " up" : " down") << ": generation " << r.generation << " live\n";
            server.send(id, wire::Type::kOk, publish_json(r));
            return;
          }
          case wire::Type::kTrace: {
            const auto j = nlohmann::json::parse(payload);
            std::string why;
            if (!live.trace_start(j.at("count").get<uint64_t>(), trace_filter(j), why)) {
              server.send(id, wire::Type::kError, why);
              return;
            }
            tracer = id;
            server.hold(id, true);  // it waits for packets, however long
            server.send(id, wire::Type::kOk, "{\"tracing\":true}");
            return;
          }
          default:
            server.send(id, wire::Type::kError,
                        "unknown request type " + std::to_string(static_cast<unsigned>(type)));
            return;
        }
      } catch (const std::exception& e) {
        server.send(id, wire::Type::kError, std::string("bad request: ") + e.what());
      }
    };

    const double duration = vm["duration"].as<double>();
    const auto start = std::chrono::steady_clock::now();
    auto last_refresh = start;
    while (!g_stop.load()) {
      if (with_socket) {
        server.poll(live.tracing() ? 5 : 20, handle);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      live.probe_tick();
      if (live.tracing()) {
        std::vector<std::string> lines;
        bool finished = false;
        live.trace_collect(lines, finished);
        for (const auto& l : lines) server.send(tracer, wire::Type::kTraceLine, l);
        if (finished || !server.connected(tracer)) {
          const auto [traced, lost] = live.trace_stop();
          server.send(tracer, wire::Type::kTraceEnd,
                      "{\"traced\":" + std::to_string(traced) + ",\"lost\":" + std::to_string(lost) + "}");
          server.hold(tracer, false);
        }
      }
      const auto now = std::chrono::steady_clock::now();
      if (now - last_refresh >= std::chrono::milliseconds(200)) {
        if (std::string why; !live.pump_flow_logs(false, why)) std::cerr << "asenetd: flow logs: " << why << "\n";
        live.note_control(server.rejected(), server.malformed());
        live.refresh_telemetry();
        last_refresh = now;
      }
      if (duration > 0 && std::chrono::duration<double>(now - start).count() >= duration) g_stop.store(true);
    }
    if (live.tracing()) live.trace_stop();
    rte_eal_mp_wait_lcore();
    if (std::string why; !live.pump_flow_logs(true, why)) {
      std::cerr << "asenetd: flow logs: " << why << "\n";
      rc = 1;
    }

    const StatsSnapshot fin = live.snapshot();
    const WorkerCounters total = control::sum_counters(ctxs);
    std::ostringstream js;
    js << "{\"generation\":" << fin.generation << ",\"packets_in\":" << fin.packets_in
       << ",\"packets_in_by_port\":" << control::per_port_json(total.rx) << ",\"packets_forwarded\":" << total.forwarded
       << ",\"packets_out\":" << control::per_port_json(total.tx) << ",\"drops\":" << control::drops_json(total)
       << ",\"rule_hits\":" << control::rule_hits_json(fin.rule_hits) << ",\"flows_created\":" << total.flows_created
       << ",\"pushes\":" << fin.pushes << "}";
    std::cerr << "asenetd: stopped: " << js.str() << "\n";
    if (vm.count("summary")) {
      std::ofstream f(vm["summary"].as<std::string>(), std::ios::trunc);
      f << js.str() << "\n";
      if (!f) rc = 1;
    }
    g_live = nullptr;
    for (uint16_t p : port_ids) {
      rte_eth_dev_stop(p);
      rte_eth_dev_close(p);
    }
  }
  rte_mempool_free(pool);
  eal_cleanup();
  return rc;
}

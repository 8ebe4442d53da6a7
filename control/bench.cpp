#include "control/bench.hpp"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_memory.h>
#include <sys/mman.h>
#include <rte_ring.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <thread>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <random>

#include "control/compile.hpp"
#include "control/topology.hpp"
#include "dataplane/pipeline/checksum.hpp"
#include "dataplane/pipeline/pipeline.hpp"
#include "dataplane/ports/ports.hpp"

namespace asenet::control {

using namespace asenet::dataplane;

namespace {

/// An ASE with three instances and a subnet NSG of `rules` rules: rules-1
/// deny rules for unrelated /24s before the one that admits HTTPS.
std::string bench_topology(unsigned rules, unsigned flow_table) {
  std::string t = "[emulator]\nera = \"current\"\nenforce_limits = false\nflow_table_size = " +
                  std::to_string(flow_table) +
                  "\n[vnet]\nname = \"v\"\naddress_space = \"10.0.0.0/16\"\n"
                  "[[subnets]]\nname = \"ase\"\nprefix = \"10.0.1.0/24\"\nnsg = \"n\"\n"
                  "[[ases]]\nname = \"ase\"\nsubnet = \"ase\"\npublic_vip = \"192.23.1.2\"\n"
                  "instances = [\"10.0.1.4\", \"10.0.1.5\", \"10.0.1.6\"]\n[[nsgs]]\nname = \"n\"\n";
  for (unsigned i = 0; i + 1 < rules; ++i) {
    t += "[[nsgs.rules]]\nname = \"deny" + std::to_string(i) + "\"\npriority = " + std::to_string(100 + i % 3900) +
         "\ndirection = \"" + (i < 3900 ? "Inbound" : "Outbound") +
         "\"\naccess = \"Deny\"\nprotocol = \"Tcp\"\nsource_address_prefixes = \"" + std::to_string(11 + i / 256 % 200) +
         "." + std::to_string(i % 256) + ".0.0/16\"\nsource_port_ranges = \"*\"\ndestination_address_prefixes = \"*\"\n"
         "destination_port_ranges = \"" + std::to_string(1000 + i % 50000) + "\"\n";
  }
  t += "[[nsgs.rules]]\nname = \"AllowHttps\"\npriority = 4096\ndirection = \"Inbound\"\naccess = \"Allow\"\n"
       "protocol = \"Tcp\"\nsource_address_prefixes = \"*\"\nsource_port_ranges = \"*\"\n"
       "destination_address_prefixes = \"*\"\ndestination_port_ranges = \"443\"\n";
  return t;
}

void write_tcp(rte_mbuf* m, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t flags) {
  uint8_t* f = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, 60));
  std::memset(f, 0, 60);
  f[12] = 0x08;
  uint8_t* ip = f + 14;
  ip[0] = 0x45;
  store_be16(ip + 2, 40);
  ip[8] = 64;
  ip[9] = 6;
  store_be32(ip + 12, src);
  store_be32(ip + 16, dst);
  store_be16(ip + 10, static_cast<uint16_t>(~ones_sum(ip, 20)));
  store_be16(ip + 20, sport);
  store_be16(ip + 22, dport);
  ip[32] = 5 << 4;
  ip[33] = flags;
}

}  // namespace

namespace {

/// Runs argv with stdout+stderr to `log`; returns the child's pid, or -1.
pid_t spawn_logged(const std::vector<std::string>& argv, const std::string& log) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  std::vector<char*> av;
  std::vector<std::string> copy = argv;
  for (auto& a : copy) av.push_back(a.data());
  av.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, av[0], &fa, nullptr, av.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

/// The vdev comparison: the same two pcap vdevs (clients to the VIP, instances
/// to the Internet, looped by infinite_rx), the same two lcores, first
/// through dpdk-testpmd's io forwarding, then through asenetd. Returns false
/// with a reason when either cannot run.
bool vdev_comparison(const BenchOptions& opt, double& testpmd_mpps, double& asenetd_mpps, std::string& why) {
  char tmpl[] = "/tmp/asenet-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    why = "mkdtemp failed";
    return false;
  }
  const std::string dir = tmpl;
  // 1,000 connections per side, SYN then eight ACKs each: 64-byte frames.
  auto write_cap = [&](const std::string& path, bool inbound) {
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
    if (d == nullptr) return false;
    uint8_t f[60];
    for (int round = 0; round < 9; ++round) {
      for (uint32_t i = 0; i < 1000; ++i) {
        std::memset(f, 0, sizeof f);
        std::memcpy(f, kFabricMac.bytes.data(), 6);
        f[6] = 0x02;
        f[12] = 0x08;
        uint8_t* ip = f + 14;
        ip[0] = 0x45;
        store_be16(ip + 2, 40);
        ip[8] = 64;
        ip[9] = 6;
        store_be32(ip + 12, inbound ? 0x0c000000u + i : 0x0a000104u + i % 3);
        store_be32(ip + 16, inbound ? 0xc0170102u : 0x0d000000u + i);
        store_be16(ip + 10, static_cast<uint16_t>(~ones_sum(ip, 20)));
        store_be16(ip + 20, static_cast<uint16_t>(20000 + i));
        store_be16(ip + 22, 443);
        ip[32] = 5 << 4;
        ip[33] = round == 0 ? 0x02 : 0x10;
        pcap_pkthdr h{};
        h.caplen = h.len = sizeof f;
        pcap_dump(reinterpret_cast<u_char*>(d), &h, f);
      }
    }
    pcap_dump_close(d);
    pcap_close(dead);
    return true;
  };
  const std::string in_cap = dir + "/in.pcap", out_cap = dir + "/out.pcap";
  if (!write_cap(in_cap, true) || !write_cap(out_cap, false)) {
    why = "cannot write the captures";
    return false;
  }
  const std::string v0 = "net_pcap0,rx_pcap=" + in_cap + ",infinite_rx=1";
  const std::string v1 = "net_pcap1,rx_pcap=" + out_cap + ",infinite_rx=1";
  const std::string cpus = floating_lcores(2);
  const std::string secs = std::to_string(opt.seconds);
  // testpmd: io forwarding, one forwarding lcore, port stats every second.
  const std::string tp_log = dir + "/testpmd.log";
  const pid_t tp = spawn_logged({"dpdk-testpmd", "--lcores", cpus, "--no-huge", "--no-shconf", "-m", "1024", "--no-pci",
                                 "--log-level=error", "--file-prefix", "asenet-tp-" + std::to_string(getpid()),
                                 "--vdev", v0, "--vdev", v1, "--", "--forward-mode=io", "--auto-start",
                                 "--stats-period=1", "--nb-cores=1", "--total-num-mbufs=65536"},
                                tp_log);
  if (tp < 0) {
    why = "cannot run dpdk-testpmd (apt-get install dpdk)";
    return false;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(opt.seconds * 1000) + 2500));
  kill(tp, SIGINT);
  int st = 0;
  waitpid(tp, &st, 0);
  // Each stats block prints "Rx-pps: N" per port; the last full block counts.
  {
    std::ifstream f(tp_log);
    std::string line;
    std::vector<double> pps;
    while (std::getline(f, line)) {
      const auto k = line.find("Rx-pps:");
      if (k != std::string::npos) pps.push_back(std::stod(line.substr(k + 7)));
    }
    if (pps.size() < 4) {
      why = "testpmd printed no rates (see " + tp_log + ")";
      return false;
    }
    testpmd_mpps = (pps[pps.size() - 1] + pps[pps.size() - 2]) / 1e6;
  }
  // asenetd on the same vdevs with the bench topology.
  const std::string topo = dir + "/topology.toml", summary = dir + "/summary.json";
  {
    std::ofstream t(topo);
    t << bench_topology(opt.nsg_rules, 65536) << "\n[ports]\ninternet = \"" << v0 << "\"\nvnet = \"" << v1
      << "\"\nonprem = \"net_null0,no-rx=1\"\n";
  }
  const pid_t ad = spawn_logged({opt.asenetd, "--lcores", cpus, "--no-huge", "--no-shconf", "-m", "1024", "--no-pci",
                                 "--log-level=error", "--file-prefix", "asenet-ad-" + std::to_string(getpid()), "--",
                                 "--topology", topo, "--duration", secs, "--summary", summary, "--mbufs", "65536"},
                                dir + "/asenetd.log");
  if (ad < 0) {
    why = "cannot run " + opt.asenetd;
    return false;
  }
  waitpid(ad, &st, 0);
  std::ifstream s(summary);
  std::string js((std::istreambuf_iterator<char>(s)), std::istreambuf_iterator<char>());
  const auto k = js.find("\"packets_forwarded\":");
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || k == std::string::npos) {
    why = "asenetd failed (see " + dir + "/asenetd.log)";
    return false;
  }
  asenetd_mpps = std::stod(js.substr(k + 20)) / opt.seconds / 1e6;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::remove_all("/var/run/dpdk/asenet-tp-" + std::to_string(getpid()), ec);
  std::filesystem::remove_all("/var/run/dpdk/asenet-ad-" + std::to_string(getpid()), ec);
  return true;
}

}  // namespace

int run_bench(const BenchOptions& opt) {
  const bool established = opt.scenario == "established";
  if (!established && opt.scenario != "new-flows") {
    std::cerr << "asenetctl bench: --scenario must be established or new-flows\n";
    return 2;
  }
  const unsigned table = established ? opt.flows + 1024 : 2000000;
  Topology topo;
  try {
    topo = load_topology_text(bench_topology(opt.nsg_rules, table), "bench");
  } catch (const TopologyError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  const std::string prefix = "asenet-bench-" + std::to_string(getpid());
  std::string err;
  if (eal_init({"asenetctl-bench", "--no-huge", "--no-shconf", "-m", "1024", "--no-pci", "--no-telemetry",
                "--log-level=error", "-l", "0", "--file-prefix", prefix},
               err) < 0) {
    std::cerr << "asenetctl bench: " << err << "\n";
    return 1;
  }
  // EAL --no-huge memory is faulted in on first touch (hugepages are not):
  // fault it all in now, so that no page fault lands in the measured loop.
  rte_memseg_list_walk(
      [](const rte_memseg_list* msl, void*) {
        if (msl->base_va != nullptr && msl->len > 0) madvise(msl->base_va, msl->len, MADV_POPULATE_WRITE);
        return 0;
      },
      nullptr);
  int rc = 0;
  {
    rte_mempool* pool = rte_pktmbuf_pool_create("bench_pool", 8191, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    ReplayPorts ports;
    WorkerTables tables;
    auto ts = TableSet::build(compile(topo, 1), 1, err);
    if (pool == nullptr || !ts || !create_replay_ports(1, 4096, pool, ports, err) ||
        !make_worker_tables("bench", table, tables, err)) {
      std::cerr << "asenetctl bench: " << err << "\n";
      return 1;
    }
    FlowTable& flows = *tables.flows;
    WorkerContext ctx;
    ctx.flows = tables.flows.get();
    ctx.snat = tables.snat.get();
    ctx.clock = ClockMode::kFake;
    for (size_t s = 0; s < kNumPorts; ++s) ctx.tx_port_id[s] = ports.out_port[s];
    const uint32_t vip = *parse_ipv4("192.23.1.2");
    const uint32_t inst = *parse_ipv4("10.0.1.4");
    // Flow i: even = a client to VIP:443 (LB), odd = an instance to the Internet (SNAT).
    auto fill = [&](Burst& b, std::array<Port, kBurstSize>& sides, uint64_t first, uint8_t flags) {
      rte_pktmbuf_alloc_bulk(pool, b.pkts.data(), kBurstSize);
      for (uint16_t k = 0; k < kBurstSize; ++k) {
        const uint64_t i = first + k;
        const auto port = static_cast<uint16_t>(1024 + i % 60000);
        if (i % 2 == 0) {  // clients 12.x.y.z, many ports each
          write_tcp(b.pkts[k], 0x0c000000u + static_cast<uint32_t>(i / 60000), vip, port, 443, flags);
          sides[k] = Port::kInternet;
        } else {  // one Internet server per flow (13.x.y.z): SNAT ports are per destination
          write_tcp(b.pkts[k], inst + static_cast<uint32_t>(i % 3), 0x0d000000u + static_cast<uint32_t>(i), port, 443, flags);
          sides[k] = Port::kVnet;
        }
      }
      b.count = kBurstSize;
    };
    std::array<void*, 64> sink;
    auto drain = [&] {
      for (size_t s = 0; s < kNumPorts; ++s) {
        unsigned n;
        while ((n = rte_ring_dequeue_burst(ports.out_rings[s][0], sink.data(), 64, nullptr)) > 0)
          rte_pktmbuf_free_bulk(reinterpret_cast<rte_mbuf**>(sink.data()), n);
      }
    };
    Burst b;
    std::array<Port, kBurstSize> sides{};
    // Warm-up (established): every flow's first packet walks the slow path.
    uint64_t next = 0;
    if (established) {
      for (; next < opt.flows; next += kBurstSize) {
        fill(b, sides, next, 0x02);
        stamp_burst(b, ctx, sides.data());
        process_burst(b, *ts, ctx);
        drain();
      }
    }
    // The generator alone (build, free), to subtract from the measurement.
    uint64_t gen_cycles = 0, gen_pkts = 0;
    {
      const uint64_t c0 = rte_rdtsc();
      for (int r = 0; r < 2000; ++r) {
        fill(b, sides, static_cast<uint64_t>(r) * kBurstSize, 0x10);
        rte_pktmbuf_free_bulk(b.pkts.data(), kBurstSize);
        gen_pkts += kBurstSize;
      }
      gen_cycles = rte_rdtsc() - c0;
    }
    const uint64_t created_before = ctx.counters.flows_created;
    uint64_t pkts = 0;
    const uint64_t start = rte_rdtsc();
    const auto w0 = std::chrono::steady_clock::now();
    double secs = 0;
    uint64_t cursor = established ? 0 : next;
    while (secs < opt.seconds) {
      for (int r = 0; r < 64; ++r) {
        if (established) {
          if (cursor + kBurstSize > opt.flows) cursor = 0;
          fill(b, sides, cursor, 0x10);  // ACKs of live flows
        } else {
          fill(b, sides, cursor, 0x02);  // SYNs of new flows
        }
        cursor += kBurstSize;
        stamp_burst(b, ctx, sides.data());
        process_burst(b, *ts, ctx);
        drain();
        pkts += kBurstSize;
      }
      secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
      // New flows: stop at half the table, so that every connection is
      // measured at the same load (a full cuckoo table is slower to insert into).
      if (!established && flows.size() >= flows.capacity() / 2) break;
    }
    const uint64_t cycles = rte_rdtsc() - start;
    const uint64_t created = ctx.counters.flows_created - created_before;
    uint64_t dropped = 0;
    for (auto d : ctx.counters.drops) dropped += d;
    // Per-stage cost: the same traffic, the stages called one by one as
    // process_group() does, a TSC read around each (its own ~20-cycle cost is
    // in every figure). Guides optimisation; the totals above stay the truth.
    static constexpr const char* kStages[] = {"parse", "flow", "route", "lb", "nsg", "nat", "install", "forward", "emit"};
    std::array<uint64_t, 9> stage_cycles{};
    uint64_t stage_pkts = 0;
    if (opt.stages) {
      uint64_t c2 = established ? 0 : cursor;
      for (int r = 0; r < 2000 && (established || flows.size() + 2 * kBurstSize < flows.capacity()); ++r) {
        if (established) {
          if (c2 + kBurstSize > opt.flows) c2 = 0;
          fill(b, sides, c2, 0x10);
        } else {
          fill(b, sides, c2, 0x02);
        }
        c2 += kBurstSize;
        stamp_burst(b, ctx, sides.data());
        const TableSet& t = *ts;
        uint64_t t0 = rte_rdtsc(), t1;
        auto lap = [&](size_t i) {
          t1 = rte_rdtsc();
          stage_cycles[i] += t1 - t0;
          t0 = t1;
        };
        parse_stage(b, t, ctx);
        lap(0);
        bool again;
        do {
          again = flow_stage(b, t, ctx);
          lap(1);
          if (b.slow == 0) continue;  // as process_group does
          route_stage(b, t, ctx);
          lap(2);
          lb_stage(b, t, ctx);
          lap(3);
          nsg_stage(b, t, ctx);
          lap(4);
          snat_stage(b, t, ctx);
          nsg_stage(b, t, ctx, true);
          lap(5);
          install_stage(b, t, ctx);
          lap(6);
        } while (again);
        forward_stage(b, t, ctx);
        lap(7);
        emit(b, t, ctx);
        lap(8);
        drain();
        stage_pkts += kBurstSize;
      }
    }
    const double per_pkt = static_cast<double>(cycles) / static_cast<double>(pkts);
    const double gen_per_pkt = static_cast<double>(gen_cycles) / static_cast<double>(gen_pkts);
    const double mpps = static_cast<double>(pkts) / secs / 1e6;
    const double hz = static_cast<double>(rte_get_tsc_hz());
    const double pipeline_mpps = hz / (per_pkt - gen_per_pkt) / 1e6;
    std::string stage_json = "{", stage_text;
    for (size_t i = 0; i < stage_cycles.size() && stage_pkts > 0; ++i) {
      char buf[64];
      const double c = static_cast<double>(stage_cycles[i]) / static_cast<double>(stage_pkts);
      std::snprintf(buf, sizeof buf, "%s\"%s\":%.1f", i ? "," : "", kStages[i], c);
      stage_json += buf;
      std::snprintf(buf, sizeof buf, "%s %s %.1f", i ? "," : "", kStages[i], c);
      stage_text += buf;
    }
    stage_json += "}";
    if (opt.json) {
      if (!(opt.baseline && established))  // with the baseline: one document, below
        std::printf("{\"scenario\":\"%s\",\"mpps\":%.3f,\"cycles_per_packet\":%.1f,\"generator_cycles_per_packet\":%.1f,"
                  "\"pipeline_mpps\":%.3f,\"packets\":%llu,\"flows_live\":%u,\"flows_created\":%llu,\"nsg_rules\":%u,"
                  "\"acl_rules\":%zu,\"drops\":%llu,\"stage_cycles_per_packet\":%s}\n",
                  opt.scenario.c_str(), mpps, per_pkt, gen_per_pkt, pipeline_mpps, static_cast<unsigned long long>(pkts),
                  flows.size(), static_cast<unsigned long long>(created), opt.nsg_rules, ts->acl_rule_count(),
                  static_cast<unsigned long long>(dropped), stage_json.c_str());
    } else {
      std::printf("scenario %s: %u NSG rules (%zu rte_acl rules), %u live flows, one lcore\n", opt.scenario.c_str(),
                  opt.nsg_rules, ts->acl_rule_count(), flows.size());
      std::printf("  %.2f Mpps with the generator, %.1f cycles/packet (generator alone %.1f)\n", mpps, per_pkt,
                  gen_per_pkt);
      std::printf("  pipeline alone: %.2f Mpps (%.1f cycles/packet)\n", pipeline_mpps, per_pkt - gen_per_pkt);
      if (stage_pkts > 0) std::printf("  cycles/packet by stage:%s\n", stage_text.c_str());
      if (!established)
        std::printf("  new connections: %.2f M/s (%llu created, %llu dropped)\n",
                    static_cast<double>(created) / secs / 1e6, static_cast<unsigned long long>(created),
                    static_cast<unsigned long long>(dropped));
    }
    if (dropped != 0 && established) rc = 1;
    if (opt.baseline && established) {
      double tp = 0, ad = 0;
      std::string why;
      // EAL is still up here, but the comparison runs in child processes.
      if (!vdev_comparison(opt, tp, ad, why)) {
        std::cerr << "asenetctl bench: baseline: " << why << "\n";
        rc = 1;
      } else if (opt.json) {
        std::printf("{\"scenario\":\"established\",\"mpps\":%.3f,\"cycles_per_packet\":%.1f,"
                    "\"baseline\":{\"testpmd_io_mpps\":%.3f},\"ratio\":%.3f,\"setup\":\"two pcap vdevs "
                    "(infinite_rx), one forwarding lcore\",\"in_process_pipeline_mpps\":%.3f,"
                    "\"in_process_cycles_per_packet\":%.1f,\"stage_cycles_per_packet\":%s,\"flows_live\":%u,"
                    "\"nsg_rules\":%u}\n",
                    ad, hz / (ad * 1e6), tp, ad / tp, pipeline_mpps, per_pkt - gen_per_pkt, stage_json.c_str(),
                    flows.size(), opt.nsg_rules);
      } else {
        std::printf("  on two pcap vdevs (infinite_rx), one forwarding lcore: asenetd %.2f Mpps, dpdk-testpmd io %.2f "
                    "Mpps, ratio %.2f\n", ad, tp, ad / tp);
      }
    }
    destroy_replay_ports(ports);
  }
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all("/var/run/dpdk/" + prefix, ec);
  return rc;
}

}  // namespace asenet::control

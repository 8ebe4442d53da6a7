#include "control/offline/bench_vdev.hpp"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "dataplane/core/fabric.hpp"
#include "dataplane/ports/ports.hpp"

namespace asenet::control::bench {

using namespace asenet::dataplane;

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

namespace {

/// A DPDK program's EAL arguments for the vdev runs: the same two floating
/// lcores, --no-huge, 1 GiB, no PCI, a file prefix of its own.
std::vector<std::string> child_eal(const std::string& program, const std::string& prefix) {
  return {program,
          "--lcores",
          floating_lcores(2),
          "--no-huge",
          "--no-shconf",
          "-m",
          "1024",
          "--no-pci",
          "--log-level=error",
          "--file-prefix",
          prefix + std::to_string(getpid())};
}

/// The two looped captures: `conns` connections a side, a SYN then eight
/// ACKs each (established) or a SYN then a RST (churn).
bool write_vdev_captures(const std::string& in_cap, const std::string& out_cap, bool churn) {
  const uint32_t conns = churn ? 16000 : 1000;
  auto write_cap = [&](const std::string& path, bool inbound) {
    pcap_t* dead = pcap_open_dead(DLT_EN10MB, 65535);
    pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
    if (d == nullptr) return false;
    uint8_t f[60];
    const int rounds = churn ? 2 : 9;
    for (uint32_t i = 0; i < conns; ++i) {
      for (int round = 0; round < rounds; ++round) {
        const uint8_t flags = round == 0 ? kTcpSyn : churn ? kTcpRst : kTcpAck;
        write_tcp_frame60(f, inbound ? 0x0c000000u + i : kInstance + i % 3, inbound ? kVip : 0x0d000000u + i,
                          static_cast<uint16_t>(20000 + i % 40000), 443, flags);
        pcap_pkthdr h{};
        h.caplen = h.len = sizeof f;
        pcap_dump(reinterpret_cast<u_char*>(d), &h, f);
      }
    }
    pcap_dump_close(d);
    pcap_close(dead);
    return true;
  };
  return write_cap(in_cap, true) && write_cap(out_cap, false);
}

/// dpdk-testpmd in forwarding `mode` (io: no header touched; 5tswap: MACs,
/// IPs and ports swapped, as a NAT rewrites them), one forwarding lcore, port
/// stats every second.
/// testpmd prints "Rx-pps: N" per port every second, from its start (it
/// loads the captures into mbufs first). Wait for a block with traffic, then
/// for `seconds` more blocks; the last block counts.
bool run_testpmd(const BenchOptions& opt, const std::string& mode, const std::string& dir, const std::string& v0,
                 const std::string& v1, const std::string& mbufs, double& mpps, std::string& why) {
  const std::string tp_log = dir + "/testpmd-" + mode + ".log";
  std::vector<std::string> argv = child_eal("dpdk-testpmd", "asenet-tp-");
  argv.insert(argv.end(), {"--vdev", v0, "--vdev", v1, "--", "--forward-mode=" + mode, "--auto-start",
                           "--stats-period=1", "--nb-cores=1", "--total-num-mbufs=" + mbufs});
  const pid_t tp = spawn_logged(argv, tp_log);
  if (tp < 0) {
    why = "cannot run dpdk-testpmd (apt-get install dpdk)";
    return false;
  }
  auto rates = [&] {
    std::ifstream f(tp_log);
    std::string line;
    std::vector<double> pps;
    while (std::getline(f, line)) {
      const auto k = line.find("Rx-pps:");
      if (k != std::string::npos) pps.push_back(std::stod(line.substr(k + 7)));
    }
    return pps;
  };
  const auto t0 = std::chrono::steady_clock::now();
  size_t first_busy = SIZE_MAX;
  std::vector<double> pps;
  const auto blocks = static_cast<size_t>(std::max(1.0, opt.seconds));
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    pps = rates();
    for (size_t i = 0; i + 1 < pps.size() && first_busy == SIZE_MAX; i += 2)
      if (pps[i] + pps[i + 1] > 0) first_busy = i;
    if (first_busy != SIZE_MAX && pps.size() >= first_busy + 2 * (blocks + 1)) break;
  }
  kill(tp, SIGINT);
  int st = 0;
  waitpid(tp, &st, 0);
  if (first_busy == SIZE_MAX || pps.size() < first_busy + 4) {
    why = "testpmd printed no rates (see " + tp_log + ")";
    return false;
  }
  mpps = (pps[pps.size() - 1] + pps[pps.size() - 2]) / 1e6;
  return true;
}

/// asenetd on the same vdevs with the scenario's NSGs, for --seconds.
bool run_asenetd(const BenchOptions& opt, const std::vector<RuleBody>& rules, const std::string& dir,
                 const std::string& v0, const std::string& v1, const std::string& mbufs, VdevResult& res,
                 std::string& why) {
  const std::string topo = dir + "/topology.toml", summary = dir + "/summary.json";
  {
    std::ofstream t(topo);
    t << bench_topology(rules, 65536) << "\n[ports]\ninternet = \"" << v0 << "\"\nvnet = \"" << v1
      << "\"\nonprem = \"net_null0,no-rx=1\"\n";
  }
  std::vector<std::string> argv = child_eal(opt.asenetd, "asenet-ad-");
  argv.insert(argv.end(), {"--", "--topology", topo, "--duration", std::to_string(opt.seconds), "--summary", summary,
                           "--mbufs", mbufs});
  const pid_t ad = spawn_logged(argv, dir + "/asenetd.log");
  if (ad < 0) {
    why = "cannot run " + opt.asenetd;
    return false;
  }
  int st = 0;
  waitpid(ad, &st, 0);
  std::ifstream s(summary);
  std::string js((std::istreambuf_iterator<char>(s)), std::istreambuf_iterator<char>());
  const auto k = js.find("\"packets_forwarded\":");
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || k == std::string::npos) {
    why = "asenetd failed (see " + dir + "/asenetd.log)";
    return false;
  }
  res.asenetd_mpps = std::stod(js.substr(k + 20)) / opt.seconds / 1e6;
  if (const auto c = js.find("\"flows_created\":"); c != std::string::npos)
    res.asenetd_created = std::stoull(js.substr(c + 16));
  return true;
}

}  // namespace

bool vdev_comparison(const BenchOptions& opt, const Scenario& sc, const std::vector<RuleBody>& rules, VdevResult& res,
                     std::string& why) {
  char tmpl[] = "/tmp/asenet-bench-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    why = "mkdtemp failed";
    return false;
  }
  const std::string dir = tmpl;
  const std::string in_cap = dir + "/in.pcap", out_cap = dir + "/out.pcap";
  if (!write_vdev_captures(in_cap, out_cap, sc.vdev == VdevTraffic::kChurn)) {
    why = "cannot write the captures";
    return false;
  }
  const std::string v0 = "net_pcap0,rx_pcap=" + in_cap + ",infinite_rx=1";
  const std::string v1 = "net_pcap1,rx_pcap=" + out_cap + ",infinite_rx=1";
  const std::string mbufs = "131072";  // infinite_rx holds each capture in mbufs
  if (!run_testpmd(opt, "io", dir, v0, v1, mbufs, res.testpmd_mpps, why) ||
      !run_testpmd(opt, "5tswap", dir, v0, v1, mbufs, res.testpmd_5tswap_mpps, why) ||
      !run_asenetd(opt, rules, dir, v0, v1, mbufs, res, why))
    return false;
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::remove_all("/var/run/dpdk/asenet-tp-" + std::to_string(getpid()), ec);
  std::filesystem::remove_all("/var/run/dpdk/asenet-ad-" + std::to_string(getpid()), ec);
  return true;
}

}  // namespace asenet::control::bench

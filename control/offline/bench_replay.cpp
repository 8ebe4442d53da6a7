#include "control/offline/bench_replay.hpp"
#include "control/offline/bench_vdev.hpp"

#include <pcap/pcap.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

#include "dataplane/core/fabric.hpp"
#include "dataplane/core/time.hpp"

namespace asenet::control::bench {

using namespace asenet::dataplane;

namespace {

/// `packets` packets: connections of 30 packets (a SYN, then ACKs), 1,000
/// connections interleaved at a time, 1 us apart.
bool write_capture(const std::string& path, uint64_t packets) {
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 65535, PCAP_TSTAMP_PRECISION_NANO);
  pcap_dumper_t* d = pcap_dump_open(dead, path.c_str());
  if (d == nullptr) {
    pcap_close(dead);
    return false;
  }
  uint8_t f[60];
  constexpr uint64_t kInterleave = 1000, kPerConnection = 30;
  for (uint64_t i = 0; i < packets; ++i) {
    const uint64_t conn = i / (kInterleave * kPerConnection) * kInterleave + i % kInterleave;
    const bool first = i / kInterleave % kPerConnection == 0;
    write_tcp_frame60(f, 0x0c000000u + static_cast<uint32_t>(conn), kVip, static_cast<uint16_t>(20000 + conn % 40000),
                      443, first ? kTcpSyn : kTcpAck);
    pcap_pkthdr h{};
    const uint64_t t = 1700000000ull * kNsPerSecond + i * 1000;
    h.ts.tv_sec = static_cast<time_t>(t / kNsPerSecond);
    h.ts.tv_usec = static_cast<suseconds_t>(t % kNsPerSecond);
    h.caplen = h.len = sizeof f;
    pcap_dump(reinterpret_cast<u_char*>(d), &h, f);
  }
  pcap_dump_close(d);
  pcap_close(dead);
  return true;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

/// libpcap alone: every packet read with pcap_next_ex and written with
/// pcap_dump, as replay reads and writes them. Seconds, or -1.
double libpcap_copy(const std::string& in, const std::string& out) {
  char err[PCAP_ERRBUF_SIZE] = {};
  const auto t0 = std::chrono::steady_clock::now();
  pcap_t* p = pcap_open_offline_with_tstamp_precision(in.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
  if (p == nullptr) return -1;
  pcap_t* dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144, PCAP_TSTAMP_PRECISION_NANO);
  pcap_dumper_t* d = pcap_dump_open(dead, out.c_str());
  if (d == nullptr) {
    pcap_close(p);
    pcap_close(dead);
    return -1;
  }
  pcap_pkthdr* h = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(p, &h, &data) == 1) pcap_dump(reinterpret_cast<u_char*>(d), h, data);
  pcap_dump_close(d);
  pcap_close(dead);
  pcap_close(p);
  return seconds_since(t0);
}

/// asenetctl replay (this very binary) on `in`; wall seconds, or -1.
double time_replay(const std::string& topo, const std::string& in, const std::string& out, bool trace,
                   const std::string& log) {
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  std::vector<std::string> argv = {self, "replay", "--topology", topo, "--in", "internet=" + in, "--out-dir", out};
  if (trace) argv.push_back("--trace");
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = spawn_logged(argv, log);
  if (pid < 0) return -1;
  int st = 0;
  waitpid(pid, &st, 0);
  const double s = seconds_since(t0);
  return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? s : -1;
}

}  // namespace

bool replay_comparison(const BenchOptions& opt, const std::vector<RuleBody>& rules, ReplayBenchResult& res,
                       std::string& why) {
  char tmpl[] = "/tmp/asenet-bench-replay-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) {
    why = "mkdtemp failed";
    return false;
  }
  const std::string dir = tmpl, in = dir + "/in.pcap", one = dir + "/one.pcap", topo = dir + "/topology.toml";
  res.packets = opt.packets;
  if (!write_capture(in, opt.packets) || !write_capture(one, 1)) {
    why = "cannot write the capture in " + dir;
    return false;
  }
  std::ofstream(topo) << bench_topology(rules, 262144);  // every connection of 3M packets stays live
  const double a = libpcap_copy(in, dir + "/libpcap.pcap"), b = libpcap_copy(in, dir + "/libpcap.pcap");
  res.libpcap_s = std::min(a, b);
  res.replay_eal_s = time_replay(topo, one, dir + "/one", false, dir + "/one.log");
  res.replay_s = time_replay(topo, in, dir + "/out", false, dir + "/replay.log");
  res.replay_trace_s = time_replay(topo, in, dir + "/trace", true, dir + "/trace.log");
  if (a < 0 || b < 0 || res.replay_eal_s < 0 || res.replay_s < 0 || res.replay_trace_s < 0) {
    why = "a run failed (see " + dir + ")";
    return false;
  }
  std::filesystem::remove_all(dir);
  return true;
}

}  // namespace asenet::control::bench

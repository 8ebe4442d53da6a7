// asenetctl classify: a ClassBench rule file and trace through the NSG
// engine's rte_acl layout and builder, printing each header's first match
// or, with --bench, lookups per second against dpdk-test-acl on the same
// files in the same run.
#include <rte_acl.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <regex>
#include <string>
#include <vector>

#include "control/cli/common.hpp"
#include "control/offline/classbench.hpp"
#include "dataplane/ports/ports.hpp"
#include "dataplane/tables/acl.hpp"

namespace po = boost::program_options;

namespace asenet::control::cli {

namespace {

/// Runs dpdk-test-acl on the same files; fills its figures or returns false.
bool run_dpdk_test_acl(const std::string& rules, const std::string& trace, size_t n, double& mpps, double& cycles) {
  const std::string prefix = "asenet-testacl-" + std::to_string(getpid());
  // About as many lookups as one of our rounds; --tracenum: its default reads 64K headers.
  const size_t iter = std::max<size_t>(1, 15000000 / std::max<size_t>(n, 1));
  const std::string cmd =
      "dpdk-test-acl -l 0 --no-huge -m 2048 --no-pci --no-telemetry --log-level=error --file-prefix=" + prefix +
      " -- --rulesf='" + rules + "' --tracef='" + trace + "' --verbose=0 --iter=" + std::to_string(iter) +
      " --tracenum=" + std::to_string(n) + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return false;
  std::string out;
  char buf[4096];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  const int rc = pclose(p);
  std::error_code ec;
  std::filesystem::remove_all("/var/run/dpdk/" + prefix, ec);
  std::smatch m;
  static const std::regex re(R"(([0-9.]+) cycles/pkt, ([0-9.]+) pkt/sec)");
  if (rc != 0 || !std::regex_search(out, m, re)) return false;
  cycles = std::stod(m[1]);
  mpps = std::stod(m[2]) / 1e6;
  return true;
}

/// The trace as rte_acl keys, classified in steps of 256 headers
/// (dpdk-test-acl's default --tracestep).
struct Classifier {
  const rte_acl_ctx* ctx;
  std::vector<const uint8_t*> keys;
  std::vector<uint32_t> results;
  void classify_all() {
    constexpr size_t kStep = 256;
    for (size_t i = 0; i < keys.size(); i += kStep)
      rte_acl_classify(ctx, keys.data() + i, results.data() + i,
                       static_cast<uint32_t>(std::min(kStep, keys.size() - i)), 1);
  }
};

struct ClassifyBench {
  size_t rules = 0, trace = 0;
  double build_s = 0, mpps = 0, cycles = 0, base_mpps = 0, base_cycles = 0;
  bool have_base = false;
};

/// Three rounds of each side, interleaved, best of each: a shared 2-core
/// machine drifts by 10 % between runs, and the best round is the one least
/// disturbed. Each of our rounds repeats the trace for about half a second.
ClassifyBench measure_classify(Classifier& c, const std::string& rules_path, const std::string& trace_path) {
  ClassifyBench b;
  b.trace = c.keys.size();
  for (int round = 0; round < 3; ++round) {
    size_t lookups = 0;
    const uint64_t c0 = rte_rdtsc();
    const auto w0 = std::chrono::steady_clock::now();
    double secs = 0;
    while (secs < 0.5) {
      c.classify_all();
      lookups += c.keys.size();
      secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    }
    const double cyc = static_cast<double>(rte_rdtsc() - c0) / static_cast<double>(lookups);
    const double m = static_cast<double>(lookups) / secs / 1e6;
    if (m > b.mpps) {
      b.mpps = m;
      b.cycles = cyc;
    }
    double bm = 0, bc = 0;
    if (run_dpdk_test_acl(rules_path, trace_path, c.keys.size(), bm, bc)) {
      b.have_base = true;
      if (bm > b.base_mpps) {
        b.base_mpps = bm;
        b.base_cycles = bc;
      }
    }
  }
  return b;
}

void print_classify_bench(const ClassifyBench& b, bool json) {
  if (json) {
    std::cout << "{\"rules\":" << b.rules << ",\"trace\":" << b.trace << ",\"build_seconds\":" << b.build_s
              << ",\"mpps\":" << b.mpps << ",\"cycles_per_lookup\":" << b.cycles;
    if (b.have_base)
      std::cout << ",\"baseline\":{\"dpdk_test_acl_mpps\":" << b.base_mpps << ",\"cycles_per_lookup\":" << b.base_cycles
                << "},\"ratio\":" << b.mpps / b.base_mpps;
    std::cout << "}\n";
    return;
  }
  std::printf("rules %zu, trace %zu headers, rte_acl build %.2f s\n", b.rules, b.trace, b.build_s);
  std::printf("asenet classify : %8.2f Mlookups/s  %8.1f cycles/lookup\n", b.mpps, b.cycles);
  if (b.have_base) {
    std::printf("dpdk-test-acl   : %8.2f Mlookups/s  %8.1f cycles/lookup\n", b.base_mpps, b.base_cycles);
    std::printf("ratio           : %8.2f (asenet / dpdk-test-acl)\n", b.mpps / b.base_mpps);
  } else {
    std::printf("dpdk-test-acl   : not available (install Debian's dpdk-dev)\n");
  }
}

}  // namespace

int cmd_classify(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl classify --classbench-rules R --trace T [--bench [--json]]

Loads a ClassBench rule file (line order = priority) into the NSG engine's
rte_acl layout and builder, classifies every trace line and prints the 0-based
index of the first matching rule, one per line (4294967295 when none). --bench
instead prints lookups per second and cycles per lookup, and the same figures
from dpdk-test-acl on the same files (when installed), as a ratio.

options)");
  std::string rules_path, trace_path;
  bool bench = false, json = false;
  d.add_options()("help,h", "show this help")("classbench-rules", po::value(&rules_path)->required(),
                                              "ClassBench filter file")("trace", po::value(&trace_path)->required(),
                                                                        "ClassBench trace file")(
      "bench", po::bool_switch(&bench), "measure instead of printing the matches")("json", po::bool_switch(&json),
                                                                                   "with --bench: one JSON document");
  if (auto rc = parse_options(d, args, "classify")) return *rc;
  std::vector<dataplane::AclRule> rules;
  std::vector<dataplane::FiveTuple> trace;
  try {
    rules = load_classbench_rules(rules_path);
    trace = load_classbench_trace(trace_path);
  } catch (const std::exception& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  std::string err;
  const std::string prefix = "asenet-classify-" + std::to_string(getpid());
  if (dataplane::eal_init({"asenetctl-classify", "--no-huge", "--no-shconf", "-m", "4096", "--no-pci", "--no-telemetry",
                           "--log-level=error", "-l", "0", "--file-prefix", prefix},
                          err) < 0) {
    std::cerr << "asenetctl classify: " << err << "\n";
    return 1;
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto ctx = dataplane::build_acl(rules, 1, err);
  const double build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!ctx) {
    std::cerr << "asenetctl classify: " << err << "\n";
    return 1;
  }
  std::vector<dataplane::AclKey> keys(trace.size());
  std::vector<const uint8_t*> ptrs(trace.size());
  for (size_t i = 0; i < trace.size(); ++i) {
    dataplane::make_acl_key(keys[i], trace[i], std::array<uint8_t, 4>{});
    ptrs[i] = reinterpret_cast<const uint8_t*>(&keys[i]);
  }
  Classifier c{ctx.get(), ptrs, std::vector<uint32_t>(trace.size())};
  c.classify_all();
  if (!bench) {
    std::string out;
    out.reserve(trace.size() * 6);
    for (uint32_t r : c.results) out += std::to_string(r == 0 ? UINT32_MAX : r - 1) + "\n";
    std::cout << out;
  } else {
    ClassifyBench b = measure_classify(c, rules_path, trace_path);
    b.rules = rules.size();
    b.build_s = build_s;
    print_classify_bench(b, json);
  }
  ctx.reset();
  rte_eal_cleanup();
  std::error_code ec;
  std::filesystem::remove_all("/var/run/dpdk/" + prefix, ec);
  return 0;
}

}  // namespace asenet::control::cli

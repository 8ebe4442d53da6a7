// asenetctl: the control process and CLI (contract section 3).
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include "control/cli/common.hpp"

using namespace asenet::control::cli;

namespace {

constexpr const char* kUsage = R"(usage: asenetctl COMMAND [options]

Emulates the network of Azure App Service Environments on a DPDK data plane.

commands:
  replay     run the real data plane over pcap files (contract section 3)
  verify     IP flow verify: which NSG rule allows or denies a flow (offline)
  next-hop   Network Watcher's next hop: the route from a source to a destination
  effective-routes  a subnet's effective routes (Active / Invalid), as Azure shows them
  doctor     would each ASE stay healthy? (management, dependencies, subnet)
  nsg        analyze a topology's NSGs (shadowed, redundant, conflicting, exposure,
             limits) or diff two rule sets, exactly over the packet space
  bench      pipeline rates: established flows and new flows per second
  validate   load and validate a topology; print what it compiles to
  import     Azure CLI / ARM JSON (VNet, NSGs, route tables, NICs, gateway, ASEs)
             to one topology file
  classify   classify a ClassBench trace with the NSG engine's rte_acl path
  graph      draw a topology (Graphviz DOT or SVG)
  push       compile a topology, print what it changes, make it the next generation
  stats      the live data plane's counters (--json, --format prometheus)
  trace      the next N packets the live data plane handles, as trace.jsonl lines
  capture    the live data plane's frames on one side, as a pcap or pcapng file
  health     mark an ASE instance up or down in the live data plane
  health-relay  carry one prober's health verdicts to the other nodes of a pool
  version    print the version

Run `asenetctl COMMAND --help` for the options of a command.
Exit codes: 0 success, 1 runtime failure, 2 bad input (message names file:line:col).
)";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string cmd = argv[1];
  std::vector<std::string> rest(argv + 2, argv + argc);
  try {
    if (cmd == "-h" || cmd == "--help" || cmd == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (cmd == "version" || cmd == "--version") {
      std::cout << "asenetctl " << ASENET_VERSION << "\n";
      return 0;
    }
    if (cmd == "replay") return cmd_replay(rest);
    if (cmd == "validate") return cmd_validate(rest);
    if (cmd == "verify") return cmd_verify(rest);
    if (cmd == "next-hop") return cmd_next_hop(rest);
    if (cmd == "doctor") return cmd_doctor(rest);
    if (cmd == "nsg") return cmd_nsg(rest);
    if (cmd == "import") return cmd_import(rest);
    if (cmd == "bench") return cmd_bench(rest);
    if (cmd == "effective-routes") return cmd_effective_routes(rest);
    if (cmd == "classify") return cmd_classify(rest);
    if (cmd == "push") return cmd_push(rest);
    if (cmd == "graph") return cmd_graph(rest);
    if (cmd == "stats") return cmd_stats(rest);
    if (cmd == "trace") return cmd_trace(rest);
    if (cmd == "capture") return cmd_capture(rest);
    if (cmd == "health") return cmd_health(rest);
    if (cmd == "health-relay") return cmd_health_relay(rest);
  } catch (const std::exception& e) {
    std::cerr << "asenetctl " << cmd << ": " << e.what() << "\n";
    return 1;
  }
  std::cerr << "asenetctl: unknown command '" << cmd << "'\n\n" << kUsage;
  return 2;
}

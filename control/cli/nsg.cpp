// asenetctl nsg analyze | diff: a topology's NSGs computed exactly over the
// packet space (control/analysis).
#include <boost/program_options.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "control/report/progress.hpp"
#include "control/analysis/nsg_diff.hpp"
#include "control/cli/common.hpp"
#include "control/compiler/compile.hpp"

namespace po = boost::program_options;

namespace asenet::control::cli {

namespace {

constexpr const char* kNsgUsage = R"(usage: asenetctl nsg analyze --topology T [--nsg NAME] [--json]
       asenetctl nsg diff --topology A --against B [--nsg NAME] [--pcap FILE ...] [--json]

Run `asenetctl nsg analyze --help` or `asenetctl nsg diff --help` for the options.
)";

int nsg_analyze(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl nsg analyze --topology T [--nsg NAME] [--json]

What each NSG of a topology does, computed exactly over the packet space
(protocol, source and destination addresses with service tags expanded as the
topology defines them, ports), from the rules the data plane compiles:
  never-matches  a rule no packet this NSG sees can match
  shadowed       a rule no packet reaches: earlier rules decide all it matches
  redundant      a rule whose removal changes no verdict
  conflicting    an Allow partly decided by earlier Denies (or the reverse)
  masked         an Allow the other NSG on the same host's path denies entirely
Every finding names its rule and an example packet, with the `asenetctl verify`
command that gives the same verdict. Then, per ASE, what the Internet may send
to its instances (and whether the VIP serves it) with doctor's management
verdicts, and each NSG against Azure's limits with its rte_acl rule count.
On a terminal, progress on standard error while it works; at the end one
"Rated:" line there (NSG directions analysed, time).
Exit 0 whatever it finds; 2 on a bad topology.

options)");
  std::string topo_path, only;
  bool json = false;
  d.add_options()("help,h", "show this help")("topology", po::value(&topo_path)->required(), "topology file")(
      "nsg", po::value(&only), "only this NSG")("json", po::bool_switch(&json), "print one JSON document");
  if (auto rc = parse_options(d, args, "nsg analyze")) return *rc;
  const auto topo = load_or_report(topo_path);
  if (!topo) return 2;
  const auto spec = compile(*topo, 1);
  if (!only.empty() && std::none_of(spec.nsgs.begin(), spec.nsgs.end(), [&](auto& n) { return n.name == only; }))
    return bad_usage("nsg analyze", "--nsg '" + only + "': " + topo_path + " has no NSG of that name");
  Progress progress("nsg analyze", "NSG directions");
  size_t directions = 0;
  const auto report = analysis::analyze(*topo, spec, only, [&](size_t done, size_t total) {
    progress.update(done, total > 0 ? static_cast<double>(done) / static_cast<double>(total) : -1);
    directions = total;
  });
  progress.finish();
  // The run's one line (standard error: --json's output stays one document).
  std::cerr << "nsg analyze: " << rated_line(directions, "NSG directions", progress.elapsed_s()) << "\n";
  std::cout << (json ? analysis::analysis_json(report, topo_path) + "\n" : analysis::analysis_text(report, topo_path));
  return 0;
}

int nsg_diff(const std::vector<std::string>& args) {
  po::options_description d(
      R"(usage: asenetctl nsg diff --topology A --against B [--nsg NAME] [--pcap FILE ...] [--json]

What changes between two rule sets: the NSGs of A and B, paired by name (when
each topology has one NSG, those two, whatever their names). Prints exactly the
regions of packet space whose verdict changes, Allow->Deny and Deny->Allow,
each with the deciding rule on both sides and an example packet (with the
`asenetctl verify` commands that show both verdicts). With --pcap, also the
flows of the captures whose verdict changes (first packet, both verdicts, both
rules), judged as the data plane judges a new flow: the source's outbound NSGs,
then the destination's inbound NSGs after the load balancer's choice.
Exit 0 whatever changes; 2 on a bad topology.

options)");
  std::string a_path, b_path, only;
  std::vector<std::string> pcaps;
  bool json = false;
  d.add_options()("help,h", "show this help")("topology", po::value(&a_path)->required(), "the rule set today (A)")(
      "against", po::value(&b_path)->required(), "the rule set proposed (B)")("nsg", po::value(&only), "only this NSG")(
      "pcap", po::value(&pcaps), "a capture whose flows to judge on both sides (repeatable)")(
      "json", po::bool_switch(&json), "print one JSON document");
  if (auto rc = parse_options(d, args, "nsg diff")) return *rc;
  const auto a = load_or_report(a_path);
  if (!a) return 2;
  const auto b = load_or_report(b_path);
  if (!b) return 2;
  const auto sa = compile(*a, 1), sb = compile(*b, 1);
  auto report = analysis::nsg_diff(sa, sb, only);
  for (const auto& p : pcaps) {
    try {
      analysis::diff_pcap(sa, sb, p, report);
    } catch (const std::runtime_error& e) {
      std::cerr << "asenetctl nsg diff: --pcap " << e.what() << "\n";
      return 2;
    }
  }
  std::cout << (json ? analysis::diff_json(report, a_path, b_path) + "\n"
                     : analysis::diff_text(report, a_path, b_path));
  return 0;
}

}  // namespace

int cmd_nsg(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help") {
    (args.empty() ? std::cerr : std::cout) << kNsgUsage;
    return args.empty() ? 2 : 0;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "analyze") return nsg_analyze(rest);
  if (args[0] == "diff") return nsg_diff(rest);
  std::cerr << "asenetctl nsg: unknown subcommand '" << args[0] << "'\n\n" << kNsgUsage;
  return 2;
}

}  // namespace asenet::control::cli

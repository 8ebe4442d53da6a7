// asenetctl import: Azure's JSON to one topology file (control/model/azure_import).
#include <boost/program_options.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "control/cli/common.hpp"
#include "control/model/azure_import.hpp"
#include "control/report/progress.hpp"

namespace po = boost::program_options;

namespace asenet::control::cli {

int cmd_import(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl import --out T.toml FILE...

Turns Azure's JSON into one topology that `asenetctl validate` accepts. FILE is
what the Azure CLI prints with -o json, in any order and mix:
  az network vnet show / list          the VNet, its subnets and their NSG and
                                       route-table associations
  az network nsg show / list           NSGs, every rule (the defaults are implied)
  az network route-table show / list   route tables and their routes
  az network nic show / list           VMs' NICs: [[hosts]] with their NIC NSG
  az network vnet-gateway show, az network local-gateway show,
  az network vnet-gateway list-learned-routes    the gateway and its BGP prefixes
  az appservice ase show               ASEs: subnet, ILB mode, version (era)
  az appservice ase list-addresses     an ASE's VIP and ILB address
or an ARM template export (az group export) holding resources of those types.
What the JSON does not say (instances, a missing VIP) gets a default marked
DEFAULT in a comment. Resource types asenet does not model are listed and
skipped. NSGs Azure itself would refuse (a priority outside 100-4096, as some
exports hold) import with a warning and enforce_limits = false.
A malformed file exits 2 naming the file and the JSON path; nothing is written.
On a terminal, the files read so far are shown; standard error ends with one
line: resources, files, time, skipped and warnings.

options)");
  std::string out;
  std::vector<std::string> files;
  d.add_options()("help,h", "show this help")("out", po::value(&out)->required(),
                                              "the topology file to write (- for standard output)")(
      "file", po::value(&files)->multitoken(), "Azure JSON files (also given without --file)");
  po::positional_options_description pos;
  pos.add("file", -1);
  if (auto rc = parse_options(d, pos, args, "import")) return *rc;
  if (files.empty()) return bad_usage("import", "give at least one Azure JSON file");
  AzureImport r;
  Progress progress("import", "resources");
  try {
    r = import_azure(files, out == "-" ? "(import)" : out, [&](size_t done, size_t resources) {
      progress.step(std::to_string(done) + " of " + std::to_string(files.size()) + " files read, " +
                        std::to_string(resources) + " resources",
                    static_cast<double>(done) / static_cast<double>(files.size()));
    });
  } catch (const TopologyError& e) {
    progress.finish();
    std::cerr << e.what() << "\n";
    return 2;
  }
  progress.finish();
  for (const auto& s : r.skipped) std::cerr << "skipped: " << s << "\n";
  for (const auto& w : r.warnings) std::cerr << "warning: " << w << "\n";
  if (out == "-") {
    std::cout << r.toml;
  } else {
    // Written whole or not at all: a temporary beside it, then renamed.
    const std::string tmp = out + ".import-tmp";
    {
      std::ofstream f(tmp, std::ios::trunc);
      f << r.toml;
      if (!f.good()) {
        std::cerr << "asenetctl import: cannot write " << tmp << "\n";
        std::remove(tmp.c_str());
        return 1;
      }
    }
    if (std::rename(tmp.c_str(), out.c_str()) != 0) {
      std::cerr << "asenetctl import: cannot write " << out << "\n";
      std::remove(tmp.c_str());
      return 1;
    }
  }
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.3f", progress.elapsed_s());
  std::cerr << "import: " << r.resources << " resources from " << files.size() << " file(s) in " << secs << " s, "
            << r.skipped.size() << " skipped, " << r.warnings.size() << " warning(s)"
            << (out == "-" ? "" : "; wrote " + out) << "\n";
  return 0;
}

}  // namespace asenet::control::cli

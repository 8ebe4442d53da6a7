#include "control/cli/common.hpp"

#include <iostream>

namespace po = boost::program_options;

namespace asenet::control::cli {

std::optional<Topology> load_or_report(const std::string& path) {
  try {
    Topology t = load_topology(path);
    for (const auto& w : t.warnings) std::cerr << "warning: " << w << "\n";
    return t;
  } catch (const TopologyError& e) {
    std::cerr << e.what() << "\n";
    return std::nullopt;
  }
}

int bad_usage(const std::string& cmd, const std::string& msg) {
  std::cerr << "asenetctl " << cmd << ": " << msg << "\n(try `asenetctl " << cmd << " --help`)\n";
  return 2;
}

std::optional<int> parse_options(const po::options_description& d, const std::vector<std::string>& args,
                                 const std::string& cmd) {
  return parse_options(d, po::positional_options_description{}, args, cmd);
}

std::optional<int> parse_options(const po::options_description& d, const po::positional_options_description& pos,
                                 const std::vector<std::string>& args, const std::string& cmd) {
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(d).positional(pos).run(), vm);
    if (vm.count("help")) {
      std::cout << d << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    return bad_usage(cmd, e.what());
  }
  return std::nullopt;
}

}  // namespace asenet::control::cli

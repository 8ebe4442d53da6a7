// What every asenetctl command shares: option parsing with --help, the
// exit-2 usage message, loading a topology with its warnings, and the
// command groups' entry points (one file per group: main.cpp holds the
// offline commands, live.cpp those that talk to asenetd).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "control/model/topology.hpp"

namespace asenet::control::cli {

/// Loads a topology for a command; prints warnings. nullopt (message printed) on bad input.
std::optional<Topology> load_or_report(const std::string& path);
/// Prints `asenetctl CMD: MSG (try ...)`; returns 2.
int bad_usage(const std::string& cmd, const std::string& msg);
/// Parses a command's options. Returns an exit code when the command should
/// stop here (--help printed: 0; bad options: 2), nullopt to go on.
std::optional<int> parse_options(const boost::program_options::options_description& d,
                                 const std::vector<std::string>& args, const std::string& cmd);

// The live data plane (live.cpp): push, stats, trace, health.
int cmd_push(const std::vector<std::string>& args);
int cmd_stats(const std::vector<std::string>& args);
int cmd_health(const std::vector<std::string>& args);
int cmd_trace(const std::vector<std::string>& args);

}  // namespace asenet::control::cli

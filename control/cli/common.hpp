// What every asenetctl command shares: option parsing with --help, the
// exit-2 usage message, loading a topology with its warnings, and the
// command groups' entry points, one file per group: offline.cpp (replay,
// bench, validate, graph), queries.cpp (verify, next-hop, effective-routes,
// doctor), classify.cpp, live.cpp (those that talk to asenetd); main.cpp
// only dispatches.
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
/// The same with positional arguments.
std::optional<int> parse_options(const boost::program_options::options_description& d,
                                 const boost::program_options::positional_options_description& pos,
                                 const std::vector<std::string>& args, const std::string& cmd);

// Offline, running or drawing a topology (offline.cpp).
int cmd_replay(const std::vector<std::string>& args);
int cmd_bench(const std::vector<std::string>& args);
int cmd_validate(const std::vector<std::string>& args);
int cmd_graph(const std::vector<std::string>& args);
// Azure's questions, answered offline (queries.cpp).
int cmd_verify(const std::vector<std::string>& args);
int cmd_next_hop(const std::vector<std::string>& args);
int cmd_effective_routes(const std::vector<std::string>& args);
int cmd_doctor(const std::vector<std::string>& args);
// Azure JSON to a topology (import.cpp).
int cmd_import(const std::vector<std::string>& args);
// NSG analysis and diff (nsg.cpp).
int cmd_nsg(const std::vector<std::string>& args);
// ClassBench through the NSG engine (classify.cpp).
int cmd_classify(const std::vector<std::string>& args);

// The live data plane (live.cpp): push, stats, trace, capture, health.
int cmd_push(const std::vector<std::string>& args);
int cmd_stats(const std::vector<std::string>& args);
int cmd_health(const std::vector<std::string>& args);
int cmd_health_relay(const std::vector<std::string>& args);
int cmd_trace(const std::vector<std::string>& args);
int cmd_capture(const std::vector<std::string>& args);

}  // namespace asenet::control::cli

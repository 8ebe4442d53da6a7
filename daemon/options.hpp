// asenetd's command line: its own options (after `--`), checked before EAL
// starts so that a mistake is one line, not EAL's chatter or usage text.
#pragma once

#include <optional>
#include <string>

#include <boost/program_options.hpp>

namespace asenet::daemon {

/// The option table (also asenetd --help).
boost::program_options::options_description options();

/// Parses argv. Returns the options, or nullopt with `exit_code` set when
/// asenetd should stop now (0: --help or --version printed; 2: a mistake,
/// reported in one line). `eal_argc` is how many of argv go to EAL.
std::optional<boost::program_options::variables_map> parse_command_line(int argc, char** argv, int& eal_argc,
                                                                        int& exit_code);

}  // namespace asenet::daemon

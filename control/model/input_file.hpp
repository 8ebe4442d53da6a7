// Reading files named on the command line or inside a topology: only regular
// files, with a size limit, so `--topology /dev/zero`, a FIFO or a directory
// get one clear line instead of a hang or an eaten machine.
#pragma once

#include <cstddef>
#include <string>

namespace asenet::control {

/// The largest topology or NSG JSON file asenet reads (64 MiB): a 16,000-rule
/// NSG export is about 10 MiB.
inline constexpr size_t kMaxInputBytes = size_t{64} << 20;

/// Reads the whole of `path` into `out`. False with `error` (the reason, without
/// the path) when it is missing, not a regular file, a directory, or larger
/// than `limit`.
bool read_input_file(const std::string& path, std::string& out, std::string& error, size_t limit = kMaxInputBytes);

/// Whether `path` is a regular file that can be opened for reading (captures,
/// which are streamed and have no size limit). False with `error` otherwise.
bool check_regular_file(const std::string& path, std::string& error);

}  // namespace asenet::control

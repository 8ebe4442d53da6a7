// Writing files below an output folder whose path components come from input
// (NSG names in flow-log paths): every component is checked (no "", ".", ".."
// or '/'), each folder is opened with openat(O_NOFOLLOW) relative to the one
// above, and the file is created with O_NOFOLLOW, so neither a hostile name
// nor a symlink planted inside the folder can make asenet write outside it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace asenet::control {

/// Whether `c` may be one component of a path below an output folder.
bool safe_path_component(std::string_view c) noexcept;

/// Writes `content` to root/dirs[0]/.../dirs[n-1]/file, creating the folders
/// (mode 0755) and the file (0644). `root` itself is the user's own folder
/// (--out-dir, --flow-logs) and is created if missing. `append` adds to an
/// existing file instead of replacing it. False with `error` on any refusal.
bool write_file_beneath(const std::string& root, const std::vector<std::string>& dirs, const std::string& file,
                        std::string_view content, bool append, std::string& error);

}  // namespace asenet::control

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

/// A document that grows by items inside one frame, as Azure's PT1H.json
/// blobs do: head (`{"records":[`), items joined by separator, tail (`]}` and
/// a newline).
struct DocumentShape {
  std::string_view head, separator, tail;
};
/// Adds `items` (already joined by the separator) to the document in
/// root/dirs.../file, creating it when missing, and leaves it whole: the new
/// document is written beside it and renamed over it. A file that is not such
/// a document is left as it is and refused. Same checks as write_file_beneath.
/// `created`: whether the file was new.
bool append_to_document_beneath(const std::string& root, const std::vector<std::string>& dirs, const std::string& file,
                                const DocumentShape& shape, std::string_view items, bool& created, std::string& error);

}  // namespace asenet::control

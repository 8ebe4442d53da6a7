#include "control/report/safe_fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace asenet::control {

bool safe_path_component(std::string_view c) noexcept {
  if (c.empty() || c == "." || c == ".." || c.size() > 255) return false;
  for (const char ch : c)
    if (ch == '/' || ch == '\0') return false;
  return true;
}

bool write_file_beneath(const std::string& root, const std::vector<std::string>& dirs, const std::string& file,
                        std::string_view content, bool append, std::string& error) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    error = root + ": " + std::strerror(errno);
    return false;
  }
  std::string where = root;
  for (const auto& d : dirs) {
    if (!safe_path_component(d)) {
      error = where + ": refusing the path component '" + d + "' (it would leave the output folder)";
      ::close(fd);
      return false;
    }
    where += "/" + d;
    int next = ::openat(fd, d.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT) {
      if (::mkdirat(fd, d.c_str(), 0755) != 0 && errno != EEXIST) {
        error = where + ": " + std::strerror(errno);
        ::close(fd);
        return false;
      }
      next = ::openat(fd, d.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (next < 0) {
      error = where + (errno == ELOOP || errno == ENOTDIR ? ": is a symlink or not a folder; not followed"
                                                          : std::string(": ") + std::strerror(errno));
      ::close(fd);
      return false;
    }
    ::close(fd);
    fd = next;
  }
  if (!safe_path_component(file)) {
    error = where + ": refusing the file name '" + file + "'";
    ::close(fd);
    return false;
  }
  const int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
  const int out = ::openat(fd, file.c_str(), flags, 0644);
  ::close(fd);
  where += "/" + file;
  if (out < 0) {
    error = where + (errno == ELOOP ? ": is a symlink; not followed" : std::string(": ") + std::strerror(errno));
    return false;
  }
  size_t off = 0;
  while (off < content.size()) {
    const ssize_t n = ::write(out, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = where + ": " + std::strerror(errno);
      ::close(out);
      return false;
    }
    off += static_cast<size_t>(n);
  }
  if (::close(out) != 0) {
    error = where + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

}  // namespace asenet::control

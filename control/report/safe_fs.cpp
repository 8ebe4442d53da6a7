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

namespace {

/// Opens root/dirs[0]/.../dirs[n-1] as a folder, creating what is missing, one
/// component at a time with O_NOFOLLOW. -1 with `error` on a refusal; `where`
/// is the path reached (for messages).
int open_folder_beneath(const std::string& root, const std::vector<std::string>& dirs, std::string& where,
                        std::string& error) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    error = root + ": " + std::strerror(errno);
    return -1;
  }
  where = root;
  for (const auto& d : dirs) {
    if (!safe_path_component(d)) {
      error = where + ": refusing the path component '" + d + "' (it would leave the output folder)";
      ::close(fd);
      return -1;
    }
    where += "/" + d;
    int next = ::openat(fd, d.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT) {
      if (::mkdirat(fd, d.c_str(), 0755) != 0 && errno != EEXIST) {
        error = where + ": " + std::strerror(errno);
        ::close(fd);
        return -1;
      }
      next = ::openat(fd, d.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (next < 0) {
      error = where + (errno == ELOOP || errno == ENOTDIR ? ": is a symlink or not a folder; not followed"
                                                          : std::string(": ") + std::strerror(errno));
      ::close(fd);
      return -1;
    }
    ::close(fd);
    fd = next;
  }
  return fd;
}

bool write_all(int out, std::string_view content, const std::string& where, std::string& error) {
  size_t off = 0;
  while (off < content.size()) {
    const ssize_t n = ::write(out, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      error = where + ": " + std::strerror(errno);
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

/// The whole of `file` in folder `dir` (no symlink followed): true with
/// `exists` false when there is none.
bool read_beneath(int dir, const std::string& file, const std::string& where, bool& exists, std::string& content,
                  std::string& error) {
  const int in = ::openat(dir, file.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  exists = in >= 0 || errno != ENOENT;
  if (in < 0) {
    if (!exists) return true;
    error = where + (errno == ELOOP ? ": is a symlink; not followed" : std::string(": ") + std::strerror(errno));
    return false;
  }
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = where + ": " + std::strerror(errno);
      ::close(in);
      return false;
    }
    if (n == 0) break;
    content.append(buf, static_cast<size_t>(n));
  }
  ::close(in);
  return true;
}

}  // namespace

bool write_file_beneath(const std::string& root, const std::vector<std::string>& dirs, const std::string& file,
                        std::string_view content, bool append, std::string& error) {
  std::string where;
  const int fd = open_folder_beneath(root, dirs, where, error);
  if (fd < 0) return false;
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
  if (!write_all(out, content, where, error)) {
    ::close(out);
    return false;
  }
  if (::close(out) != 0) {
    error = where + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool append_to_document_beneath(const std::string& root, const std::vector<std::string>& dirs, const std::string& file,
                                const DocumentShape& shape, std::string_view items, bool& created, std::string& error) {
  std::string where;
  const int fd = open_folder_beneath(root, dirs, where, error);
  if (fd < 0) return false;
  const std::string tmp = "." + file + ".tmp";
  if (!safe_path_component(file) || !safe_path_component(tmp)) {
    error = where + ": refusing the file name '" + file + "'";
    ::close(fd);
    return false;
  }
  where += "/" + file;
  bool exists = false;
  std::string doc;
  if (!read_beneath(fd, file, where, exists, doc, error)) {
    ::close(fd);
    return false;
  }
  created = !exists;
  if (!exists) {
    doc = std::string(shape.head) + std::string(items) + std::string(shape.tail);
  } else if (doc.size() >= shape.head.size() + shape.tail.size() && doc.ends_with(shape.tail) &&
             doc.starts_with(shape.head)) {
    const bool empty = doc.size() == shape.head.size() + shape.tail.size();
    doc.resize(doc.size() - shape.tail.size());
    doc += empty ? "" : shape.separator;
    doc += items;
    doc += shape.tail;
  } else {
    error =
        where + ": not a document asenet wrote (it does not end with '" + std::string(shape.tail) + "'); left as it is";
    ::close(fd);
    return false;
  }
  // A new file beside the old, then renamed over it: a reader sees the old
  // document or the new one, never half of one (and rename replaces a symlink
  // planted under the file's name rather than following it).
  ::unlinkat(fd, tmp.c_str(), 0);
  const int out = ::openat(fd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (out < 0) {
    error = where + ": " + std::strerror(errno);
    ::close(fd);
    return false;
  }
  bool ok = write_all(out, doc, where, error);
  if (::close(out) != 0 && ok) {
    error = where + ": " + std::strerror(errno);
    ok = false;
  }
  if (ok && ::renameat(fd, tmp.c_str(), fd, file.c_str()) != 0) {
    error = where + ": " + std::strerror(errno);
    ok = false;
  }
  if (!ok) ::unlinkat(fd, tmp.c_str(), 0);
  ::close(fd);
  return ok;
}

}  // namespace asenet::control

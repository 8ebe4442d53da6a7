#include "control/model/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace asenet::control {

namespace {

std::string kind_of(mode_t m) {
  if (S_ISDIR(m)) return "is a directory";
  if (S_ISFIFO(m)) return "is a FIFO, not a regular file";
  if (S_ISCHR(m) || S_ISBLK(m)) return "is a device, not a regular file";
  if (S_ISSOCK(m)) return "is a socket, not a regular file";
  return "is not a regular file";
}

/// Opens `path` for reading if it is a regular file (never blocking on a FIFO:
/// the type is checked before the open, and again on the descriptor).
int open_regular(const std::string& path, struct stat& st, std::string& error) {
  if (::stat(path.c_str(), &st) != 0) {
    error = std::string("cannot open: ") + std::strerror(errno);
    return -1;
  }
  if (!S_ISREG(st.st_mode)) {
    error = kind_of(st.st_mode);
    return -1;
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    error = std::string("cannot open: ") + std::strerror(errno);
    return -1;
  }
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {  // replaced between stat and open
    error = kind_of(st.st_mode);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

bool read_input_file(const std::string& path, std::string& out, std::string& error, size_t limit) {
  struct stat st {};
  const int fd = open_regular(path, st, error);
  if (fd < 0) return false;
  auto too_large = [&](size_t n) {
    error = "is " + std::to_string(n) + " bytes; asenet reads at most " + std::to_string(limit >> 20) + " MiB";
    ::close(fd);
    return false;
  };
  if (static_cast<uint64_t>(st.st_size) > limit) return too_large(static_cast<size_t>(st.st_size));
  out.clear();
  out.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::string("cannot read: ") + std::strerror(errno);
      ::close(fd);
      return false;
    }
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > limit) return too_large(out.size());  // it grew while we read
  }
  ::close(fd);
  return true;
}

bool check_regular_file(const std::string& path, std::string& error) {
  struct stat st {};
  const int fd = open_regular(path, st, error);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

}  // namespace asenet::control

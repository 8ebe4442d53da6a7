#include "protocol/control_socket.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace asenet::control {

namespace {

bool make_address(const std::string& path, sockaddr_un& addr, std::string& error) {
  std::memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    error = "control socket path '" + path + "' is empty or longer than " + std::to_string(sizeof addr.sun_path - 1) +
            " bytes";
    return false;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  return true;
}

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::optional<gid_t> lookup_group(const std::string& name) {
  if (name.empty()) return std::nullopt;
  if (const group* g = getgrnam(name.c_str())) return g->gr_gid;
  char* end = nullptr;
  const unsigned long v = std::strtoul(name.c_str(), &end, 10);
  if (end != nullptr && *end == '\0') return static_cast<gid_t>(v);
  return std::nullopt;
}

ControlServer::~ControlServer() {
  for (auto& c : clients_) ::close(c.fd);
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(opt_.path.c_str());
  }
}

bool ControlServer::listen(const ControlServerOptions& opt, std::string& error) {
  opt_ = opt;
  sockaddr_un addr{};
  if (!make_address(opt.path, addr, error)) return false;
  // Someone listening there already? Then it is not ours to replace.
  struct stat st {};
  if (::lstat(opt.path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      error = opt.path + " exists and is not a socket";
      return false;
    }
    const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const bool live = ::connect(probe, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(probe);
    if (live) {
      error = opt.path + ": another process is listening there";
      return false;
    }
    ::unlink(opt.path.c_str());
  }
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (listen_fd_ < 0) {
    error = "socket: " + errno_text();
    return false;
  }
  // The socket file is created 0600 from the start: no window in which others
  // could connect before a chmod.
  const mode_t old = ::umask(0177);
  const int b = ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  const int bind_errno = errno;
  ::umask(old);
  if (b != 0) {
    error = "bind " + opt.path + ": " + std::strerror(bind_errno);
    ::close(listen_fd_);
    listen_fd_ = -1;
    return false;
  }
  if (opt.group) {
    if (::chown(opt.path.c_str(), static_cast<uid_t>(-1), *opt.group) != 0 || ::chmod(opt.path.c_str(), 0660) != 0) {
      error = "giving " + opt.path + " to group " + std::to_string(*opt.group) + ": " + errno_text();
      return false;
    }
  }
  if (::listen(listen_fd_, 16) != 0) {
    error = "listen " + opt.path + ": " + errno_text();
    return false;
  }
  return true;
}

bool ControlServer::peer_allowed(int fd) const {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
  if (cred.uid == 0 || cred.uid == ::geteuid()) return true;
  if (!opt_.group) return false;
  if (cred.gid == *opt_.group) return true;
  // Supplementary groups of the peer's user.
  if (const passwd* pw = ::getpwuid(cred.uid)) {
    int n = 64;
    std::vector<gid_t> groups(static_cast<size_t>(n));
    if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &n) >= 0) {
      for (int i = 0; i < n; ++i)
        if (groups[static_cast<size_t>(i)] == *opt_.group) return true;
    }
  }
  return false;
}

void ControlServer::accept_clients() {
  for (;;) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (clients_.size() >= opt_.max_clients || !peer_allowed(fd)) {
      ++rejected_;
      const std::string why = clients_.size() >= opt_.max_clients
                                  ? std::string(kBusyText) + ": " + std::to_string(clients_.size()) +
                                        " clients connected (the limit); try again"
                                  : std::string(kPermissionText);
      const std::string f = wire::frame(wire::Type::kError, why);
      [[maybe_unused]] const ssize_t w = ::send(fd, f.data(), f.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      continue;
    }
    Client c;
    c.id = next_id_++;
    c.fd = fd;
    c.idle_since = std::chrono::steady_clock::now();
    clients_.push_back(std::move(c));
  }
}

bool ControlServer::read_client(Client& c, const ControlServer::Handler& handler) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(c.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return false;  // peer closed
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      if (errno == EINTR) continue;
      return false;
    }
    if (c.closing) continue;  // discard input after an error
    if (c.in.empty()) c.partial_since = std::chrono::steady_clock::now();
    c.in.append(buf, static_cast<size_t>(n));
    // Frames complete so far.
    size_t off = 0;
    while (!c.closing && c.in.size() - off >= wire::kHeaderSize) {
      wire::Header h;
      const auto check = wire::parse_header(reinterpret_cast<const uint8_t*>(c.in.data() + off), h);
      if (check != wire::HeaderCheck::kOk) {
        ++malformed_;
        c.out += wire::frame(wire::Type::kError, wire::header_error(check, h));
        c.closing = true;
        break;
      }
      if (c.in.size() - off - wire::kHeaderSize < h.length) break;
      const std::string_view payload(c.in.data() + off + wire::kHeaderSize, h.length);
      off += wire::kHeaderSize + h.length;
      handler(c.id, h.type, payload);
      c.idle_since = std::chrono::steady_clock::now();
      // The handler may have sent to this client: `c` is still valid (clients_
      // only grows in accept_clients and shrinks in poll()).
    }
    if (off > 0) {
      c.in.erase(0, off);
      c.partial_since = std::chrono::steady_clock::now();
    }
  }
  return true;
}

bool ControlServer::write_client(Client& c) {
  while (!c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (errno == EINTR) continue;
      return false;
    }
    c.out.erase(0, static_cast<size_t>(n));
  }
  return true;
}

void ControlServer::drop(size_t index) {
  ::close(clients_[index].fd);
  clients_.erase(clients_.begin() + static_cast<std::ptrdiff_t>(index));
}

void ControlServer::poll(int timeout_ms, const ControlServer::Handler& handler) {
  std::vector<pollfd> fds;
  fds.push_back({listen_fd_, POLLIN, 0});
  for (const auto& c : clients_) fds.push_back({c.fd, static_cast<short>(POLLIN | (c.out.empty() ? 0 : POLLOUT)), 0});
  const int r = ::poll(fds.data(), fds.size(), timeout_ms);
  const auto now = std::chrono::steady_clock::now();
  const size_t polled = clients_.size();
  if (r > 0) {
    for (size_t i = 0; i < polled; ++i) {
      const short ev = fds[i + 1].revents;
      Client& c = clients_[i];
      if ((ev & (POLLIN | POLLHUP | POLLERR)) != 0 && !read_client(c, handler)) {
        c.closing = true;  // the peer went: nothing left to send it
        c.out.clear();
      }
    }
  }
  for (size_t i = clients_.size(); i-- > 0;) {
    Client& c = clients_[i];
    if (!c.in.empty() && !c.closing && now - c.partial_since > opt_.partial_timeout) {
      ++malformed_;
      c.out += wire::frame(wire::Type::kError, "incomplete message: timed out waiting for the rest");
      c.closing = true;
    }
    if (c.in.empty() && c.out.empty() && !c.closing && !c.held && now - c.idle_since > opt_.idle_timeout) {
      c.out += wire::frame(wire::Type::kError, "no request within " + std::to_string(opt_.idle_timeout.count() / 1000) +
                                                   " s of connecting or of the last reply: closed");
      c.closing = true;
    }
    const bool had_output = !c.out.empty();
    const bool send_failed = !write_client(c);
    if (had_output && c.out.empty()) c.idle_since = now;  // the reply is out: its reader gets a fresh window
    if (send_failed || (c.closing && c.out.empty()) || c.out.size() > opt_.max_output) drop(i);
  }
  if (r > 0 && (fds[0].revents & POLLIN) != 0) accept_clients();
}

ControlServer::Client* ControlServer::find(ClientId id) {
  for (auto& c : clients_)
    if (c.id == id) return &c;
  return nullptr;
}
const ControlServer::Client* ControlServer::find(ClientId id) const {
  for (const auto& c : clients_)
    if (c.id == id) return &c;
  return nullptr;
}

void ControlServer::send(ClientId id, wire::Type type, std::string_view payload) {
  if (Client* c = find(id); c != nullptr && !c->closing) c->out += wire::frame(type, payload);
}

void ControlServer::close_after_send(ClientId id) {
  if (Client* c = find(id)) c->closing = true;
}

void ControlServer::hold(ClientId id, bool held) {
  if (Client* c = find(id)) {
    c->held = held;
    c->idle_since = std::chrono::steady_clock::now();
  }
}

bool ControlServer::connected(ClientId id) const {
  const Client* c = find(id);
  return c != nullptr && !c->closing;
}

ControlClient::~ControlClient() {
  if (fd_ >= 0) ::close(fd_);
}

namespace {

int ms_left(ControlClient::Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left.count(), 1 << 30));
}

}  // namespace

bool ControlClient::connect(const std::string& path, Deadline deadline, std::string& error) {
  sockaddr_un addr{};
  if (!make_address(path, addr, error)) return false;
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) {
    error = "socket: " + errno_text();
    return false;
  }
  // Non-blocking: a server whose listen queue is full makes connect() fail
  // with EAGAIN instead of blocking; try again until the deadline.
  for (;;) {
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) break;
    if ((errno == EAGAIN || errno == EINTR) && ms_left(deadline) > 0) {
      ::poll(nullptr, 0, std::min(50, ms_left(deadline)));
      continue;
    }
    if (errno == EAGAIN) {
      timed_out_ = true;
      error = "cannot connect to " + path + ": asenetd's listen queue stayed full until the timeout";
      return false;
    }
    error = "cannot connect to " + path + ": " + errno_text() +
            (errno == EACCES ? " (the socket is mode 0600: run as asenetd's user, or start asenetd with "
                               "--control-group)"
                             : " (is asenetd running with --control-socket " + path + "?)");
    return false;
  }
  return true;
}

bool ControlClient::read_pending_rejection(std::string& error) {
  // asenetd answers a connection it turns away with one error frame and
  // closes; our request may meet the closed socket first. Read that frame.
  uint8_t hdr[wire::kHeaderSize];
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 500) <= 0) return false;
  if (::recv(fd_, hdr, sizeof hdr, MSG_PEEK) != static_cast<ssize_t>(sizeof hdr)) return false;
  wire::Header h;
  if (wire::parse_header(hdr, h) != wire::HeaderCheck::kOk || h.type != wire::Type::kError || h.length > 4096)
    return false;
  std::string buf(wire::kHeaderSize + h.length, '\0');
  const ssize_t n = ::recv(fd_, buf.data(), buf.size(), MSG_WAITALL);
  if (n != static_cast<ssize_t>(buf.size())) return false;
  const std::string text = buf.substr(wire::kHeaderSize);
  if (!is_rejection(text)) return false;
  rejected_ = true;
  error = text;
  return true;
}

bool ControlClient::send(wire::Type type, std::string_view payload, Deadline deadline, std::string& error) {
  const std::string f = wire::frame(type, payload);
  size_t off = 0;
  while (off < f.size()) {
    const ssize_t n = ::send(fd_, f.data() + off, f.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        pollfd p{fd_, POLLOUT, 0};
        if (ms_left(deadline) == 0 || ::poll(&p, 1, ms_left(deadline)) == 0) {
          timed_out_ = true;
          error = "asenetd did not read the request before the timeout";
          return false;
        }
        continue;
      }
      if ((errno == EPIPE || errno == ECONNRESET) && read_pending_rejection(error)) return false;
      error = "sending to asenetd: " + errno_text();
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

bool ControlClient::receive(wire::Type& type, std::string& payload, Deadline deadline, std::string& error) {
  auto read_exact = [&](char* dst, size_t n) {
    size_t got = 0;
    while (got < n) {
      const int left = ms_left(deadline);
      if (left == 0) {
        timed_out_ = true;
        error = "no answer from asenetd before the timeout";
        return false;
      }
      pollfd p{fd_, POLLIN, 0};
      const int r = ::poll(&p, 1, left);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) continue;
      const ssize_t k = ::recv(fd_, dst + got, n - got, 0);
      if (k == 0) {
        error = "asenetd closed the connection";
        return false;
      }
      if (k < 0) {
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
        error = "reading from asenetd: " + errno_text();
        return false;
      }
      got += static_cast<size_t>(k);
    }
    return true;
  };
  uint8_t hdr[wire::kHeaderSize];
  if (!read_exact(reinterpret_cast<char*>(hdr), sizeof hdr)) return false;
  wire::Header h;
  if (const auto check = wire::parse_header(hdr, h); check != wire::HeaderCheck::kOk) {
    error = "bad reply from asenetd: " + wire::header_error(check, h);
    return false;
  }
  payload.resize(h.length);
  if (!read_exact(payload.data(), h.length)) return false;
  type = h.type;
  if (type == wire::Type::kError && is_rejection(payload)) rejected_ = true;
  return true;
}

}  // namespace asenet::control

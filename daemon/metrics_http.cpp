#include "daemon/metrics_http.hpp"

#include <arpa/inet.h>
#include <httplib.h>

#include <thread>

#include "control/report/stats.hpp"

namespace asenet::daemon {

std::optional<ListenAddress> parse_listen_address(const std::string& text, std::string& error) {
  ListenAddress out;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "'" + text + "': an IPv6 address is written [ADDR]:PORT";
      return std::nullopt;
    }
    out.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) {
      error = "'" + text + "': give ADDR:PORT (e.g. 127.0.0.1:9469)";
      return std::nullopt;
    }
    out.host = text.substr(0, colon);
    port = text.substr(colon + 1);
  }
  unsigned char buf[16];
  if (inet_pton(AF_INET, out.host.c_str(), buf) != 1 && inet_pton(AF_INET6, out.host.c_str(), buf) != 1) {
    error = "'" + out.host + "' is not an IPv4 or IPv6 address";
    return std::nullopt;
  }
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoul(port) == 0 || std::stoul(port) > 65535) {
    error = "'" + port + "' is not a port (1-65535)";
    return std::nullopt;
  }
  out.port = static_cast<uint16_t>(std::stoul(port));
  return out;
}

struct MetricsServer::Impl {
  httplib::Server server;
  std::thread thread;
};

MetricsServer::MetricsServer() : impl_(std::make_unique<Impl>()) {}

MetricsServer::~MetricsServer() { stop(); }

bool MetricsServer::start(const ListenAddress& at, const control::LiveDataplane& live, std::string& error) {
  auto& s = impl_->server;
  // Two threads are plenty for a scraper or two; a client that sends
  // nothing, or too much, is cut off rather than holding one.
  s.new_task_queue = [] { return new httplib::ThreadPool(2); };
  s.set_read_timeout(5, 0);
  s.set_write_timeout(5, 0);
  s.set_keep_alive_max_count(100);
  s.set_payload_max_length(4096);
  // SO_REUSEADDR (a restart binds at once), but not httplib's default
  // SO_REUSEPORT, with which a second asenetd would share the port unseen.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  s.Get("/metrics", [&live](const httplib::Request&, httplib::Response& res) {
    res.set_content(control::stats_prometheus(live.telemetry_copy()), "text/plain; version=0.0.4; charset=utf-8");
  });
  s.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("asenetd: Prometheus metrics at /metrics\n", "text/plain; charset=utf-8");
  });
  if (!s.bind_to_port(at.host, at.port)) {
    error = "cannot listen on " + at.host + " port " + std::to_string(at.port) +
            " (in use, or not an address of this host)";
    return false;
  }
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  return true;
}

void MetricsServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

}  // namespace asenet::daemon

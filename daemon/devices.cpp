#include "daemon/devices.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <rte_dev.h>
#include <rte_errno.h>
#include <rte_ethdev.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace asenet::daemon {

using dataplane::kNumPorts;
using dataplane::Port;
using dataplane::port_name;

namespace {

/// Whether this process may create TAP devices: root or CAP_NET_ADMIN (bit 12
/// of the effective set), and /dev/net/tun opens. False with the reason.
bool can_make_taps(std::string& error) {
  bool admin = ::geteuid() == 0;
  if (!admin) {
    std::ifstream st("/proc/self/status");
    std::string line;
    while (std::getline(st, line))
      if (line.rfind("CapEff:", 0) == 0) admin = (std::stoull(line.substr(7), nullptr, 16) >> 12 & 1) != 0;
  }
  if (!admin) {
    error = "a TAP device needs root or CAP_NET_ADMIN; asenetd runs as uid " + std::to_string(::geteuid()) +
            " without it (run it as root, or give the binary cap_net_admin)";
    return false;
  }
  const int fd = ::open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    error = std::string("cannot open /dev/net/tun for a TAP device: ") + std::strerror(errno);
    return false;
  }
  ::close(fd);
  return true;
}

/// The process (pid and name) other than this one that holds TAP `iface` open,
/// found in /proc/PID/fdinfo ("iff:" names a tun/tap file's interface); 0 if none.
/// DPDK's net_tap opens its TAP multi-queue, so the kernel would let a second
/// process attach to the same device and split its traffic without a word.
int tap_holder(const std::string& iface, std::string& comm) {
  std::error_code ec;
  if (!std::filesystem::exists("/sys/class/net/" + iface + "/tun_flags", ec)) return 0;
  const int self = ::getpid();
  for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string pid = proc.path().filename().string();
    if (pid.empty() || pid.find_first_not_of("0123456789") != std::string::npos || std::stoi(pid) == self) continue;
    std::error_code ec2;
    for (const auto& fd : std::filesystem::directory_iterator(proc.path() / "fdinfo", ec2)) {
      std::ifstream in(fd.path());
      std::string line;
      while (std::getline(in, line))
        if (line.rfind("iff:", 0) == 0 && line.substr(line.find_first_not_of(" \t", 4)) == iface) {
          std::ifstream c(proc.path() / "comm");
          std::getline(c, comm);
          return std::stoi(pid);
        }
    }
  }
  return 0;
}

}  // namespace

int attach_port(const std::string& spec, std::string& error) {
  std::string devargs = spec;
  if (spec.rfind("tap:", 0) == 0) devargs = "net_tap_" + spec.substr(4) + ",iface=" + spec.substr(4);
  const std::string name = devargs.substr(0, devargs.find(','));
  uint16_t port = 0;
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port) == 0) return port;
  if ((name.rfind("net_tap", 0) == 0 || name.rfind("net_tun", 0) == 0) && !can_make_taps(error)) return -1;
  if (const auto at = devargs.find("iface="); at != std::string::npos) {
    const std::string iface = devargs.substr(at + 6, devargs.find(',', at) - (at + 6));
    std::string comm;
    if (const int pid = tap_holder(iface, comm); pid != 0) {
      error = "TAP " + iface + " is held by process " + std::to_string(pid) + " (" + comm +
              "): another asenetd or lab owns it; stop that one or choose another name";
      return -1;
    }
  }
  if (name.rfind("net_null", 0) == 0 && devargs.find("no-rx=1") == std::string::npos)
    std::cerr << "warning: " << spec << ": a net_null device without no-rx=1 receives endless empty frames, "
              << "each dropped as malformed; add no-rx=1 for a side that only sends\n";
  if (rte_dev_probe(devargs.c_str()) != 0) {
    error = "cannot probe device '" + devargs + "': " + rte_strerror(rte_errno);
    return -1;
  }
  if (rte_eth_dev_get_port_by_name(name.c_str(), &port) != 0) {
    error = "device '" + devargs + "' was probed but has no ethdev named '" + name + "'";
    return -1;
  }
  return port;
}

bool attach_ports(const control::Topology& topo, std::array<uint16_t, kNumPorts>& ids, std::string& error) {
  const std::array<const std::optional<std::string>*, kNumPorts> specs = {&topo.ports.internet, &topo.ports.vnet,
                                                                          &topo.ports.onprem};
  for (size_t s = 0; s < kNumPorts; ++s) {
    const std::string where = topo.file + ": ports." + std::string(port_name(static_cast<Port>(s))) + ": ";
    if (!specs[s]->has_value()) {
      error = where + "missing; live mode needs a device for every side (net_null0 for an unused one)";
      return false;
    }
    std::string why;
    const int p = attach_port(**specs[s], why);
    if (p < 0) {
      error = where + why;
      return false;
    }
    for (size_t o = 0; o < s; ++o) {
      if (ids[o] == p) {
        error = where + "device is already side " + std::string(port_name(static_cast<Port>(o)));
        return false;
      }
    }
    ids[s] = static_cast<uint16_t>(p);
  }
  return true;
}

}  // namespace asenet::daemon

#include "dataplane/ports/ports.hpp"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ring.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <string_view>

#include "dataplane/core/packet.hpp"

namespace asenet::dataplane {

std::string floating_lcores(unsigned n_lcores) {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::string cpus;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    for (int c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) cpus += (cpus.empty() ? "" : ",") + std::to_string(c);
  }
  if (cpus.empty()) cpus = "0";
  return "(0-" + std::to_string(n_lcores - 1) + ")@(" + cpus + ")";
}

int eal_init(const std::vector<std::string>& args, std::string& error) {
  // rte_eal_init keeps pointers into argv: give it storage that lives forever.
  static std::vector<std::string> storage;
  static std::vector<char*> argv;
  storage = args;
  argv.clear();
  for (auto& s : storage) argv.push_back(s.data());
  argv.push_back(nullptr);
  int rc = rte_eal_init(static_cast<int>(storage.size()), argv.data());
  if (rc < 0) {
    error = "rte_eal_init failed: " + std::string(rte_strerror(rte_errno));
    return -1;
  }
  return rc;
}

bool setup_port(uint16_t port_id, uint16_t queues, rte_mempool* pool, std::string& error, uint16_t extra_tx) {
  rte_eth_dev_info info{};
  int rc = rte_eth_dev_info_get(port_id, &info);
  if (rc != 0) {
    error = "rte_eth_dev_info_get: " + std::string(rte_strerror(-rc));
    return false;
  }
  if (queues > info.max_rx_queues || queues + extra_tx > info.max_tx_queues) {
    error = "device " + std::string(info.device != nullptr ? rte_dev_name(info.device) : "?") + " supports " +
            std::to_string(info.max_rx_queues) + " RX queues, " + std::to_string(queues) + " workers need one each";
    return false;
  }
  rte_eth_conf conf{};
  if (queues > 1) {
    const uint64_t hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
    if (hf != 0) {
      conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
      conf.rx_adv_conf.rss_conf.rss_hf = hf;
    }
  }
  if ((rc = rte_eth_dev_configure(port_id, queues, static_cast<uint16_t>(queues + extra_tx), &conf)) != 0) {
    error = "rte_eth_dev_configure: " + std::string(rte_strerror(-rc));
    return false;
  }
  uint16_t nrx = 1024, ntx = 1024;
  rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nrx, &ntx);
  const int socket = rte_eth_dev_socket_id(port_id);
  for (uint16_t q = 0; q < queues; ++q) {
    if ((rc = rte_eth_rx_queue_setup(port_id, q, nrx, static_cast<unsigned>(socket), nullptr, pool)) != 0 ||
        (rc = rte_eth_tx_queue_setup(port_id, q, ntx, static_cast<unsigned>(socket), nullptr)) != 0) {
      error = "queue setup: " + std::string(rte_strerror(-rc));
      return false;
    }
  }
  for (uint16_t q = queues; q < queues + extra_tx; ++q) {
    if ((rc = rte_eth_tx_queue_setup(port_id, q, ntx, static_cast<unsigned>(socket), nullptr)) != 0) {
      error = "control TX queue setup: " + std::string(rte_strerror(-rc));
      return false;
    }
  }
  if ((rc = rte_eth_dev_start(port_id)) != 0) {
    error = "rte_eth_dev_start: " + std::string(rte_strerror(-rc));
    return false;
  }
  rte_eth_promiscuous_enable(port_id);  // not every PMD supports it; harmless then
  return true;
}

uint16_t data_room_for_mtu(uint16_t mtu) {
  // A frame, a VLAN tag, the CRC and 32 bytes more, in whole KiB:
  // net_af_packet counts a ring frame's TPACKET header against the mbuf
  // when it checks the fit, and scripts/lab sizes its ring frames so.
  const unsigned need =
      RTE_PKTMBUF_HEADROOM + (RTE_ETHER_HDR_LEN + 4 /* VLAN */ + mtu + RTE_ETHER_CRC_LEN + 32 + 1023) / 1024 * 1024;
  return static_cast<uint16_t>(std::max<unsigned>(RTE_MBUF_DEFAULT_BUF_SIZE, need));
}

bool set_port_mtu(uint16_t port_id, uint16_t mtu, std::string& error) {
  uint16_t now = 0;
  if (rte_eth_dev_get_mtu(port_id, &now) == 0 && now == mtu) return true;
  rte_eth_dev_info info{};
  rte_eth_dev_info_get(port_id, &info);
  const std::string_view driver = info.driver_name != nullptr ? info.driver_name : "";
  if (driver == "net_tap" && mtu > RTE_ETHER_MTU) {
    // It reports a 1,522-byte frame limit, and its transmit drops any frame
    // longer than the MTU ethdev holds: setting the kernel's MTU alone would
    // carry jumbo frames one way only.
    error = "cannot set MTU " + std::to_string(mtu) + ": DPDK's net_tap carries frames of MTU 1500 at most; use " +
            "net_af_packet on a veth for a larger MTU (scripts/lab up --ports af_packet)";
    return false;
  }
  // net_af_packet reports a 1,518-byte frame limit to ethdev, yet moves a
  // whole ring frame (the lab sizes them to the MTU) into one mbuf of ours:
  // the kernel interface's MTU is what bounds it, so that is the one to set.
  char ifname[IF_NAMESIZE] = {};
  if (driver == "net_af_packet" && info.if_index != 0 && if_indextoname(info.if_index, ifname) != nullptr) {
    const int fd = socket(AF_INET, SOCK_DGRAM, 0);
    ifreq ifr{};
    std::memcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name) - 1);
    ifr.ifr_mtu = mtu;
    const bool ok = fd >= 0 && ioctl(fd, SIOCSIFMTU, &ifr) == 0;
    if (fd >= 0) close(fd);
    if (ok) return true;
    error = "cannot set MTU " + std::to_string(mtu) + " on " + ifname + ": " + std::strerror(errno);
    return false;
  }
  const int rc = rte_eth_dev_set_mtu(port_id, mtu);
  if (rc == 0 || rc == -ENOTSUP) return true;
  const unsigned most = info.max_rx_pktlen > RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN
                            ? info.max_rx_pktlen - RTE_ETHER_HDR_LEN - RTE_ETHER_CRC_LEN
                            : info.max_mtu;
  error = "cannot set MTU " + std::to_string(mtu) + " (the device carries at most " +
          std::to_string(std::min<unsigned>(most, info.max_mtu)) + "): " + rte_strerror(-rc);
  return false;
}

bool create_replay_ports(unsigned workers, unsigned ring_size, rte_mempool* pool, ReplayPorts& out,
                         std::string& error) {
  static std::atomic<unsigned> serial{0};
  const unsigned id = serial.fetch_add(1);
  auto ring = [&](const std::string& name) -> rte_ring* {
    rte_ring* r = rte_ring_create(name.c_str(), ring_size, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (r == nullptr)
      error = "rte_ring_create " + name + ": " + rte_strerror(rte_errno);
    else
      out.all_rings.push_back(r);
    return r;
  };
  auto make_dev = [&](const std::string& name, std::vector<rte_ring*>& rx, std::vector<rte_ring*>& tx,
                      uint16_t& port) -> bool {
    int p = rte_eth_from_rings(name.c_str(), rx.data(), static_cast<unsigned>(rx.size()), tx.data(),
                               static_cast<unsigned>(tx.size()), SOCKET_ID_ANY);
    if (p < 0) {
      error = "rte_eth_from_rings " + name + ": " + rte_strerror(rte_errno);
      return false;
    }
    port = static_cast<uint16_t>(p);
    return setup_port(port, static_cast<uint16_t>(workers), pool, error);
  };
  const std::string base = "rp" + std::to_string(id);
  std::vector<rte_ring*> unused_tx, unused_rx;
  for (unsigned w = 0; w < workers; ++w) {
    rte_ring* a = ring(base + "_in" + std::to_string(w));
    rte_ring* b = ring(base + "_nt" + std::to_string(w));
    if (a == nullptr || b == nullptr) return false;
    out.in_rings.push_back(a);
    unused_tx.push_back(b);
  }
  if (!make_dev(base + "_in", out.in_rings, unused_tx, out.in_port)) return false;
  for (size_t side = 0; side < kNumPorts; ++side) {
    std::vector<rte_ring*> rx;
    for (unsigned w = 0; w < workers; ++w) {
      rte_ring* a = ring(base + "_nr" + std::to_string(side) + "_" + std::to_string(w));
      rte_ring* b = ring(base + "_o" + std::to_string(side) + "_" + std::to_string(w));
      if (a == nullptr || b == nullptr) return false;
      rx.push_back(a);
      out.out_rings[side].push_back(b);
    }
    if (!make_dev(base + "_" + std::string(port_name(static_cast<Port>(side))), rx, out.out_rings[side],
                  out.out_port[side]))
      return false;
  }
  return true;
}

void destroy_replay_ports(ReplayPorts& ports) {
  for (uint16_t p : {ports.in_port, ports.out_port[0], ports.out_port[1], ports.out_port[2]}) {
    rte_eth_dev_stop(p);
    rte_eth_dev_close(p);
  }
  for (rte_ring* r : ports.all_rings) rte_ring_free(r);
  ports.all_rings.clear();
}

uint64_t steer_hash(const uint8_t* frame, uint32_t len, const std::vector<uint32_t>& fabric) noexcept {
  PacketMeta m;
  if (parse_packet(frame, len, len, m) != DropReason::kNone) return 0;
  if ((m.flags & kFlagIcmpError) != 0) {
    // An ICMP error belongs with the flow of the packet it quotes.
    m.src_ip = m.inner_src;
    m.dst_ip = m.inner_dst;
    m.sport = m.inner_sport;
    m.dport = m.inner_dport;
    m.proto = m.inner_proto;
    m.flags = kFlagHasPorts;
  }
  const bool fs = std::binary_search(fabric.begin(), fabric.end(), m.src_ip);
  const bool fd = std::binary_search(fabric.begin(), fabric.end(), m.dst_ip);
  if (fs && fd) return 0;
  if (fs || fd) {
    // NAT changes the fabric end (VIP <-> instance), never the other one, and
    // SNAT ports are reused per destination: one owner per external address.
    return (uint64_t{fs ? m.dst_ip : m.src_ip} * 0x9e3779b97f4a7c15ull) >> 17;
  }
  uint32_t a = m.src_ip, b = m.dst_ip;
  uint32_t pa = m.sport, pb = m.dport;
  if (a > b || (a == b && pa > pb)) {
    std::swap(a, b);
    std::swap(pa, pb);
  }
  // Fragments carry no ports: hash on addresses alone so all pieces meet.
  uint64_t h = (static_cast<uint64_t>(a) << 32 | b) * 0x9e3779b97f4a7c15ull;
  if ((m.flags & kFlagFragment) == 0)
    h ^= (static_cast<uint64_t>(pa) << 16 | pb | uint64_t{m.proto} << 32) * 0xc2b2ae3d27d4eb4full;
  return h ^ (h >> 29);
}

unsigned steer_unit(const uint8_t* frame, uint32_t len, unsigned units, const std::vector<uint32_t>& fabric) noexcept {
  if (units <= 1) return 0;
  return static_cast<unsigned>(steer_hash(frame, len, fabric) % units);
}

}  // namespace asenet::dataplane

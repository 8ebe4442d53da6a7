// EAL start-up and port plumbing shared by asenetd and replay.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "dataplane/tables/table_spec.hpp"

struct rte_mempool;
struct rte_ring;

namespace asenet::dataplane {

/// "(0-N)@(cpus)": N+1 lcores floating over the CPUs this process may use, so
/// replay can run more workers than the machine has cores.
std::string floating_lcores(unsigned n_lcores);

/// rte_eal_init with an argv built from `args` (args[0] is the program name).
/// Returns the number of arguments consumed, or -1 with `error` set.
int eal_init(const std::vector<std::string>& args, std::string& error);

/// Configures `port_id` with `queues` RX and TX queues (RSS over IP when
/// queues > 1 and the device can), starts it. Control thread.
/// `extra_tx` more TX queues (after the workers') for the control thread.
bool setup_port(uint16_t port_id, uint16_t queues, rte_mempool* pool, std::string& error, uint16_t extra_tx = 0);

/// The mbuf data room for frames of IPv4 `mtu` in one segment (Ethernet and
/// one VLAN tag on top, DPDK's headroom before), in whole KiB, for
/// net_af_packet checks its ring frames against it: DPDK's default up to 1500.
uint16_t data_room_for_mtu(uint16_t mtu);

/// Sets the device's MTU ([emulator] mtu): for net_af_packet it is the
/// kernel interface's, so the namespaces behind it can send that much; net_tap
/// refuses one above 1500 (its driver cannot carry it). A device without an
/// MTU (pcap, null, rings: -ENOTSUP) takes what its mbufs hold.
bool set_port_mtu(uint16_t port_id, uint16_t mtu, std::string& error);

/// Replay's ports: one ring-backed ethdev carrying every side's input (one ordered
/// queue per worker), and one ring-backed ethdev per side for output.
struct ReplayPorts {
  uint16_t in_port = 0;
  std::array<uint16_t, kNumPorts> out_port{};
  std::vector<rte_ring*> in_rings;                          ///< [worker]
  std::array<std::vector<rte_ring*>, kNumPorts> out_rings;  ///< [side][worker]
  std::vector<rte_ring*> all_rings;                         ///< every ring, for cleanup
};
bool create_replay_ports(unsigned workers, unsigned ring_size, rte_mempool* pool, ReplayPorts& out, std::string& error);
void destroy_replay_ports(ReplayPorts& ports);

/// The worker a packet belongs to, so that both directions of a flow, NAT
/// included, meet the same flow table and SNAT pool (docs/design/lb-nat.md):
/// a flow with one end on the fabric (a VIP, an ILB, an ASE instance) goes by
/// the other end's address; one between two fabric addresses (a VIP hairpin)
/// to worker 0; anything else by a symmetric hash of both ends. `fabric` is
/// sorted.
/// In a pool (peer_link.hpp) the same rule over nodes x workers: the owner
/// is unit u = steer_unit(..., nodes * workers, ...), node u / workers, worker
/// u % workers, while every node is a member; PoolMap (tables/pool_map.hpp)
/// maps steer_hash to a unit in general. One node gives steer_worker's answer.
unsigned steer_unit(const uint8_t* frame, uint32_t len, unsigned units, const std::vector<uint32_t>& fabric) noexcept;
/// The hash steer_unit takes modulo the units (a pool's PoolMap takes it
/// modulo its slots): 0 for a frame it cannot parse or between two fabric ends.
uint64_t steer_hash(const uint8_t* frame, uint32_t len, const std::vector<uint32_t>& fabric) noexcept;
inline unsigned steer_worker(const uint8_t* frame, uint32_t len, unsigned workers,
                             const std::vector<uint32_t>& fabric) noexcept {
  return steer_unit(frame, len, workers, fabric);
}

}  // namespace asenet::dataplane

// Peer links between the asenetd nodes of a pool (issue 20, item 1;
// docs/design/scale-out.md). A node that receives a packet another node owns
// sends the frame, untouched, to that node over a peer link (net_memif between
// processes on one machine, a veth, TAP or real port between machines),
// inside a small Ethernet header that says on which side it entered.
#pragma once

#include <array>
#include <cstdint>

#include "dataplane/tables/table_spec.hpp"

struct rte_mbuf;

namespace asenet::dataplane {

/// A pool has at most this many nodes.
inline constexpr unsigned kMaxNodes = 8;

/// The EtherType of a peer frame: IEEE 802's "local experimental" 1.
inline constexpr uint16_t kPeerEtherType = 0x88b5;

/// What goes before the frame on a peer link: an Ethernet header (destination
/// 02:a5:e7:00:00:NODE, source the same for the sender), the EtherType above,
/// then magic, version, the side the frame entered the pool on (its high
/// nibble: the PeerKind), the sender's node, and the pool's node and worker
/// counts (checked on arrival: nodes that disagree on either would disagree on
/// owners).
struct PeerHeader {
  uint8_t dst[6];
  uint8_t src[6];
  uint8_t type[2];
  uint8_t magic;  ///< kPeerMagic
  uint8_t version;
  uint8_t side;
  uint8_t from_node;
  uint8_t nodes;
  uint8_t workers;
};
static_assert(sizeof(PeerHeader) == 20);
inline constexpr uint8_t kPeerMagic = 0xa5;
inline constexpr uint8_t kPeerVersion = 2;

/// Why a frame crosses to another node (pool_map.hpp).
enum class PeerKind : uint8_t {
  kOwner = 0,     ///< to its owner under the current map
  kPrevious = 1,  ///< to its slot's previous owner: take it if you hold its flow, else send it back
  kReturned = 2,  ///< back from the previous owner, which does not hold it: the owner takes it as new
};

/// This node's place in its pool, and the DPDK port of the link to each other
/// node. One node (nodes == 1): no pool, no links.
struct PoolMembership {
  unsigned node = 0;
  unsigned nodes = 1;
  std::array<uint16_t, kMaxNodes> peer_port{};  ///< [node]; this node's own entry unused
};

/// Prepends the peer header to `m` (false when the mbuf has no headroom).
bool peer_encapsulate(rte_mbuf* m, Port side, const PoolMembership& pool, unsigned workers,
                      PeerKind kind = PeerKind::kOwner) noexcept;

/// Why a frame from a peer link was refused.
enum class PeerRefusal : uint8_t { kNone, kMalformed, kMismatch };

/// Strips the peer header from `m`, giving the side the frame entered on and
/// why it came. kMalformed: too short, not a peer frame, an unknown version,
/// side or kind; kMismatch: the sender counts other nodes or workers than this
/// node does.
PeerRefusal peer_decapsulate(rte_mbuf* m, const PoolMembership& pool, unsigned workers, Port& side,
                             PeerKind& kind) noexcept;
inline PeerRefusal peer_decapsulate(rte_mbuf* m, const PoolMembership& pool, unsigned workers, Port& side) noexcept {
  PeerKind kind{};
  return peer_decapsulate(m, pool, workers, side, kind);
}

}  // namespace asenet::dataplane

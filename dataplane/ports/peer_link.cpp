#include "dataplane/ports/peer_link.hpp"

#include <rte_mbuf.h>

#include <cstring>

namespace asenet::dataplane {

namespace {

void node_mac(uint8_t* mac, unsigned node) noexcept {
  const uint8_t m[6] = {0x02, 0xa5, 0xe7, 0x00, 0x00, static_cast<uint8_t>(node)};
  std::memcpy(mac, m, 6);
}

}  // namespace

bool peer_encapsulate(rte_mbuf* m, Port side, const PoolMembership& pool, unsigned workers, PeerKind kind) noexcept {
  auto* h = reinterpret_cast<PeerHeader*>(rte_pktmbuf_prepend(m, sizeof(PeerHeader)));
  if (h == nullptr) return false;
  node_mac(h->dst, 0);  // the receiver rewrites nothing: any node number would do, 0 keeps it fixed
  node_mac(h->src, pool.node);
  h->type[0] = kPeerEtherType >> 8;
  h->type[1] = kPeerEtherType & 0xff;
  h->magic = kPeerMagic;
  h->version = kPeerVersion;
  h->side = static_cast<uint8_t>(static_cast<uint8_t>(side) | static_cast<uint8_t>(kind) << 4);
  h->from_node = static_cast<uint8_t>(pool.node);
  h->nodes = static_cast<uint8_t>(pool.nodes);
  h->workers = static_cast<uint8_t>(workers);
  return true;
}

PeerRefusal peer_decapsulate(rte_mbuf* m, const PoolMembership& pool, unsigned workers, Port& side,
                             PeerKind& kind) noexcept {
  if (m->data_len < sizeof(PeerHeader) + 14) return PeerRefusal::kMalformed;
  const auto* h = rte_pktmbuf_mtod(m, const PeerHeader*);
  if (h->type[0] != (kPeerEtherType >> 8) || h->type[1] != (kPeerEtherType & 0xff) || h->magic != kPeerMagic ||
      h->version != kPeerVersion)
    return PeerRefusal::kMalformed;
  if (h->nodes != pool.nodes || h->workers != workers) return PeerRefusal::kMismatch;
  const unsigned s = h->side & 0x0fu, k = h->side >> 4;
  if (s >= kNumPorts || k > static_cast<unsigned>(PeerKind::kReturned) || h->from_node >= pool.nodes ||
      h->from_node == pool.node)
    return PeerRefusal::kMalformed;
  side = static_cast<Port>(s);
  kind = static_cast<PeerKind>(k);
  rte_pktmbuf_adj(m, sizeof(PeerHeader));
  return PeerRefusal::kNone;
}

}  // namespace asenet::dataplane

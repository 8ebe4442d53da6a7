// What the EAL suite's tests share: the mbuf pool main.cpp makes once EAL
// is up, a small ASE topology, frames, and a rig of ring-PMD ports with a
// worker context on the fake clock.
#pragma once

#include <gtest/gtest.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "dataplane/core/checksum.hpp"
#include "dataplane/pipeline/pipeline.hpp"
#include "dataplane/ports/ports.hpp"

/// The suite's mbuf pool (main.cpp).
extern rte_mempool* g_pool;

namespace asenet::eal_test {

using namespace asenet::dataplane;

inline constexpr unsigned kPoolSize = 8191;

inline constexpr const char* kTopo = R"(
[vnet]
name = "vvnet"
address_space = ["10.0.0.0/16"]
[[subnets]]
name = "ase"
prefix = "10.0.1.0/26"
[[ases]]
name = "ase"
subnet = "ase"
public_vip = "192.23.1.2"
instances = ["10.0.1.4", "10.0.1.5"]
[gateway]
bgp_routes = ["172.16.0.0/12"]
)";

inline TableSpec spec_of(const std::string& toml, uint64_t gen) {
  return control::compile(control::load_topology_text(toml, "t.toml"), gen);
}

inline std::vector<uint8_t> udp_frame(const char* src, const char* dst, uint8_t ttl = 64) {
  std::vector<uint8_t> f(14 + 20 + 8 + 4, 0);
  f[12] = 0x08;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  store_be16(ip + 2, 20 + 8 + 4);
  ip[8] = ttl;
  ip[9] = kIpProtoUdp;
  const uint32_t s = *parse_ipv4(src), d = *parse_ipv4(dst);
  for (int i = 0; i < 4; ++i) {
    ip[12 + i] = static_cast<uint8_t>(s >> (24 - 8 * i));
    ip[16 + i] = static_cast<uint8_t>(d >> (24 - 8 * i));
  }
  store_be16(ip + 10, static_cast<uint16_t>(~ones_sum(ip, 20)));
  store_be16(ip + 20, 1234);
  store_be16(ip + 22, 53);
  store_be16(ip + 24, 12);
  return f;
}

inline rte_mbuf* mbuf_of(const std::vector<uint8_t>& bytes) {
  rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
  EXPECT_NE(m, nullptr);
  char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(bytes.size()));
  std::memcpy(p, bytes.data(), bytes.size());
  return m;
}

struct Rig {
  ReplayPorts ports;
  WorkerContext ctx;
  explicit Rig(unsigned workers = 1) {
    std::string err;
    EXPECT_TRUE(create_replay_ports(workers, 8192, g_pool, ports, err)) << err;
    for (size_t s = 0; s < kNumPorts; ++s) ctx.tx_port_id[s] = ports.out_port[s];
    ctx.clock = ClockMode::kFake;
  }
  ~Rig() { destroy_replay_ports(ports); }
  std::vector<rte_mbuf*> drain(Port side, unsigned w = 0) {
    std::vector<rte_mbuf*> out;
    void* buf[64];
    unsigned n;
    while ((n = rte_ring_dequeue_burst(ports.out_rings[static_cast<size_t>(side)][w], buf, 64, nullptr)) > 0)
      for (unsigned i = 0; i < n; ++i) out.push_back(static_cast<rte_mbuf*>(buf[i]));
    return out;
  }
};

/// A 54-byte TCP frame (Ethernet, IPv4 with its checksum, TCP with `flags`;
/// MACs and the TCP checksum zero).
inline std::vector<uint8_t> tcp_frame(const char* src, const char* dst, uint16_t sport, uint16_t dport, uint8_t flags) {
  std::vector<uint8_t> f(14 + 40, 0);
  f[12] = 0x08;
  uint8_t* ip = f.data() + 14;
  ip[0] = 0x45;
  store_be16(ip + 2, 40);
  ip[8] = 64;
  ip[9] = 6;
  store_be32(ip + 12, *parse_ipv4(src));
  store_be32(ip + 16, *parse_ipv4(dst));
  store_be16(ip + 10, static_cast<uint16_t>(~ones_sum(ip, 20)));
  store_be16(ip + 20, sport);
  store_be16(ip + 22, dport);
  ip[32] = 5 << 4;
  ip[33] = flags;
  return f;
}

/// One TCP packet through process_burst; returns its trace record.
inline TraceRecord one_packet(const TableSet& ts, WorkerContext& ctx, Port side, const char* src, const char* dst,
                              uint16_t sport, uint16_t dport, uint8_t flags) {
  const std::vector<uint8_t> f = tcp_frame(src, dst, sport, dport, flags);
  Burst b;
  rte_mbuf* m = rte_pktmbuf_alloc(g_pool);
  std::memcpy(rte_pktmbuf_append(m, static_cast<uint16_t>(f.size())), f.data(), f.size());
  b.pkts[0] = m;
  b.count = 1;
  std::array<Port, kBurstSize> sides{};
  sides[0] = side;
  TraceRecord slot[1];
  TraceSink sink{slot, 0};
  ctx.trace = &sink;
  stamp_burst(b, ctx, sides.data());
  process_burst(b, ts, ctx);
  ctx.trace = nullptr;
  return slot[0];
}

}  // namespace asenet::eal_test

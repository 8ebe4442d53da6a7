// libFuzzer target: packets through a full TableSet, every stage (issue 9).
// Input: up to 32 records [side:1][dt:1][len:2 LE][frame:len], processed as
// one burst (so the same-burst reply deferral runs too), after a time jump that
// expires every flow of the previous input (each input starts clean).
// Invariants checked beyond "no crash": every mbuf is back in the pool after
// each input, and every packet is counted exactly once (forwarded or dropped).
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <unistd.h>

#include "control/compiler/compile.hpp"
#include "control/model/topology.hpp"
#include "dataplane/flow/snat.hpp"
#include "dataplane/pipeline/pipeline.hpp"
#include "dataplane/ports/ports.hpp"
#include "dataplane/tables/table_set.hpp"

using namespace asenet;
using namespace asenet::dataplane;

namespace {

// Everything the pipeline can do: VIP and ILB frontends, SNAT, NSGs on a
// subnet and a NIC (with flow logs), a UDR to an appliance, a gateway, TCP
// reset on idle (era current).
constexpr const char* kTopology = R"(
[emulator]
era = "current"
flow_table_size = 4096
[vnet]
name = "vvnet"
address_space = ["10.0.0.0/16"]
[[subnets]]
name = "ase"
prefix = "10.0.1.0/26"
nsg = "ase-nsg"
[[subnets]]
name = "data"
prefix = "10.0.2.0/24"
route_table = "rt"
[[subnets]]
name = "nva"
prefix = "10.0.3.0/24"
[[ases]]
name = "ase"
subnet = "ase"
public_vip = "192.23.1.2"
ilb_address = "10.0.1.11"
ilb_mode = "Web"
instances = ["10.0.1.4", "10.0.1.5"]
tcp_reset = true
[[hosts]]
name = "vm"
ip = "10.0.2.4"
nsg = "vm-nsg"
[[hosts]]
name = "nva"
ip = "10.0.3.4"
[[route_tables]]
name = "rt"
[[route_tables.routes]]
name = "via-nva"
address_prefix = "0.0.0.0/0"
next_hop_type = "VirtualAppliance"
next_hop_ip_address = "10.0.3.4"
[[nsgs]]
name = "ase-nsg"
flow_logs = true
[[nsgs.rules]]
name = "AllowHttps"
priority = 300
direction = "Inbound"
access = "Allow"
protocol = "Tcp"
source_address_prefixes = "Internet"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = ["443", "454-455"]
[[nsgs]]
name = "vm-nsg"
[[nsgs.rules]]
name = "DenyUdp"
priority = 200
direction = "Inbound"
access = "Deny"
protocol = "Udp"
source_address_prefixes = "*"
source_port_ranges = "*"
destination_address_prefixes = "*"
destination_port_ranges = "*"
[gateway]
bgp_routes = ["172.16.0.0/12"]
)";

struct State {
  rte_mempool* pool = nullptr;
  std::unique_ptr<TableSet> tables;
  WorkerTables worker;
  std::unique_ptr<WorkerContext> ctx;
  std::vector<FlowLogEvent> log_ring = std::vector<FlowLogEvent>(1024);
  FlowLogSink log;
  std::vector<TraceRecord> trace_ring = std::vector<TraceRecord>(64);
  TraceSink trace;
  std::atomic<int64_t> budget{INT64_MAX};
};
State* g = nullptr;

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "fuzz_packet: %s\n", why.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  std::string err;
  const std::string prefix = "asenet-fuzz-" + std::to_string(getpid());
  if (eal_init({"fuzz_packet", "--no-huge", "--no-shconf", "-m", "256", "--no-pci", "--no-telemetry",
                "--log-level=error", "-l", "0", "--file-prefix", prefix, "--vdev", "net_null0,no-rx=1", "--vdev",
                "net_null1,no-rx=1", "--vdev", "net_null2,no-rx=1"},
               err) < 0)
    die(err);
  g = new State;
  g->pool = rte_pktmbuf_pool_create("fuzz_pool", 2048, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
  if (g->pool == nullptr) die("mbuf pool");
  for (uint16_t p = 0; p < 3; ++p)
    if (!setup_port(p, 1, g->pool, err)) die(err);
  const auto topo = control::load_topology_text(kTopology, "fuzz.toml");
  g->tables = TableSet::build(control::compile(topo, 1), 1, err);
  if (!g->tables) die(err);
  if (!make_worker_tables("fuzz", topo.emulator.flow_table_size, g->worker, err)) die(err);
  g->ctx = std::make_unique<WorkerContext>();
  WorkerContext& c = *g->ctx;
  attach_worker_tables(c, g->worker, g->pool);
  c.tx_port_id = {0, 1, 2};
  c.clock = ClockMode::kFake;
  c.fake_now_ns = 1700000000ull * 1000000000ull;
  g->log.slots = g->log_ring.data();
  g->log.size = g->log_ring.size();
  set_flow_log(c, g->worker, &g->log);
  g->trace.slots = g->trace_ring.data();
  g->trace.mask = g->trace_ring.size() - 1;
  g->trace.live = true;
  g->trace.budget = &g->budget;
  c.trace = &g->trace;
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  WorkerContext& c = *g->ctx;
  const TableSet& ts = *g->tables;
  // A clean start: two hours on, every flow of the last input has expired.
  c.fake_now_ns += 7200ull * 1000000000ull;
  run_timers(c, ts, c.fake_now_ns, c.next_seq);
  const WorkerCounters before = c.counters;
  Burst b;
  std::array<Port, kBurstSize> sides{};
  size_t off = 0;
  while (b.count < kBurstSize && size - off >= 4) {
    const uint8_t side = data[off] % 3;
    const uint8_t dt = data[off + 1];
    size_t len = data[off + 2] | static_cast<size_t>(data[off + 3]) << 8;
    off += 4;
    len = std::min(len, size - off);
    rte_mbuf* head = rte_pktmbuf_alloc(g->pool);
    if (head == nullptr) die("pool empty: an earlier input leaked mbufs");
    // Frames longer than one segment become chains, as replay builds them.
    rte_mbuf* tail = head;
    size_t done = 0;
    while (done < len) {
      const size_t n = std::min<size_t>(len - done, rte_pktmbuf_tailroom(tail));
      std::memcpy(rte_pktmbuf_mtod_offset(tail, uint8_t*, tail->data_len), data + off + done, n);
      tail->data_len = static_cast<uint16_t>(tail->data_len + n);
      head->pkt_len += static_cast<uint32_t>(n);
      done += n;
      if (done < len) {
        rte_mbuf* seg = rte_pktmbuf_alloc(g->pool);
        if (seg == nullptr) die("pool empty");
        tail->next = seg;
        tail = seg;
        head->nb_segs++;
      }
    }
    off += len;
    sides[b.count] = static_cast<Port>(side);
    b.pkts[b.count++] = head;
    c.fake_now_ns += static_cast<uint64_t>(dt) * (dt & 0x80 ? 4000000000ull : 1000000ull);
  }
  const uint16_t n = b.count;
  if (n > 0) {
    stamp_burst(b, c, sides.data());
    process_burst(b, ts, c);
  }
  // Flow log events are not kept here: drain them so the ring never fills.
  g->log.drain([](const FlowLogEvent&) {});
  uint64_t in = 0, dropped = 0;
  for (size_t p = 0; p < kNumPorts; ++p) in += c.counters.rx[p] - before.rx[p];
  for (size_t r = 0; r < c.counters.drops.size(); ++r) dropped += c.counters.drops[r] - before.drops[r];
  const uint64_t forwarded = c.counters.forwarded - before.forwarded;
  if (in != n || forwarded + dropped != n)
    die("counted " + std::to_string(forwarded) + " forwarded + " + std::to_string(dropped) + " dropped of " +
        std::to_string(n) + " packets");
  // The idle resets the timers may send are fabric-made packets; they go out
  // through the null ports too. Nothing may stay out of the pool.
  run_timers(c, ts, c.fake_now_ns + 7200ull * 1000000000ull, c.next_seq);
  c.fake_now_ns += 7200ull * 1000000000ull;
  if (const unsigned used = rte_mempool_in_use_count(g->pool); used != 0)
    die(std::to_string(used) + " mbufs out of the pool after an input");
  return 0;
}

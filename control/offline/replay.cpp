#include "control/offline/replay.hpp"
#include "dataplane/core/time.hpp"

#include <pcap/pcap.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>

#include "control/compiler/compile.hpp"
#include "control/report/flow_logs.hpp"
#include "protocol/json.hpp"
#include "control/report/summary.hpp"
#include "control/model/input_file.hpp"
#include "control/model/topology.hpp"
#include "dataplane/ports/ports.hpp"
#include "dataplane/runtime/handover.hpp"
#include "dataplane/runtime/worker.hpp"

namespace asenet::control {

using namespace asenet::dataplane;

namespace {

// Packets in flight between the reader and the writer. Outputs are written in
// input order, so the window bounds what is held while a slow worker catches up.
constexpr uint64_t kWindow = 4096;
constexpr unsigned kRingSize = 8192;  // > kWindow: the rings can never be full

struct Reader {
  ReplayInput in;
  pcap_t* pcap = nullptr;
  pcap_pkthdr* hdr = nullptr;
  const u_char* data = nullptr;
  bool eof = false;
  size_t order = 0;
  uint64_t index = 0;
};

struct Output {
  uint8_t side;
  bool made_by_fabric;  ///< timer-made (an idle reset): written before the packet's own output
  uint16_t worker;
  rte_mbuf* m;
};

struct Slot {
  std::vector<Output> out;  ///< usually one; timers can add more (idle resets)
  Port in_side = Port::kInternet;
  PacketMeta brief{};
  DropReason brief_parse = DropReason::kNone;
  uint32_t wire_len = 0;
  uint16_t ethertype = 0;
};

uint64_t ts_ns(const pcap_pkthdr* h) {
  // Opened with nanosecond precision: tv_usec holds nanoseconds.
  return static_cast<uint64_t>(h->ts.tv_sec) * kNsPerSecond + static_cast<uint64_t>(h->ts.tv_usec);
}

const char* proto_name(uint8_t p) {
  switch (p) {
    case kIpProtoTcp: return "TCP";
    case kIpProtoUdp: return "UDP";
    case kIpProtoIcmp: return "ICMP";
    default: return nullptr;
  }
}

std::string describe(const Slot& s) {
  if (s.brief_parse == DropReason::kArp) {
    const PacketMeta& m = s.brief;
    if (m.arp_op == 1) return "ARP who-has " + format_ipv4(m.dst_ip) + " tell " + format_ipv4(m.src_ip);
    if (m.arp_op == 2) return "ARP " + format_ipv4(m.src_ip) + " is-at (reply to " + format_ipv4(m.dst_ip) + ")";
    return "ARP opcode " + std::to_string(m.arp_op);
  }
  if (s.brief_parse != DropReason::kNone) {
    std::string what = "not IPv4";
    if (s.ethertype == 0x86dd)
      what = "IPv6";
    else if (s.ethertype == 0x0806)
      what = "ARP";
    else if (s.ethertype == 0x8100 || s.ethertype == 0x88a8)
      what = "VLAN-tagged";
    else if (s.ethertype == 0x0800)
      what = "IPv4, malformed";
    return what + ", " + std::to_string(s.wire_len) + " bytes";
  }
  const PacketMeta& m = s.brief;
  std::ostringstream o;
  const bool ports = (m.flags & kFlagHasPorts) != 0 && m.proto != kIpProtoIcmp;
  o << format_ipv4(m.src_ip);
  if (ports) o << ':' << m.sport;
  o << " > " << format_ipv4(m.dst_ip);
  if (ports) o << ':' << m.dport;
  if (const char* pn = proto_name(m.proto))
    o << ' ' << pn;
  else
    o << " proto " << int{m.proto};
  if (m.proto == kIpProtoTcp) {
    static const char kFlags[] = "FSRPAU";
    o << " [";
    for (int b = 0; b < 6; ++b)
      if (m.tcp_flags & (1 << b)) o << kFlags[b];
    o << ']';
  }
  if (m.proto == kIpProtoIcmp) o << " type " << int{m.icmp_type};
  if ((m.flags & kFlagFragment) != 0) o << " fragment";
  o << " ttl " << int{m.ttl};
  return o.str();
}

}  // namespace

int run_replay(const ReplayOptions& opt) {
  Topology topo;
  try {
    topo = load_topology(opt.topology);
  } catch (const TopologyError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  for (const auto& w : topo.warnings) std::cerr << "warning: " << w << "\n";
  if (opt.inputs.empty()) {
    std::cerr << "asenetctl replay: give at least one --in SIDE=FILE.pcap\n";
    return 2;
  }
  if (opt.workers < 1 || opt.workers > 64) {
    std::cerr << "asenetctl replay: --workers must be 1-64\n";
    return 2;
  }
  TableSpec spec = compile(topo, 1);
  // Later generations (--apply): loaded and compiled up front, so a bad one
  // fails before anything runs.
  std::vector<TableSpec> later;
  for (size_t i = 0; i < opt.applies.size(); ++i) {
    if (i > 0 && opt.applies[i].seconds < opt.applies[i - 1].seconds) {
      std::cerr << "asenetctl replay: --apply times must ascend (" << opt.applies[i].seconds << " after "
                << opt.applies[i - 1].seconds << ")\n";
      return 2;
    }
    try {
      Topology t = load_topology(opt.applies[i].path);
      for (const auto& w : t.warnings) std::cerr << "warning: " << w << "\n";
      later.push_back(compile(t, 2 + i));
    } catch (const TopologyError& e) {
      std::cerr << e.what() << "\n";
      return 2;
    }
  }

  // Inputs first: a bad file must fail before anything starts.
  std::vector<Reader> readers;
  auto close_readers = [&] {
    for (auto& r : readers)
      if (r.pcap != nullptr) pcap_close(r.pcap);
  };
  for (size_t i = 0; i < opt.inputs.size(); ++i) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    Reader r;
    r.in = opt.inputs[i];
    r.order = i;
    // A FIFO or a device would block or never end: captures are regular files.
    if (std::string why; !check_regular_file(r.in.path, why)) {
      std::cerr << r.in.path << ": " << why << "\n";
      close_readers();
      return 2;
    }
    r.pcap = pcap_open_offline_with_tstamp_precision(r.in.path.c_str(), PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (r.pcap == nullptr) {
      std::cerr << r.in.path << ": cannot read capture: " << errbuf << "\n";
      close_readers();
      return 2;
    }
    if (pcap_datalink(r.pcap) != DLT_EN10MB) {
      // libpcap has no name for a link type it does not know (a null pointer).
      const int dlt = pcap_datalink(r.pcap);
      const char* dlt_name = pcap_datalink_val_to_name(dlt);
      std::cerr << r.in.path << ": link type " << (dlt_name != nullptr ? dlt_name : "unknown") << " (" << dlt
                << ") is not Ethernet; asenet replays Ethernet (DLT_EN10MB) captures\n";
      pcap_close(r.pcap);
      close_readers();
      return 2;
    }
    readers.push_back(r);
  }
  std::error_code ec;
  std::filesystem::create_directories(opt.out_dir, ec);
  if (ec) {
    std::cerr << opt.out_dir << ": cannot create output directory: " << ec.message() << "\n";
    close_readers();
    return 2;
  }

  std::vector<std::string> eal = {"asenetctl-replay",
                                  "--no-huge",
                                  "--no-shconf",
                                  "-m",
                                  "512",
                                  "--no-pci",
                                  "--no-telemetry",
                                  "--log-level=error",
                                  "--lcores",
                                  floating_lcores(opt.workers + 1),
                                  "--file-prefix",
                                  "asenet-replay-" + std::to_string(getpid())};
  eal.insert(eal.end(), opt.eal_args.begin(), opt.eal_args.end());
  std::string err;
  if (eal_init(eal, err) < 0) {
    std::cerr << "asenetctl replay: " << err << "\n";
    close_readers();
    return 1;
  }
  int rc = 0;
  {
    rte_mempool* pool =
        rte_pktmbuf_pool_create("replay_pool", 2 * kWindow + 4096, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
    int ts_off = -1, seq_off = -1;
    uint64_t ts_flag = 0;
    rte_mbuf_dynfield seq_desc{};
    std::snprintf(seq_desc.name, sizeof seq_desc.name, "asenet_dynfield_seq");
    seq_desc.size = sizeof(uint64_t);
    seq_desc.align = alignof(uint64_t);
    if (pool == nullptr || rte_mbuf_dyn_rx_timestamp_register(&ts_off, &ts_flag) != 0 ||
        (seq_off = rte_mbuf_dynfield_register(&seq_desc)) < 0) {
      std::cerr << "asenetctl replay: cannot allocate mbufs: " << rte_strerror(rte_errno) << "\n";
      close_readers();
      rte_eal_cleanup();
      return 1;
    }
    ReplayPorts ports;
    if (!create_replay_ports(opt.workers, kRingSize, pool, ports, err)) {
      std::cerr << "asenetctl replay: " << err << "\n";
      close_readers();
      rte_eal_cleanup();
      return 1;
    }
    TableHandover handover(opt.workers);
    auto tables = TableSet::build(spec, opt.workers, err);
    if (!tables) {
      std::cerr << "asenetctl replay: building tables: " << err << "\n";
      close_readers();
      return 1;  // the process ends here; EAL memory goes with it
    }
    handover.publish(std::move(tables));

    // --report needs each packet's verdict too: it reads the same trace records.
    const bool tracing = opt.trace || opt.report;
    std::vector<TraceRecord> trace_slots(tracing ? kWindow : 0);
    TraceSink sink{trace_slots.data(), kWindow - 1};
    std::vector<std::unique_ptr<WorkerContext>> ctxs;
    std::vector<WorkerTables> worker_tables;
    std::vector<WorkerSetup> setups(opt.workers);
    std::atomic<bool> stop{false};
    // NSG flow logs: only when some generation has an NSG with flow logs on.
    // The rings block when full (the reader drains them), so no event is lost.
    bool flow_logs = false;
    for (const auto* s : {&spec})
      for (const auto& n : s->nsgs) flow_logs = flow_logs || n.flow_logs;
    for (const auto& s : later)
      for (const auto& n : s.nsgs) flow_logs = flow_logs || n.flow_logs;
    constexpr uint64_t kFlowLogRing = 1u << 16;
    std::vector<std::vector<FlowLogEvent>> flow_log_rings(flow_logs ? opt.workers : 0);
    std::vector<std::unique_ptr<FlowLogSink>> flow_log_sinks;
    FlowLogWriter flow_log_writer(opt.out_dir + "/flowlogs");
    for (unsigned w = 0; w < opt.workers; ++w) {
      WorkerTables tables;
      if (!make_worker_tables("replay_w" + std::to_string(w), topo.emulator.flow_table_size, tables, err)) {
        std::cerr << "asenetctl replay: connection table: " << err << " (lower [emulator] flow_table_size)\n";
        close_readers();
        return 1;
      }
      auto c = std::make_unique<WorkerContext>();
      c->worker_id = w;
      attach_worker_tables(*c, tables, pool);
      worker_tables.push_back(std::move(tables));
      for (size_t s = 0; s < kNumPorts; ++s) c->tx_port_id[s] = ports.out_port[s];
      c->tx_queue = static_cast<uint16_t>(w);
      c->clock = ClockMode::kPacketTimestamp;
      c->ts_dynfield = ts_off;
      c->seq_dynfield = seq_off;
      c->trace = tracing ? &sink : nullptr;
      if (flow_logs) {
        flow_log_rings[w].resize(kFlowLogRing);
        auto fs = std::make_unique<FlowLogSink>();
        fs->slots = flow_log_rings[w].data();
        fs->size = kFlowLogRing;
        fs->block = true;
        set_flow_log(*c, worker_tables.back(), fs.get());
        flow_log_sinks.push_back(std::move(fs));
      }
      setups[w].ctx = c.get();
      setups[w].sources = {RxSource{ports.in_port, static_cast<uint16_t>(w), Port::kInternet, true}};
      setups[w].tables = &handover;
      setups[w].stop = &stop;
      setups[w].yield_when_idle = true;
      ctxs.push_back(std::move(c));
    }
    {
      unsigned w = 0;
      unsigned lcore;
      RTE_LCORE_FOREACH_WORKER(lcore) {
        if (w < opt.workers) rte_eal_remote_launch(worker_main, &setups[w++], lcore);
      }
    }

    // Output files.
    std::array<pcap_t*, kNumPorts> dead{};
    std::array<pcap_dumper_t*, kNumPorts> dumpers{};
    for (size_t s = 0; s < kNumPorts; ++s) {
      dead[s] = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144, PCAP_TSTAMP_PRECISION_NANO);
      const std::string path = opt.out_dir + "/" + std::string(port_name(static_cast<Port>(s))) + ".pcap";
      dumpers[s] = pcap_dump_open(dead[s], path.c_str());
      if (dumpers[s] == nullptr) {
        std::cerr << path << ": " << pcap_geterr(dead[s]) << "\n";
        rc = 1;
      }
    }
    std::ofstream trace_out;
    if (opt.trace) trace_out.open(opt.out_dir + "/trace.jsonl", std::ios::binary | std::ios::trunc);

    std::vector<Slot> slots(kWindow);
    std::array<uint64_t, kNumPorts> in_by_side{};
    std::array<uint64_t, kNumPorts> out_by_side{};
    uint64_t next_seq = 0, flushed = 0;
    std::vector<int64_t> first_enq(opt.workers, -1), last_enq(opt.workers, -1);
    std::vector<std::array<rte_mbuf*, kBurstSize>> batch(opt.workers);
    std::vector<unsigned> batch_n(opt.workers, 0);
    std::vector<uint8_t> frame_buf(262144);
    uint64_t last_second = UINT64_MAX;

    auto push_batch = [&](unsigned w) {
      if (batch_n[w] == 0) return;
      const auto first = static_cast<int64_t>(*RTE_MBUF_DYNFIELD(batch[w][0], seq_off, uint64_t*));
      const auto last = static_cast<int64_t>(*RTE_MBUF_DYNFIELD(batch[w][batch_n[w] - 1], seq_off, uint64_t*));
      // Cannot fail: the ring holds more than the window.
      rte_ring_enqueue_bulk(ports.in_rings[w], reinterpret_cast<void* const*>(batch[w].data()), batch_n[w], nullptr);
      if (first_enq[w] < 0) first_enq[w] = first;
      last_enq[w] = last;
      batch_n[w] = 0;
    };
    auto flush_to = [&](int64_t bound) {
      for (; static_cast<int64_t>(flushed) <= bound; ++flushed) {
        Slot& sl = slots[flushed % kWindow];
        if (opt.trace) trace_out << trace_line(flushed, trace_slots[flushed % kWindow], spec) << "\n";
        if (opt.report) {
          std::cout << "#" << flushed << " " << port_name(sl.in_side) << " " << describe(sl) << "  ->  ";
          const TraceRecord& tr = trace_slots[flushed % kWindow];
          if (tr.verdict != Verdict::kForward) {
            std::cout << "drop (" << drop_reason_name(tr.reason);
            if (tr.reason == DropReason::kNsgDeny && tr.nsg.count > 0) {
              const NsgRuleSpec& rule = spec.nsg_rules[tr.nsg.rule[tr.nsg.count - 1]];
              std::cout << " by " << spec.nsgs[rule.nsg].name << "/" << rule.name;
            }
            std::cout << ")";
          } else {
            if (tr.flow == FlowState::kReply) std::cout << "(reply) ";
            if (tr.flow == FlowState::kRelated) std::cout << "(error about a flow) ";
            std::cout << port_name(tr.out_port);
            if (tr.rewrite)
              std::cout << " as " << format_ipv4(tr.new_src) << ":" << tr.new_sport << " > " << format_ipv4(tr.new_dst)
                        << ":" << tr.new_dport;
          }
          const size_t own = tr.verdict == Verdict::kForward ? 1 : 0;
          if (sl.out.size() > own)
            std::cout << "  [+" << sl.out.size() - own << " made by the fabric: timers up to this packet]";
        }
        // A fixed order whatever the drain timing: fabric-made first, then by
        // worker; within one worker's ring the order is FIFO already.
        std::stable_sort(sl.out.begin(), sl.out.end(), [](const Output& a, const Output& b) {
          if (a.made_by_fabric != b.made_by_fabric) return a.made_by_fabric;
          return a.worker < b.worker;
        });
        for (size_t k = 0; k < sl.out.size(); ++k) {
          const uint8_t side = sl.out[k].side;
          rte_mbuf* m = sl.out[k].m;
          const uint64_t t = *RTE_MBUF_DYNFIELD(m, ts_off, uint64_t*);
          pcap_pkthdr h{};
          h.ts.tv_sec = static_cast<time_t>(t / kNsPerSecond);
          h.ts.tv_usec = static_cast<suseconds_t>(t % kNsPerSecond);
          h.caplen = h.len = m->pkt_len;
          const void* bytes = rte_pktmbuf_read(m, 0, m->pkt_len, frame_buf.data());
          if (dumpers[side] != nullptr)
            pcap_dump(reinterpret_cast<u_char*>(dumpers[side]), &h, static_cast<const u_char*>(bytes));
          out_by_side[side]++;
          rte_pktmbuf_free(m);
        }
        if (opt.report) std::cout << "\n";
        sl.out.clear();
      }
    };
    auto drain_flow_logs = [&] {
      for (auto& fs : flow_log_sinks) fs->drain([&](const FlowLogEvent& e) { flow_log_writer.add(e, spec); });
    };
    auto service = [&] {
      drain_flow_logs();
      for (unsigned w = 0; w < opt.workers; ++w) push_batch(w);
      // Order matters: read how far each worker got (acquire) before draining
      // its output rings, so every output at or below the bound is collected.
      int64_t bound = static_cast<int64_t>(next_seq) - 1;
      for (unsigned w = 0; w < opt.workers; ++w) {
        if (last_enq[w] < 0) continue;
        const bool any = ctxs[w]->done_any.load(std::memory_order_acquire);
        const auto done = static_cast<int64_t>(ctxs[w]->done_seq.load(std::memory_order_acquire));
        if (!any)
          bound = std::min(bound, first_enq[w] - 1);
        else if (done < last_enq[w])
          bound = std::min(bound, done);
      }
      std::array<rte_mbuf*, 64> buf;
      for (size_t s = 0; s < kNumPorts; ++s) {
        for (unsigned w = 0; w < opt.workers; ++w) {
          unsigned n;
          while ((n = rte_ring_dequeue_burst(ports.out_rings[s][w], reinterpret_cast<void**>(buf.data()), 64,
                                             nullptr)) > 0) {
            for (unsigned i = 0; i < n; ++i) {
              const uint64_t seq = *RTE_MBUF_DYNFIELD(buf[i], seq_off, uint64_t*);
              slots[seq % kWindow].out.push_back(
                  Output{static_cast<uint8_t>(s), buf[i]->port == kMadeByFabric, static_cast<uint16_t>(w), buf[i]});
            }
          }
        }
      }
      flush_to(bound);
    };

    bool read_error = false;
    std::string read_error_text;  ///< what summary.json says when the replay failed
    std::vector<std::string> truncated;
    auto advance = [&](Reader& r) {
      int got = pcap_next_ex(r.pcap, &r.hdr, &r.data);
      if (got == 1) return;
      if (got == -1) {
        const std::string why = pcap_geterr(r.pcap);
        // A capture cut short in its last record (tcpdump killed mid-write) is
        // common: replay what is complete, say so, and carry on (as tshark
        // does). Anything else wrong with the file is bad input.
        if (why.find("truncated") != std::string::npos) {
          std::cerr << "warning: " << r.in.path << ": cut short in packet " << r.index + 1 << " (" << why << "); the "
                    << r.index << " complete packets before it are replayed\n";
          truncated.push_back(r.in.path);
        } else {
          std::cerr << r.in.path << ": packet " << r.index + 1 << ": " << why
                    << " (the rest of this capture is skipped)\n";
          if (!read_error) read_error_text = r.in.path + ": packet " + std::to_string(r.index + 1) + ": " + why;
          read_error = true;
        }
      }
      r.eof = true;
    };
    for (auto& r : readers) advance(r);
    RuleHits retired_hits;
    size_t next_apply = 0;
    uint64_t first_ns = UINT64_MAX;
    for (;;) {
      Reader* best = nullptr;
      for (auto& r : readers) {
        if (r.eof) continue;
        if (best == nullptr || ts_ns(r.hdr) < ts_ns(best->hdr)) best = &r;  // ties: earlier --in first
      }
      if (best == nullptr) break;
      if (first_ns == UINT64_MAX) first_ns = ts_ns(best->hdr);
      // --apply: the next generation goes live before the first packet at or
      // after its time. Every earlier packet is finished first (and its trace
      // written with the names of its own generation), so the switch falls at
      // the same packet whatever the worker count: deterministic.
      while (next_apply < opt.applies.size() &&
             ts_ns(best->hdr) >= first_ns + static_cast<uint64_t>(opt.applies[next_apply].seconds * 1e9)) {
        while (flushed < next_seq) {
          service();
          if (flushed < next_seq) sched_yield();
        }
        drain_flow_logs();  // events of the old generation resolve with its names
        auto next = TableSet::build(later[next_apply], opt.workers, err);
        if (!next) {
          std::cerr << "asenetctl replay: building " << opt.applies[next_apply].path << ": " << err << "\n";
          std::abort();  // cannot happen for a spec that compiled; the process ends, EAL memory with it
        }
        if (auto old = handover.publish(std::move(next))) add_rule_hits(*old, retired_hits);
        spec = later[next_apply];
        ++next_apply;
      }
      while (next_seq >= flushed + kWindow) {
        service();
        sched_yield();
      }
      const uint32_t caplen = best->hdr->caplen;
      rte_mbuf* head = nullptr;
      for (int attempt = 0; head == nullptr; ++attempt) {
        head = rte_pktmbuf_alloc(pool);
        rte_mbuf* tail = head;
        uint32_t off = 0;
        while (head != nullptr && off < caplen) {
          const uint32_t chunk = std::min<uint32_t>(caplen - off, rte_pktmbuf_tailroom(tail));
          std::memcpy(rte_pktmbuf_mtod_offset(tail, uint8_t*, tail->data_len), best->data + off, chunk);
          tail->data_len = static_cast<uint16_t>(tail->data_len + chunk);
          head->pkt_len += chunk;
          off += chunk;
          if (off < caplen) {
            rte_mbuf* seg = rte_pktmbuf_alloc(pool);
            if (seg == nullptr) {
              rte_pktmbuf_free(head);
              head = nullptr;
              break;
            }
            tail->next = seg;
            tail = seg;
            head->nb_segs++;
          }
        }
        if (head == nullptr) {
          if (attempt > 100000) {
            std::cerr << "asenetctl replay: out of mbufs\n";
            std::abort();
          }
          service();
          sched_yield();
        }
      }
      const uint64_t seq = next_seq++;
      head->port = static_cast<uint16_t>(best->in.side);
      *RTE_MBUF_DYNFIELD(head, ts_off, uint64_t*) = ts_ns(best->hdr);
      *RTE_MBUF_DYNFIELD(head, seq_off, uint64_t*) = seq;
      head->ol_flags |= ts_flag;
      Slot& sl = slots[seq % kWindow];
      sl.in_side = best->in.side;
      sl.wire_len = caplen;
      if (opt.report) {
        sl.brief_parse = parse_packet(best->data, caplen, caplen, sl.brief);
        sl.ethertype = caplen >= 14 ? static_cast<uint16_t>(best->data[12] << 8 | best->data[13]) : 0;
      }
      in_by_side[static_cast<size_t>(best->in.side)]++;
      // Steered by the current generation's VIPs, ILBs and instances (this
      // thread publishes the generations, so the one it reads stays alive).
      const unsigned w = steer_worker(best->data, caplen, opt.workers, handover.acquire()->fabric_addresses());
      // Capture time enters a new second: every other worker gets a clock tick
      // first, so its timers fire at this packet too (worker.hpp kTickSide).
      const uint64_t second = ts_ns(best->hdr) / kNsPerSecond;
      if (opt.workers > 1 && second != last_second) {
        last_second = second;
        for (unsigned o = 0; o < opt.workers; ++o) {
          if (o == w) continue;
          rte_mbuf* tick = nullptr;
          while ((tick = rte_pktmbuf_alloc(pool)) == nullptr) {
            service();
            sched_yield();
          }
          tick->port = kTickSide;
          *RTE_MBUF_DYNFIELD(tick, ts_off, uint64_t*) = ts_ns(best->hdr);
          *RTE_MBUF_DYNFIELD(tick, seq_off, uint64_t*) = seq;
          batch[o][batch_n[o]++] = tick;
          if (batch_n[o] == kBurstSize) push_batch(o);
        }
      }
      batch[w][batch_n[w]++] = head;
      if (batch_n[w] == kBurstSize) push_batch(w);
      best->index++;
      advance(*best);
      if ((seq & 255) == 255) service();
    }
    while (flushed < next_seq) {
      service();
      if (flushed < next_seq) sched_yield();
    }
    stop.store(true);
    rte_eal_mp_wait_lcore();
    drain_flow_logs();
    if (flow_logs && !flow_log_writer.flush_all(err)) {
      std::cerr << "asenetctl replay: flow logs: " << err << "\n";
      rc = 1;
    }

    for (size_t s = 0; s < kNumPorts; ++s) {
      if (dumpers[s] != nullptr) pcap_dump_close(dumpers[s]);
      pcap_close(dead[s]);
    }
    close_readers();

    const WorkerCounters total = sum_counters(ctxs);
    uint64_t dropped = 0;
    for (auto d : total.drops) dropped += d;
    std::ostringstream js;
    js << "{\"packets_in\":" << next_seq << ",\"packets_in_by_port\":" << per_port_json(in_by_side)
       << ",\"packets_forwarded\":" << total.forwarded << ",\"packets_dropped\":" << dropped
       << ",\"packets_out\":" << per_port_json(out_by_side) << ",\"drops\":" << drops_json(total)
       << ",\"rule_hits\":" <<
        [&] {
          add_rule_hits(*handover.acquire(), retired_hits);
          return rule_hits_json(retired_hits);
        }()
       << ",\"flows_created\":" << total.flows_created
       << ",\"snat_exhausted_by_instance\":" << snat_exhausted_json(total, spec)
       << ",\"generation\":" << handover.generation() << ",\"workers\":" << opt.workers;
    js << ",\"icmp_frag_needed_sent\":" << total.icmp_frag_needed;
    if (flow_logs) js << ",\"flow_log_tuples\":" << flow_log_writer.tuples_written();
    if (!truncated.empty()) {
      js << ",\"inputs_cut_short\":[";
      for (size_t i = 0; i < truncated.size(); ++i) js << (i ? "," : "") << json_str(truncated[i]);
      js << "]";
    }
    // A failed replay says so in the summary, which is complete for what ran:
    // the exit status is 2 and "status" tells a script not to trust the counts
    // as the whole capture's.
    js << ",\"status\":" << (read_error ? "\"failed\"" : "\"completed\"");
    if (read_error) js << ",\"error\":" << json_str(read_error_text);
    // Every mbuf back in the pool: nothing leaked, whatever the input was.
    js << ",\"mbufs_in_use_at_end\":" << rte_mempool_in_use_count(pool);
    js << "}";
    {
      std::ofstream f(opt.out_dir + "/summary.json", std::ios::binary | std::ios::trunc);
      f << js.str() << "\n";
    }
    if (opt.json) {
      std::cout << js.str() << "\n";
    } else {
      std::cout << "replayed " << next_seq << " packets (internet " << in_by_side[0] << ", vnet " << in_by_side[1]
                << ", onprem " << in_by_side[2] << ") through generation " << handover.generation() << " on "
                << opt.workers << " worker" << (opt.workers > 1 ? "s" : "") << "\n";
      std::cout << "  forwarded " << total.forwarded << ": internet " << out_by_side[0] << ", vnet " << out_by_side[1]
                << ", onprem " << out_by_side[2] << "\n";
      std::cout << "  dropped   " << dropped;
      bool first = true;
      for (size_t r = 1; r < total.drops.size(); ++r) {
        if (total.drops[r] == 0) continue;
        std::cout << (first ? ": " : ", ") << drop_reason_name(static_cast<DropReason>(r)) << " " << total.drops[r];
        first = false;
      }
      std::cout << "\n  written   " << opt.out_dir << "/{internet,vnet,onprem}.pcap, summary.json"
                << (opt.trace ? ", trace.jsonl" : "") << "\n";
      if (read_error) std::cout << "  FAILED    " << read_error_text << " (summary.json says \"status\":\"failed\")\n";
    }
    if (read_error) rc = 2;
    destroy_replay_ports(ports);
    rte_mempool_free(pool);
  }
  // The file prefix is ours alone: leave no runtime directory behind.
  const std::string runtime_dir = rte_eal_get_runtime_dir();
  rte_eal_cleanup();
  std::filesystem::remove_all(runtime_dir, ec);
  return rc;
}

}  // namespace asenet::control

#include "control/offline/replay_writer.hpp"

#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>

#include "control/report/summary.hpp"
#include "dataplane/core/time.hpp"

namespace asenet::control {

using namespace asenet::dataplane;

namespace {

constexpr size_t kOutputBuffer = 1 << 20;

const char* proto_name(uint8_t p) {
  switch (p) {
    case kIpProtoTcp: return "TCP";
    case kIpProtoUdp: return "UDP";
    case kIpProtoIcmp: return "ICMP";
    default: return nullptr;
  }
}

/// What a frame that is not parsed IPv4 is, by its EtherType.
std::string describe_other(const ReplaySlot& s) {
  const PacketMeta& m = s.brief;
  if (s.brief_parse == DropReason::kArp) {
    if (m.arp_op == 1) return "ARP who-has " + format_ipv4(m.dst_ip) + " tell " + format_ipv4(m.src_ip);
    if (m.arp_op == 2) return "ARP " + format_ipv4(m.src_ip) + " is-at (reply to " + format_ipv4(m.dst_ip) + ")";
    return "ARP opcode " + std::to_string(m.arp_op);
  }
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

}  // namespace

std::string describe_packet(const ReplaySlot& s) {
  if (s.brief_parse != DropReason::kNone) return describe_other(s);
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

ReplayWriter::ReplayWriter(const ReplayOptions& opt, uint64_t window, int ts_field)
    : opt_(opt),
      window_(window),
      ts_field_(ts_field),
      slots_(window),
      trace_slots_(opt.trace || opt.report ? window : 0),
      frame_buf_(262144) {}

bool ReplayWriter::open() {
  bool ok = true;
  for (size_t s = 0; s < kNumPorts; ++s) {
    dead_[s] = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, 262144, PCAP_TSTAMP_PRECISION_NANO);
    const std::string path = opt_.out_dir + "/" + std::string(port_name(static_cast<Port>(s))) + ".pcap";
    // Written through a 1 MiB stdio buffer (pcap_dump writes each record
    // with two small fwrites).
    FILE* f = std::fopen(path.c_str(), "wb");
    if (f != nullptr) std::setvbuf(f, nullptr, _IOFBF, kOutputBuffer);
    dumpers_[s] = f != nullptr ? pcap_dump_fopen(dead_[s], f) : nullptr;
    if (dumpers_[s] == nullptr) {
      std::cerr << path << ": " << (f == nullptr ? std::strerror(errno) : pcap_geterr(dead_[s])) << "\n";
      if (f != nullptr) std::fclose(f);
      ok = false;
    }
  }
  if (opt_.trace) {
    trace_buf_.resize(kOutputBuffer);
    trace_out_.rdbuf()->pubsetbuf(trace_buf_.data(), static_cast<std::streamsize>(trace_buf_.size()));
    trace_out_.open(opt_.out_dir + "/trace.jsonl", std::ios::binary | std::ios::trunc);
  }
  return ok;
}

void ReplayWriter::take_input(uint64_t seq, Port side, const uint8_t* frame, uint32_t len) {
  ReplaySlot& sl = slots_[seq % window_];
  sl.in_side = side;
  sl.wire_len = len;
  sl.traced = opt_.trace_filter == nullptr || opt_.trace_filter->matches(frame, len, len);
  if (opt_.report) {
    sl.brief_parse = parse_packet(frame, len, len, sl.brief);
    sl.ethertype = len >= 14 ? static_cast<uint16_t>(frame[12] << 8 | frame[13]) : 0;
  }
}

void ReplayWriter::take_output(uint64_t seq, uint8_t side, uint16_t worker, rte_mbuf* m) {
  slots_[seq % window_].out.push_back(ReplayOutput{side, m->port == kMadeByFabric, worker, m});
}

void ReplayWriter::report_line(uint64_t seq, const ReplaySlot& sl, const TraceRecord& tr, const TableSpec& spec) const {
  std::cout << "#" << seq << " " << port_name(sl.in_side) << " " << describe_packet(sl) << "  ->  ";
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
      std::cout << " as " << format_ipv4(tr.new_src) << ":" << tr.new_sport << " > " << format_ipv4(tr.new_dst) << ":"
                << tr.new_dport;
  }
  const size_t own = tr.verdict == Verdict::kForward ? 1 : 0;
  if (sl.out.size() > own)
    std::cout << "  [+" << sl.out.size() - own << " made by the fabric: timers up to this packet]";
  std::cout << "\n";
}

void ReplayWriter::write_outputs(ReplaySlot& sl) {
  // A fixed order whatever the drain timing: fabric-made first, then by
  // worker; within one worker's ring the order is FIFO already.
  std::stable_sort(sl.out.begin(), sl.out.end(), [](const ReplayOutput& a, const ReplayOutput& b) {
    if (a.made_by_fabric != b.made_by_fabric) return a.made_by_fabric;
    return a.worker < b.worker;
  });
  for (const ReplayOutput& o : sl.out) {
    rte_mbuf* m = o.m;
    const uint64_t t = *RTE_MBUF_DYNFIELD(m, ts_field_, uint64_t*);
    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(t / kNsPerSecond);
    h.ts.tv_usec = static_cast<suseconds_t>(t % kNsPerSecond);
    h.caplen = h.len = m->pkt_len;
    const void* bytes = rte_pktmbuf_read(m, 0, m->pkt_len, frame_buf_.data());
    if (dumpers_[o.side] != nullptr)
      pcap_dump(reinterpret_cast<u_char*>(dumpers_[o.side]), &h, static_cast<const u_char*>(bytes));
    out_by_side_[o.side]++;
    rte_pktmbuf_free(m);
  }
  sl.out.clear();
}

void ReplayWriter::flush_to(int64_t bound, const TableSpec& spec) {
  for (; static_cast<int64_t>(flushed_) <= bound; ++flushed_) {
    ReplaySlot& sl = slots_[flushed_ % window_];
    if (opt_.trace && sl.traced) trace_out_ << trace_line(flushed_, trace_slots_[flushed_ % window_], spec) << "\n";
    if (opt_.report && sl.traced) report_line(flushed_, sl, trace_slots_[flushed_ % window_], spec);
    write_outputs(sl);
  }
}

void ReplayWriter::close() noexcept {
  for (size_t s = 0; s < kNumPorts; ++s) {
    if (dumpers_[s] != nullptr) pcap_dump_close(dumpers_[s]);
    if (dead_[s] != nullptr) pcap_close(dead_[s]);
    dumpers_[s] = nullptr;
    dead_[s] = nullptr;
  }
  trace_out_.close();
}

}  // namespace asenet::control

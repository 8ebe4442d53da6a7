// asenetd's active health probes (ASEs with probe_port), as Azure's load
// balancer probes: a TCP SYN (or an HTTP GET, passing on status 200 only)
// from 168.63.129.16 to each instance every interval, across the NSGs like
// any inbound packet; probe_down failures in a row mark an instance down,
// probe_up successes up again (new tables published: the health epoch rises, the generation stays). Frames are made
// here and handed to worker 0 through its control ring; answers come back
// through the workers' probe reply sinks.
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string_view>

#include "control/reference/verify.hpp"
#include "daemon/agent.hpp"
#include "dataplane/core/frames.hpp"

namespace asenet::control {

using namespace asenet::dataplane;

namespace {

/// A probe's frame (TTL 128, as Azure's probes carry): headers + payload.
std::vector<uint8_t> tcp_frame(const MacAddr& dst_mac, const MacAddr& src_mac, uint32_t src, uint32_t dst,
                               uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
                               std::string_view payload = {}) {
  std::vector<uint8_t> f(kTcpFrameLen + payload.size());
  if (!payload.empty()) std::memcpy(f.data() + kTcpFrameLen, payload.data(), payload.size());  // a SYN has none
  write_tcp_frame(f.data(), dst_mac, src_mac, src, dst, sport, dport, seq, ack, flags, 128,
                  static_cast<uint16_t>(payload.size()));
  return f;
}

}  // namespace

bool LiveDataplane::enable_probes(std::string& error) {
  probe_tx_ = rte_ring_create("asenet_probe_tx", 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
  if (probe_tx_ == nullptr) {
    error = std::string("rte_ring_create: ") + rte_strerror(rte_errno);
    return false;
  }
  ctxs_[0]->control_tx = probe_tx_;
  for (auto& c : ctxs_) {
    probe_sinks_.push_back(std::make_unique<ProbeReplySink>());
    c->probe_replies = probe_sinks_.back().get();
  }
  return true;
}

const MacAddr* LiveDataplane::vnet_mac(uint32_t ip, uint64_t now) const {
  const TableSpec& sp = spec();
  if (!sp.l2.arp) return &sp.peer_macs[static_cast<size_t>(Port::kVnet)];
  for (const auto& copy : neighbor_copies_)  // any worker may have learned it
    for (const auto& n : copy)
      if (n.ip == ip && n.port == static_cast<uint8_t>(Port::kVnet) && n.resolved &&
          now - n.updated_ns < sp.l2.neighbor_timeout_ns)
        return &n.mac;
  return nullptr;
}

bool LiveDataplane::send_frame(const uint8_t* frame, size_t len) {
  rte_mbuf* m = rte_pktmbuf_alloc(pool_);
  if (m == nullptr) return false;
  auto* p = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, static_cast<uint16_t>(len)));
  if (p == nullptr) {
    rte_pktmbuf_free(m);
    return false;
  }
  std::memcpy(p, frame, len);
  m->port = static_cast<uint16_t>(Port::kVnet);  // the side worker 0 sends it on
  if (rte_ring_enqueue(probe_tx_, m) != 0) {
    rte_pktmbuf_free(m);
    return false;
  }
  return true;
}

void LiveDataplane::probe_result(Probe& p, bool ok, const char* why, uint64_t /*now*/) {
  p.pending = false;
  p.request_sent = false;
  p.fig.last = why;
  if (ok) {
    ++p.fig.succeeded;
    ++p.succs;
    p.fails = 0;
  } else {
    ++p.fig.failed;
    ++p.fails;
    p.succs = 0;
  }
  const AseSpec* ase = spec().find_ase(p.fig.ase);
  if (ase == nullptr) return;
  PublishResult r;
  std::string err;
  if (p.fig.up && p.fails >= ase->probe_down) {
    p.fig.up = false;
    if (!set_health(p.fig.ase, p.fig.ip, false, r, err)) p.fig.up = true;
  } else if (!p.fig.up && p.succs >= ase->probe_up) {
    p.fig.up = true;
    if (!set_health(p.fig.ase, p.fig.ip, true, r, err)) p.fig.up = false;
  }
}

/// The probe list follows the live generation: one probe per instance of an
/// ASE with probe_port (its state kept across generations).
void LiveDataplane::refresh_probe_list(uint64_t now) {
  if (probes_generation_ == spec().generation) return;
  probes_generation_ = spec().generation;
  std::vector<Probe> next;
  for (const auto& a : spec().ases) {
    if (a.probe_port == 0) continue;
    for (size_t i = 0; i < a.instances.size(); ++i) {
      Probe p;
      p.fig.ase = a.name;
      p.fig.ip = a.instances[i];
      p.fig.port = a.probe_port;
      p.fig.up = a.up[i] != 0;
      // The first probe two intervals after the ASE appears (instances get
      // a moment to start), instances spread over 100 ms steps.
      p.next_ns = now + 2 * uint64_t{a.probe_interval_ms} * 1000000ull + i * 100000000ull;
      for (const auto& old : probes_)
        if (old.fig.ase == p.fig.ase && old.fig.ip == p.fig.ip && old.fig.port == p.fig.port) {
          p = old;
          p.fig.up = a.up[i] != 0;
        }
      next.push_back(std::move(p));
    }
  }
  probes_ = std::move(next);
}

/// An answer to probe `p`: a RST fails it; a SYN-ACK passes a TCP probe (and
/// is closed with a RST, as a prober does) or gets an HTTP probe's GET; the
/// status line of the HTTP answer decides.
void LiveDataplane::answer_probe(Probe& p, const ProbeReply& r, uint64_t now) {
  const TableSpec& sp = spec();
  const MacAddr* mac = vnet_mac(p.fig.ip, now);
  const AseSpec* ase = sp.find_ase(p.fig.ase);
  const bool http = ase != nullptr && ase->probe_http;
  auto reset = [&](uint32_t seq) {
    if (mac == nullptr) return;
    const auto f = tcp_frame(*mac, sp.fabric_mac, kAzureProbeSource, p.fig.ip, p.sport, p.fig.port, seq, 0, kTcpRst);
    send_frame(f.data(), f.size());
  };
  if ((r.tcp_flags & kTcpRst) != 0) {
    probe_result(p, false, "refused", now);
  } else if ((r.tcp_flags & (kTcpSyn | kTcpAck)) == (kTcpSyn | kTcpAck) && r.ack == p.seq + 1 && !p.request_sent) {
    if (!http) {  // TCP probe: the handshake is the answer
      reset(p.seq + 1);
      if (r.at_ns >= p.sent_ns) p.fig.rtt_s = static_cast<double>(r.at_ns - p.sent_ns) / 1e9;
      probe_result(p, true, "ok", now);
    } else if (mac != nullptr) {  // HTTP probe: ACK with the GET
      const std::string req = "GET " + ase->probe_path + " HTTP/1.1\r\nHost: " + format_ipv4(p.fig.ip) +
                              "\r\nUser-Agent: Load Balancer Agent\r\nConnection: close\r\n\r\n";
      const auto f = tcp_frame(*mac, sp.fabric_mac, kAzureProbeSource, p.fig.ip, p.sport, p.fig.port, p.seq + 1,
                               r.seq + 1, kTcpPsh | kTcpAck, req);
      p.request_sent = send_frame(f.data(), f.size());
      p.request_len = static_cast<uint32_t>(req.size());
    }
  } else if (p.request_sent && r.payload_len > 0) {
    // Azure: an HTTP probe passes on status 200 only.
    const std::string_view line(r.payload.data(), std::min<size_t>(r.payload_len, r.payload.size()));
    const bool ok = line.size() >= 12 && line.substr(0, 7) == "HTTP/1." && line.substr(9, 3) == "200";
    reset(p.seq + 1 + p.request_len);
    if (ok && r.at_ns >= p.sent_ns) p.fig.rtt_s = static_cast<double>(r.at_ns - p.sent_ns) / 1e9;
    probe_result(p, ok, ok ? "ok" : "http_status", now);
  }
}

/// Sends a due probe: a timeout for the one before it if unanswered, then a
/// SYN, unless an NSG denies the prober (azure-semantics 7.2: the instance is
/// marked down) or the instance's MAC is not known (asked for by ARP).
void LiveDataplane::send_probe(Probe& p, uint64_t now) {
  if (spec().find_ase(p.fig.ase) == nullptr) return;
  // No answer within an interval. Its verdict may publish new tables (the
  // instance goes down): the spec is read after it, never kept across it.
  if (p.pending) probe_result(p, false, "timeout", now);
  const TableSpec& sp = spec();
  const AseSpec* ase = sp.find_ase(p.fig.ase);
  if (ase == nullptr) return;
  p.next_ns = now + uint64_t{ase->probe_interval_ms} * 1000000ull;
  p.sport = static_cast<uint16_t>(kProbePortBase + (next_probe_sport_++ % kProbePortCount));
  const auto verdict =
      verify_flow(sp, VerifyQuery{NsgDirection::kInbound, 6, p.fig.ip, p.fig.port, kAzureProbeSource, p.sport});
  ++p.fig.sent;
  if (verdict && !verdict->allow) {
    probe_result(p, false, "nsg_deny", now);
    return;
  }
  const MacAddr* mac = vnet_mac(p.fig.ip, now);
  if (mac == nullptr) {
    // Ask for the instance's MAC (the worker learns the answer) and count
    // this probe as failed: no answer could come.
    std::array<uint8_t, kArpFrameLen> arp{};
    const SubnetSpec* s = sp.subnet_of(p.fig.ip);
    write_arp_request(arp.data(), sp.fabric_mac, s != nullptr ? s->prefix.addr + 1 : (p.fig.ip & 0xffffff00u) + 1,
                      p.fig.ip);
    send_frame(arp.data(), arp.size());
    probe_result(p, false, "no_neighbor", now);
    return;
  }
  p.seq = static_cast<uint32_t>(now ^ (uint64_t{p.fig.ip} << 16));
  const auto f = tcp_frame(*mac, sp.fabric_mac, kAzureProbeSource, p.fig.ip, p.sport, p.fig.port, p.seq, 0, kTcpSyn);
  if (send_frame(f.data(), f.size())) {
    p.pending = true;
    p.sent_ns = now;
  } else {
    probe_result(p, false, "tx_full", now);
  }
}

void LiveDataplane::probe_tick() {
  if (probe_tx_ == nullptr) return;
  const uint64_t now = tsc_now_ns();
  refresh_probe_list(now);
  for (auto& sink : probe_sinks_) {
    sink->drain([&](const ProbeReply& r) {
      for (auto& p : probes_)
        if (p.pending && r.src == p.fig.ip && r.sport == p.fig.port && r.dport == p.sport) answer_probe(p, r, now);
    });
  }
  for (auto& p : probes_)
    if (now >= p.next_ns) send_probe(p, now);
}

}  // namespace asenet::control

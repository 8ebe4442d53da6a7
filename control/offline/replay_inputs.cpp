#include "control/offline/replay_inputs.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>

#include "control/compiler/compile.hpp"
#include "control/model/input_file.hpp"
#include "dataplane/core/time.hpp"

namespace asenet::control {

namespace {
constexpr size_t kCaptureBuffer = 1 << 20;
}  // namespace

int load_generations(const ReplayOptions& opt, Generations& g) {
  try {
    g.topo = load_topology(opt.topology);
  } catch (const TopologyError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  for (const auto& w : g.topo.warnings) std::cerr << "warning: " << w << "\n";
  if (opt.inputs.empty()) {
    std::cerr << "asenetctl replay: give at least one --in SIDE=FILE.pcap\n";
    return 2;
  }
  if (opt.workers < 1 || opt.workers > 64) {
    std::cerr << "asenetctl replay: --workers must be 1-64\n";
    return 2;
  }
  g.first = compile(g.topo, 1);
  for (size_t i = 0; i < opt.applies.size(); ++i) {
    if (i > 0 && opt.applies[i].seconds < opt.applies[i - 1].seconds) {
      std::cerr << "asenetctl replay: --apply times must ascend (" << opt.applies[i].seconds << " after "
                << opt.applies[i - 1].seconds << ")\n";
      return 2;
    }
    try {
      Topology t = load_topology(opt.applies[i].path);
      for (const auto& w : t.warnings) std::cerr << "warning: " << w << "\n";
      g.later.push_back(compile(t, 2 + i));
    } catch (const TopologyError& e) {
      std::cerr << e.what() << "\n";
      return 2;
    }
  }
  return 0;
}

uint64_t Capture::time_ns() const noexcept {
  // Opened with nanosecond precision: tv_usec holds nanoseconds.
  return static_cast<uint64_t>(hdr->ts.tv_sec) * dataplane::kNsPerSecond + static_cast<uint64_t>(hdr->ts.tv_usec);
}

bool Captures::open(const std::vector<ReplayInput>& inputs) {
  for (const ReplayInput& in : inputs) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    Capture c;
    c.in = in;
    // A FIFO or a device would block or never end: captures are regular files.
    if (std::string why; !check_regular_file(c.in.path, why)) {
      std::cerr << c.in.path << ": " << why << "\n";
      return false;
    }
    // Read through a 1 MiB stdio buffer: libpcap reads each record with two
    // small freads, which the default buffer turns into a syscall every few
    // packets.
    FILE* f = std::fopen(c.in.path.c_str(), "rb");
    if (f == nullptr) {
      std::cerr << c.in.path << ": cannot read capture: " << std::strerror(errno) << "\n";
      return false;
    }
    std::setvbuf(f, nullptr, _IOFBF, kCaptureBuffer);
    c.file = f;
    if (std::fseek(f, 0, SEEK_END) == 0) {
      const long end = std::ftell(f);
      c.size = end > 0 ? static_cast<uint64_t>(end) : 0;
      std::rewind(f);
    }
    c.pcap = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, errbuf);
    if (c.pcap == nullptr) {
      std::fclose(f);
      std::cerr << c.in.path << ": cannot read capture: " << errbuf << "\n";
      return false;
    }
    list_.push_back(c);
    if (pcap_datalink(c.pcap) != DLT_EN10MB) {
      // libpcap has no name for a link type it does not know (a null pointer).
      const int dlt = pcap_datalink(c.pcap);
      const char* dlt_name = pcap_datalink_val_to_name(dlt);
      std::cerr << c.in.path << ": link type " << (dlt_name != nullptr ? dlt_name : "unknown") << " (" << dlt
                << ") is not Ethernet; asenet replays Ethernet (DLT_EN10MB) captures\n";
      return false;
    }
  }
  for (auto& c : list_) read_next(c);
  return true;
}

double Captures::share_read() const noexcept {
  uint64_t total = 0, done = 0;
  for (const auto& c : list_) {
    total += c.size;
    const long at = c.eof || c.file == nullptr ? static_cast<long>(c.size) : std::ftell(c.file);
    done += at > 0 ? static_cast<uint64_t>(at) : 0;
  }
  return total > 0 ? static_cast<double>(done) / static_cast<double>(total) : -1;
}

Capture* Captures::earliest() noexcept {
  Capture* best = nullptr;
  for (auto& c : list_) {
    if (c.eof) continue;
    if (best == nullptr || c.time_ns() < best->time_ns()) best = &c;  // ties: earlier --in first
  }
  return best;
}

void Captures::advance(Capture& c) {
  c.index++;
  read_next(c);
}

void Captures::read_next(Capture& c) {
  const int got = pcap_next_ex(c.pcap, &c.hdr, &c.data);
  if (got == 1) return;
  if (got == -1) {
    const std::string why = pcap_geterr(c.pcap);
    // A capture cut short in its last record (tcpdump killed mid-write) is
    // common: replay what is complete, say so, and carry on (as tshark
    // does). Anything else wrong with the file is bad input.
    if (why.find("truncated") != std::string::npos) {
      std::cerr << "warning: " << c.in.path << ": cut short in packet " << c.index + 1 << " (" << why << "); the "
                << c.index << " complete packets before it are replayed\n";
      truncated_.push_back(c.in.path);
    } else {
      std::cerr << c.in.path << ": packet " << c.index + 1 << ": " << why << " (the rest of this capture is skipped)\n";
      if (!read_error_) read_error_text_ = c.in.path + ": packet " + std::to_string(c.index + 1) + ": " + why;
      read_error_ = true;
    }
  }
  c.eof = true;
}

void Captures::close() noexcept {
  for (auto& c : list_)
    if (c.pcap != nullptr) pcap_close(c.pcap);  // closes c.file too
  list_.clear();
}

}  // namespace asenet::control

// asenetctl capture: one side's frames from the live data plane into a pcap
// or pcapng file (docs/design/live-control.md, "Capture").
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "control/cli/common.hpp"
#include "control/cli/live_client.hpp"
#include "control/model/packet_filter.hpp"
#include "control/report/capture_file.hpp"
#include "protocol/wire.hpp"

namespace po = boost::program_options;

namespace asenet::control::cli {

namespace {

/// Writes a kCaptureFrames batch into `file`; false when it is malformed.
bool write_batch(const std::string& batch, CaptureFile& file, uint64_t& written) {
  size_t at = 0;
  while (at + 16 <= batch.size()) {
    const auto* h = reinterpret_cast<const uint8_t*>(batch.data() + at);
    uint64_t wall = 0;
    uint32_t wire_len = 0;
    for (int i = 0; i < 8; ++i) wall |= uint64_t{h[i]} << (8 * i);
    for (int i = 0; i < 4; ++i) wire_len |= uint32_t{h[8 + i]} << (8 * i);
    const uint32_t caplen = uint32_t{h[12]} | uint32_t{h[13]} << 8;
    if (at + 16 + caplen > batch.size() || caplen > wire_len) return false;
    file.write(wall, wire_len, h + 16, caplen, h[14] != 0);
    at += 16 + caplen;
    ++written;
  }
  return at == batch.size();
}

/// Writes what asenetd sends until the capture ends (its count) or `duration`
/// seconds pass. Returns the exit code (0 done).
int receive_frames(ControlClient& c, CaptureFile& file, double duration, uint64_t& written) {
  std::string err, payload;
  wire::Type t{};
  const auto end = duration > 0 ? deadline_in(duration) : deadline_in(365.0 * 24 * 3600);
  for (;;) {
    if (!c.receive(t, payload, end, err)) {
      if (duration > 0 && c.timed_out()) break;  // the time is up: what came is in the file
      std::cerr << "asenetctl capture: " << err << "\n";
      return 1;
    }
    if (t == wire::Type::kCaptureFrames) {
      if (!write_batch(payload, file, written)) {
        std::cerr << "asenetctl capture: a malformed batch from asenetd\n";
        return 1;
      }
      if (!file.flush(err)) {
        std::cerr << "asenetctl capture: " << err << "\n";
        return 1;
      }
    } else if (t == wire::Type::kCaptureEnd) {
      const auto j = checked_reply("capture", payload, {"captured", "lost"});
      if (!j) return 1;
      if ((*j)["lost"].get<uint64_t>() > 0)
        std::cerr << "asenetctl capture: " << (*j)["lost"].get<uint64_t>() << " frames lost (the reader fell behind)\n";
      break;
    } else if (t == wire::Type::kError) {
      std::cerr << "asenetctl capture: asenetd: " << payload << "\n";
      return 1;
    }
  }
  if (!file.flush(err)) {
    std::cerr << "asenetctl capture: " << err << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

int cmd_capture(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl capture --socket PATH --port SIDE -w FILE [--filter EXPR]
                        [--count N] [--duration S] [--direction in|out|both]
                        [--snaplen N] [--format pcap|pcapng] [--timeout S]

Writes the frames the live data plane receives and sends on one side
(internet, vnet or onprem) to FILE ("-": standard output, for
`| wireshark -k -i -`), as tcpdump -w would: received frames as they arrived,
before any NAT, sent ones as they left. pcap (nanosecond timestamps, through
libpcap) unless --format pcapng or FILE ends in .pcapng: then the side is the
interface's name and each frame carries its direction. --filter takes
tcpdump's language (pcap-filter(7)). Stops after --count frames or --duration
seconds, whichever comes first (neither: until interrupted; the file is
flushed after every batch). Costs one load per burst while nobody captures.

options)");
  std::string socket, side, path, filter, direction = "both", format;
  uint64_t count = 0;
  double duration = 0, timeout = kTraceAckTimeoutS;
  unsigned snaplen = 0;
  d.add_options()("help,h", "show this help")("socket", po::value(&socket)->required(), "asenetd's --control-socket")(
      "port", po::value(&side)->required(), "the side: internet, vnet or onprem")(
      "write,w", po::value(&path)->required(), "the capture file (- for standard output)")(
      "filter", po::value(&filter), "only frames matching this tcpdump filter")(
      "count", po::value(&count)->default_value(0), "stop after this many frames (0: no limit)")(
      "duration", po::value(&duration)->default_value(0), "stop after this many seconds (0: no limit)")(
      "direction", po::value(&direction)->default_value("both"), "in (received), out (sent) or both")(
      "snaplen", po::value(&snaplen)->default_value(0), "bytes kept per frame (0: the ports' MTU and headers)")(
      "format", po::value(&format), "pcap or pcapng (default: by FILE's extension)")(
      "timeout", po::value(&timeout)->default_value(kTraceAckTimeoutS), "seconds asenetd has to accept the capture");
  if (auto rc = parse_options(d, args, "capture")) return *rc;
  if (side != "internet" && side != "vnet" && side != "onprem")
    return bad_usage("capture", "--port must be internet, vnet or onprem");
  if (direction != "in" && direction != "out" && direction != "both")
    return bad_usage("capture", "--direction must be in, out or both");
  if (duration < 0 || timeout <= 0) return bad_usage("capture", "--duration must be 0 or above, --timeout above 0");
  if (snaplen != 0 && (snaplen < 64 || snaplen > 16384)) return bad_usage("capture", "--snaplen must be 64-16384");
  const bool ng_name = path.size() > 7 && path.compare(path.size() - 7, 7, ".pcapng") == 0;
  if (format.empty()) format = ng_name ? "pcapng" : "pcap";
  if (format != "pcap" && format != "pcapng") return bad_usage("capture", "--format must be pcap or pcapng");
  nlohmann::json req = {{"port", side}, {"count", count == 0 ? 100000000 : count}, {"direction", direction}};
  if (std::any_of(args.begin(), args.end(), [](const std::string& a) { return a.rfind("--filter", 0) == 0; })) {
    std::string why;
    if (!PacketFilter::compile(filter, why)) return bad_usage("capture", "--filter '" + filter + "': " + why);
    req["filter"] = filter;
  }
  if (snaplen != 0) req["snaplen"] = snaplen;
  ControlClient c;
  std::string err, payload;
  wire::Type t{};
  const auto ack_by = deadline_in(timeout);
  if (!c.connect(socket, ack_by, err) || !c.send(wire::Type::kCapture, req.dump(), ack_by, err) ||
      !c.receive(t, payload, ack_by, err))
    return exchange_failed("capture", c, err, timeout);
  if (t == wire::Type::kError) {
    std::cerr << "asenetctl capture: " << (c.rejected() ? "" : "asenetd refused: ") << payload << "\n";
    return c.rejected() ? 1 : 2;
  }
  const auto ok = checked_reply("capture", payload, {"snaplen"});
  if (t != wire::Type::kOk || !ok) return 1;
  auto file = CaptureFile::open(path, format == "pcapng" ? CaptureFile::Format::kPcapng : CaptureFile::Format::kPcap,
                                (*ok)["snaplen"].get<uint32_t>(), side, err);
  if (!file) {
    std::cerr << "asenetctl capture: " << err << "\n";
    return 1;
  }
  uint64_t written = 0;
  if (const int rc = receive_frames(c, *file, duration, written); rc != 0) return rc;
  if (path != "-") std::cerr << "asenetctl capture: " << written << " frames written to " << path << "\n";
  return 0;
}

}  // namespace asenet::control::cli

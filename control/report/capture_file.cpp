// pcap and pcapng capture files (capture_file.hpp). pcapng: a section header,
// one interface description (link type Ethernet, if_name, if_tsresol 10^-9),
// then an enhanced packet block per frame with epb_flags' direction bits
// (01 inbound, 10 outbound), all little-endian, per the pcapng draft
// (draft-ietf-opsawg-pcapng).
#include "control/report/capture_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace asenet::control {

namespace {

constexpr uint32_t kShb = 0x0A0D0D0A, kIdb = 1, kEpb = 6;
constexpr uint16_t kOptEnd = 0, kOptIfName = 2, kOptIfTsresol = 9, kOptEpbFlags = 2, kOptShbUserAppl = 4;

void le16(std::vector<uint8_t>& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v));
  b.push_back(static_cast<uint8_t>(v >> 8));
}
void le32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void pad4(std::vector<uint8_t>& b) {
  while (b.size() % 4 != 0) b.push_back(0);
}
void option(std::vector<uint8_t>& b, uint16_t code, const void* v, uint16_t len) {
  le16(b, code);
  le16(b, len);
  const auto* p = static_cast<const uint8_t*>(v);
  b.insert(b.end(), p, p + len);
  pad4(b);
}
/// A block: type, total length, body, total length again.
std::vector<uint8_t> block(uint32_t type, const std::vector<uint8_t>& body) {
  std::vector<uint8_t> b;
  const auto len = static_cast<uint32_t>(body.size() + 12);
  le32(b, type);
  le32(b, len);
  b.insert(b.end(), body.begin(), body.end());
  le32(b, len);
  return b;
}

}  // namespace

std::unique_ptr<CaptureFile> CaptureFile::open(const std::string& path, Format format, uint32_t snaplen,
                                               const std::string& interface_name, std::string& error) {
  std::unique_ptr<CaptureFile> f(new CaptureFile());
  f->format_ = format;
  if (path == "-") {
    f->out_ = stdout;
    f->own_ = false;
  } else {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) {
      error = path + ": " + (errno == ELOOP ? "is a symbolic link (refused)" : std::strerror(errno));
      return nullptr;
    }
    f->out_ = fdopen(fd, "wb");
    if (f->out_ == nullptr) {
      error = path + ": " + std::strerror(errno);
      ::close(fd);
      return nullptr;
    }
  }
  if (format == Format::kPcap) {
    f->dead_ = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, static_cast<int>(snaplen), PCAP_TSTAMP_PRECISION_NANO);
    f->dumper_ = f->dead_ != nullptr ? pcap_dump_fopen(f->dead_, f->out_) : nullptr;
    if (f->dumper_ == nullptr) {
      error = path + ": libpcap could not start the file";
      return nullptr;
    }
    f->own_ = false;  // pcap_dump_close closes it
    return f;
  }
  std::vector<uint8_t> shb;
  le32(shb, 0x1A2B3C4D);
  le16(shb, 1);
  le16(shb, 0);
  le32(shb, 0xffffffffu);  // section length unknown (-1)
  le32(shb, 0xffffffffu);
  const std::string appl = std::string("asenet ") + ASENET_VERSION;
  option(shb, kOptShbUserAppl, appl.data(), static_cast<uint16_t>(appl.size()));
  option(shb, kOptEnd, nullptr, 0);
  std::vector<uint8_t> idb;
  le16(idb, DLT_EN10MB);
  le16(idb, 0);
  le32(idb, snaplen);
  option(idb, kOptIfName, interface_name.data(), static_cast<uint16_t>(interface_name.size()));
  const uint8_t nanoseconds = 9;
  option(idb, kOptIfTsresol, &nanoseconds, 1);
  option(idb, kOptEnd, nullptr, 0);
  const auto a = block(kShb, shb), b = block(kIdb, idb);
  f->put(a.data(), a.size());
  f->put(b.data(), b.size());
  return f;
}

CaptureFile::~CaptureFile() {
  if (dumper_ != nullptr) pcap_dump_close(dumper_);
  if (dead_ != nullptr) pcap_close(dead_);
  if (own_ && out_ != nullptr)
    std::fclose(out_);
  else if (out_ == stdout)
    std::fflush(stdout);
}

void CaptureFile::put(const void* p, size_t n) {
  if (std::fwrite(p, 1, n, out_) != n) failed_ = true;
}

void CaptureFile::write(uint64_t wall_ns, uint32_t wire_len, const uint8_t* data, uint32_t caplen, bool outbound) {
  if (format_ == Format::kPcap) {
    pcap_pkthdr h{};
    h.ts.tv_sec = static_cast<time_t>(wall_ns / 1000000000ull);
    h.ts.tv_usec = static_cast<suseconds_t>(wall_ns % 1000000000ull);  // nanoseconds: the handle's precision
    h.caplen = caplen;
    h.len = wire_len;
    pcap_dump(reinterpret_cast<u_char*>(dumper_), &h, data);
    return;
  }
  std::vector<uint8_t> epb;
  le32(epb, 0);  // interface 0
  le32(epb, static_cast<uint32_t>(wall_ns >> 32));
  le32(epb, static_cast<uint32_t>(wall_ns));
  le32(epb, caplen);
  le32(epb, wire_len);
  epb.insert(epb.end(), data, data + caplen);
  pad4(epb);
  const uint32_t flags = outbound ? 2u : 1u;
  option(epb, kOptEpbFlags, &flags, 4);
  option(epb, kOptEnd, nullptr, 0);
  const auto blk = block(kEpb, epb);
  put(blk.data(), blk.size());
}

bool CaptureFile::flush(std::string& error) {
  const bool ok = (dumper_ != nullptr ? pcap_dump_flush(dumper_) == 0 : std::fflush(out_) == 0) && !failed_;
  if (!ok) error = std::string("writing the capture: ") + std::strerror(errno);
  return ok;
}

}  // namespace asenet::control

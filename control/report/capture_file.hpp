// Capture files for `asenetctl capture`: pcap through libpcap (nanosecond
// timestamps), or pcapng (written here: libpcap reads pcapng but cannot
// write it) with the data plane's side as the interface's name and each
// frame's direction in its epb_flags, as Wireshark shows them.
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace asenet::control {

class CaptureFile {
 public:
  enum class Format : uint8_t { kPcap, kPcapng };
  /// Opens `path` ("-": standard output) for Ethernet frames of up to
  /// `snaplen` bytes captured on `interface_name`. Refuses to write through
  /// a symbolic link. nullptr with a message on failure.
  static std::unique_ptr<CaptureFile> open(const std::string& path, Format format, uint32_t snaplen,
                                           const std::string& interface_name, std::string& error);
  CaptureFile(const CaptureFile&) = delete;
  CaptureFile& operator=(const CaptureFile&) = delete;
  ~CaptureFile();

  void write(uint64_t wall_ns, uint32_t wire_len, const uint8_t* data, uint32_t caplen, bool outbound);
  /// Pushes what was written to the file (after each batch: a capture
  /// stopped by a signal leaves whole records). False with a message.
  bool flush(std::string& error);

 private:
  CaptureFile() = default;
  void put(const void* p, size_t n);
  Format format_ = Format::kPcap;
  FILE* out_ = nullptr;
  bool own_ = true;  ///< false for standard output
  pcap_t* dead_ = nullptr;
  pcap_dumper_t* dumper_ = nullptr;
  bool failed_ = false;
};

}  // namespace asenet::control

// A packet filter in tcpdump's language (pcap-filter(7)), compiled by
// libpcap's pcap_compile for Ethernet frames: what `replay --trace-filter`,
// `trace --filter` and `capture --filter` keep. Matching runs libpcap's own
// BPF interpreter on the frame as it arrived, in replay and in asenetd's
// workers alike (docs/design/live-control.md says why not DPDK's rte_bpf).
#pragma once

#include <pcap/pcap.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace asenet::control {

class PacketFilter {
 public:
  /// Compiles `expr`; nullopt with a message in `error` (libpcap's words) when
  /// it is not a valid filter. An empty expression is refused too: it would
  /// keep every packet, which no filter flag means.
  static std::optional<PacketFilter> compile(const std::string& expr, std::string& error);

  /// Whether the frame (its first `caplen` bytes, `wire_len` on the wire) matches.
  [[nodiscard]] bool matches(const uint8_t* frame, uint32_t caplen, uint32_t wire_len) const noexcept {
    return bpf_filter(prog_->bf_insns, frame, wire_len, caplen) != 0;
  }
  /// The classic BPF program (for rte_bpf_convert).
  [[nodiscard]] const bpf_program* program() const noexcept { return prog_.get(); }
  [[nodiscard]] const std::string& expression() const noexcept { return expr_; }
  /// matches() for a data plane's function pointer (TraceSink::frame_filter):
  /// `state` is the PacketFilter.
  static bool match_frame(const void* state, const uint8_t* frame, uint32_t caplen, uint32_t wire_len) noexcept {
    return static_cast<const PacketFilter*>(state)->matches(frame, caplen, wire_len);
  }

 private:
  struct Free {
    void operator()(bpf_program* p) const noexcept;
  };
  std::unique_ptr<bpf_program, Free> prog_;
  std::string expr_;
};

}  // namespace asenet::control

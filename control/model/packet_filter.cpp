// tcpdump filter expressions compiled by libpcap (packet_filter.hpp).
#include "control/model/packet_filter.hpp"

namespace asenet::control {

void PacketFilter::Free::operator()(bpf_program* p) const noexcept {
  pcap_freecode(p);
  delete p;
}

std::optional<PacketFilter> PacketFilter::compile(const std::string& expr, std::string& error) {
  if (expr.find_first_not_of(" \t") == std::string::npos) {
    error = "the filter is empty (leave the option out to keep every packet)";
    return std::nullopt;
  }
  // A dead handle: compiling needs the link type and snapshot length only.
  pcap_t* dead = pcap_open_dead(DLT_EN10MB, 262144);
  if (dead == nullptr) {
    error = "libpcap could not open a handle to compile the filter";
    return std::nullopt;
  }
  auto prog = std::make_unique<bpf_program>();
  const int rc = pcap_compile(dead, prog.get(), expr.c_str(), 1, PCAP_NETMASK_UNKNOWN);
  if (rc != 0) error = std::string("not a valid filter: ") + pcap_geterr(dead);
  pcap_close(dead);
  if (rc != 0) return std::nullopt;
  PacketFilter f;
  f.prog_.reset(prog.release());
  f.expr_ = expr;
  return f;
}

}  // namespace asenet::control

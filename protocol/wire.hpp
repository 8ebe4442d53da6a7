// The control socket's wire format (docs/design/control-socket.md).
//
// Every message, either way, is one frame: a 12-byte header, little endian,
//   magic "ASNT" (4 bytes) | version u16 | type u16 | payload length u32
// followed by the payload. Requests other than a push carry a small JSON
// object; a push carries a TableSpec in the binary encoding below, so that the
// control process compiles and the data plane only builds DPDK structures.
// Decoding never trusts a length: every count is checked against the bytes
// left, and a decoded TableSpec is validated before anything is built from it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "dataplane/tables/table_spec.hpp"

namespace asenet::control::wire {

inline constexpr uint32_t kMagic = 0x544e5341;  // "ASNT" as little-endian bytes
inline constexpr uint16_t kVersion = 1;
inline constexpr size_t kHeaderSize = 12;
/// The largest payload either side accepts. A compiled 10K-rule NSG set is a
/// few MiB; anything above this is refused before a byte of it is read.
inline constexpr uint32_t kMaxPayload = 64u << 20;

enum class Type : uint16_t {
  // Requests
  kPush = 1,    ///< payload: encode_spec(); reply kOk {"generation":N,...}
  kStats = 2,   ///< payload: {"format":"json"|"prometheus"}; reply kOk with the text
  kTrace = 3,   ///< payload: {"count":N, "port":..., "src":..., ...}; replies kTraceLine..., kTraceEnd
  kHealth = 4,  ///< payload: {"ase":NAME,"instance":IP,"up":bool}; reply kOk {"generation":N}
  /// payload: encode_push(): a JSON header {"start":{"ports":{SIDE:DEVICE},
  /// "flow_table_size":N}, "allow_l2_change":bool, "dry_run":bool} and the
  /// spec; reply kOk {"generation","previous","acl_rules","build_ms","swap_ms",
  /// "changes":[LINE...],"dry_run"}. Keys that only take effect at start and
  /// differ from asenetd's are refused (kError), and so is an L2 mode change
  /// without allow_l2_change.
  kPushPlan = 5,
  /// payload: {"port":SIDE,"count":N,"filter":EXPR,"direction":"in"|"out"|"both","snaplen":N};
  /// replies kOk, then kCaptureFrames..., kCaptureEnd
  kCapture = 6,
  /// The second phase of a pool push (a kPushPlan with "phase":"prepare" and
  /// a "token" was the first): payload {"token":T,"action":"commit","generation":G}
  /// publishes what T staged as generation G; {"token":T,"action":"abort"}
  /// drops it. Reply kOk {"generation",...,"spec_hash"} / {"aborted":bool}.
  kPushCommit = 7,
  // Replies
  kOk = 0x80,
  kError = 0x81,      ///< payload: a message for a person
  kTraceLine = 0x82,  ///< payload: one trace.jsonl line
  kTraceEnd = 0x83,   ///< payload: {"traced":N,"lost":N}
  /// payload: captured frames back to back, each a 16-byte little-endian
  /// header (u64 wall-clock ns, u32 wire length, u16 captured, u8 direction
  /// 0 in / 1 out, u8 worker) and its bytes (daemon/live_capture.cpp)
  kCaptureFrames = 0x84,
  kCaptureEnd = 0x85,  ///< payload: {"captured":N,"lost":N}
};

struct Header {
  uint16_t version = kVersion;
  Type type = Type::kOk;
  uint32_t length = 0;
};

/// A kPushPlan payload: 4 bytes (little-endian length of the header), the
/// JSON header, then encode_spec(spec).
std::string encode_push(std::string_view header_json, const dataplane::TableSpec& spec);
/// Splits a kPushPlan payload; false with `error` when it is too short.
bool split_push(std::string_view payload, std::string_view& header_json, std::string_view& spec_bytes,
                std::string& error);

/// A frame's bytes.
std::string frame(Type type, std::string_view payload);

enum class HeaderCheck { kOk, kBadMagic, kBadVersion, kTooLarge };
/// Reads a header from 12 bytes.
HeaderCheck parse_header(const uint8_t* bytes, Header& out) noexcept;
std::string header_error(HeaderCheck c, const Header& h);

/// TableSpec <-> bytes. decode_spec() returns false with a reason on any
/// truncation, overlong count or trailing byte, and on a spec that would
/// break the data plane's invariants (validate_spec).
std::string encode_spec(const dataplane::TableSpec& spec);
bool decode_spec(std::string_view bytes, dataplane::TableSpec& out, std::string& error);
/// "fnv1a64:" and 16 hex digits: the hash of encode_spec(spec) with its
/// generation number set to 0, so that one topology compiled anywhere, for
/// any generation, hashes the same (the nodes of a pool compare it).
std::string spec_hash(dataplane::TableSpec spec);
/// A pool push's token: 8 to 64 lowercase hex digits.
bool valid_push_token(std::string_view token) noexcept;

/// Every invariant the data plane relies on without checking per packet:
/// indexes in range, sorted lists sorted, prefixes well formed, per-instance
/// vectors the right length. True when the spec is safe to build.
bool validate_spec(const dataplane::TableSpec& spec, std::string& error);

}  // namespace asenet::control::wire

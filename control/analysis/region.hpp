// Exact sets of packets, as NSG rules see them: unions of disjoint boxes in
// the five dimensions an NSG matches on (protocol, source, destination, source
// port, destination port). `nsg analyze` and `nsg diff` compute over these,
// never by sampling: a rule's region is exactly the packets it matches, and
// first-match evaluation is subtraction.
//
// The packet space is the one the reference evaluator (nsg_spec.hpp) sees:
// TCP and UDP packets have ports, every other protocol has source and
// destination port 0. So a rule for protocol Any with destination port 443
// matches no ICMP packet, exactly as in the data plane.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "dataplane/tables/nsg_spec.hpp"

namespace asenet::control::analysis {

/// Closed interval [lo, hi] of one dimension.
struct Span {
  uint32_t lo = 0;
  uint32_t hi = 0;
  bool operator==(const Span&) const noexcept = default;
};

enum Dim : uint8_t { kProto = 0, kSrc = 1, kDst = 2, kSport = 3, kDport = 4 };
inline constexpr int kDims = 5;
inline constexpr std::array<uint32_t, kDims> kDimMax{255, 0xffffffffu, 0xffffffffu, 65535, 65535};

struct Box {
  std::array<Span, kDims> d{};
  bool operator==(const Box&) const noexcept = default;
};

/// One packet of a region: what `asenetctl verify` is asked about.
struct Packet {
  uint8_t proto = 6;
  uint32_t src = 0;
  uint32_t dst = 0;
  uint16_t sport = 0;
  uint16_t dport = 0;
  [[nodiscard]] dataplane::FiveTuple tuple() const noexcept { return {src, dst, sport, dport, proto}; }
};

/// A region grew past the budget: the rule set is too fragmented to analyse
/// exactly within the memory asked for. Reported, never approximated.
class TooComplex : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A set of packets: disjoint boxes.
class Region {
 public:
  Region() = default;
  explicit Region(std::vector<Box> boxes) : boxes_(std::move(boxes)) {}

  [[nodiscard]] bool empty() const noexcept { return boxes_.empty(); }
  [[nodiscard]] const std::vector<Box>& boxes() const noexcept { return boxes_; }
  [[nodiscard]] size_t size() const noexcept { return boxes_.size(); }
  [[nodiscard]] bool contains(const Packet& p) const noexcept;

  /// this ∩ other.
  [[nodiscard]] Region intersect(const Region& other) const;
  /// this ∪ other (other's boxes minus this, appended).
  void add(const Region& other);
  /// this \ other, in place. Throws TooComplex past the budget.
  void subtract(const Region& other);
  /// Merges boxes that differ in one dimension and touch there.
  void coalesce();

  /// A packet of the region, chosen to read well (TCP first, a client port
  /// for the source, a well-known port for the destination when allowed).
  /// Precondition: !empty().
  [[nodiscard]] Packet example() const;

  /// Boxes at most (set per analysis; the default fits ~1 GiB).
  static void set_budget(size_t boxes) noexcept;

 private:
  std::vector<Box> boxes_;
};

/// Every packet the evaluator can see, restricted to local addresses `scope`
/// on the side the direction names (inbound: destination; outbound: source).
/// An empty scope means every address.
Region universe(dataplane::NsgDirection dir, const std::vector<Span>& scope);

/// Exactly the packets `rule` matches (a rule with `never` matches none).
Region rule_region(const dataplane::NsgRuleSpec& rule);

/// Prefixes as merged, sorted intervals; an empty list is "any" -> the full range.
std::vector<Span> address_spans(const std::vector<Cidr>& prefixes);

/// Sorted, with overlapping and touching spans joined.
std::vector<Span> merge_spans(std::vector<Span> v);

/// "TCP 10.0.0.0-10.0.0.255:1024-65535 -> 10.0.1.4:443", for reports.
std::string describe(const Box& b);
std::string describe(const Packet& p);
const char* proto_name(uint8_t proto);

}  // namespace asenet::control::analysis

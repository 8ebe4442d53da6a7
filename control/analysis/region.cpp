#include "control/analysis/region.hpp"

#include <algorithm>
#include <sstream>

#include "dataplane/tables/cidr.hpp"

namespace asenet::control::analysis {

namespace {

size_t g_budget = size_t{4} << 20;  // boxes; 40 bytes each

bool overlaps(const Box& a, const Box& b) noexcept {
  for (int i = 0; i < kDims; ++i)
    if (a.d[i].hi < b.d[i].lo || b.d[i].hi < a.d[i].lo) return false;
  return true;
}

/// a \ b as at most 2 * kDims disjoint pieces, appended to out.
void subtract_box(Box a, const Box& b, std::vector<Box>& out) {
  if (!overlaps(a, b)) {
    out.push_back(a);
    return;
  }
  for (int i = 0; i < kDims; ++i) {
    if (a.d[i].lo < b.d[i].lo) {
      Box piece = a;
      piece.d[i].hi = b.d[i].lo - 1;
      out.push_back(piece);
      a.d[i].lo = b.d[i].lo;
    }
    if (a.d[i].hi > b.d[i].hi) {
      Box piece = a;
      piece.d[i].lo = b.d[i].hi + 1;
      out.push_back(piece);
      a.d[i].hi = b.d[i].hi;
    }
  }
  // What is left of a lies inside b: gone.
}

void check_budget(size_t n) {
  if (n > g_budget)
    throw TooComplex("the rule set fragments the packet space into more than " + std::to_string(g_budget) +
                     " boxes; it is too complex to analyse exactly");
}

/// Merges along dimension `dim` boxes equal in every other dimension. True if any merged.
bool coalesce_dim(std::vector<Box>& v, int dim) {
  auto key_less = [dim](const Box& a, const Box& b) {
    for (int i = 0; i < kDims; ++i) {
      if (i == dim) continue;
      if (a.d[i].lo != b.d[i].lo) return a.d[i].lo < b.d[i].lo;
      if (a.d[i].hi != b.d[i].hi) return a.d[i].hi < b.d[i].hi;
    }
    return a.d[dim].lo < b.d[dim].lo;
  };
  auto same_others = [dim](const Box& a, const Box& b) {
    for (int i = 0; i < kDims; ++i)
      if (i != dim && a.d[i] != b.d[i]) return false;
    return true;
  };
  std::sort(v.begin(), v.end(), key_less);
  size_t w = 0;
  bool merged = false;
  for (size_t r = 0; r < v.size(); ++r) {
    if (w > 0 && same_others(v[w - 1], v[r]) && uint64_t{v[w - 1].d[dim].hi} + 1 == v[r].d[dim].lo) {
      v[w - 1].d[dim].hi = v[r].d[dim].hi;
      merged = true;
    } else {
      v[w++] = v[r];
    }
  }
  v.resize(w);
  return merged;
}

uint32_t pick(const Span& s, std::initializer_list<uint32_t> preferred) {
  for (uint32_t p : preferred)
    if (p >= s.lo && p <= s.hi) return p;
  return s.lo;
}

uint32_t pick_address(const Span& s) {
  // Addresses that read as examples: the documentation ranges (RFC 5737),
  // then well-known public resolvers.
  for (uint32_t a : {0xcb00710au /* 203.0.113.10 */, 0xc633640au /* 198.51.100.10 */, 0xc000020au /* 192.0.2.10 */,
                     0x08080808u /* 8.8.8.8 */, 0x01010101u /* 1.1.1.1 */})
    if (a >= s.lo && a <= s.hi) return a;
  // Not a network address when the span lets us avoid it.
  return (s.lo & 0xff) == 0 && s.lo < s.hi ? s.lo + 1 : s.lo;
}

int proto_rank(const Span& p) {
  if (p.lo <= 6 && 6 <= p.hi) return 0;
  if (p.lo <= 17 && 17 <= p.hi) return 1;
  if (p.lo <= 1 && 1 <= p.hi) return 2;
  return 3;
}

std::string span_text(const Span& s, int dim) {
  if (s.lo == 0 && s.hi == kDimMax[dim]) return "*";
  if (dim == kSrc || dim == kDst) {
    if (s.lo == s.hi) return format_ipv4(s.lo);
    const uint64_t size = uint64_t{s.hi} - s.lo + 1;
    if ((size & (size - 1)) == 0 && (s.lo & (size - 1)) == 0) {
      int len = 32;
      for (uint64_t n = size; n > 1; n >>= 1) --len;
      return format_ipv4(s.lo) + "/" + std::to_string(len);
    }
    return format_ipv4(s.lo) + "-" + format_ipv4(s.hi);
  }
  if (s.lo == s.hi) return std::to_string(s.lo);
  return std::to_string(s.lo) + "-" + std::to_string(s.hi);
}

std::vector<Span> port_spans(const std::vector<dataplane::PortSpan>& v) {
  if (v.empty()) return {Span{0, 65535}};
  std::vector<Span> s;
  for (const auto& p : v) s.push_back({p.lo, p.hi});
  return merge_spans(std::move(s));
}

bool has_zero(const std::vector<Span>& v) { return !v.empty() && v.front().lo == 0; }

/// Protocol spans without ports (everything but TCP and UDP).
constexpr std::array<Span, 3> kPortless{Span{0, 5}, Span{7, 16}, Span{18, 255}};

void product(std::vector<Box>& out, const Span& proto, const std::vector<Span>& src, const std::vector<Span>& dst,
             const std::vector<Span>& sp, const std::vector<Span>& dp) {
  for (const auto& s : src)
    for (const auto& d : dst)
      for (const auto& a : sp)
        for (const auto& b : dp) out.push_back(Box{{proto, s, d, a, b}});
}

}  // namespace

void Region::set_budget(size_t boxes) noexcept { g_budget = boxes; }

bool Region::contains(const Packet& p) const noexcept {
  const std::array<uint32_t, kDims> x{p.proto, p.src, p.dst, p.sport, p.dport};
  for (const auto& b : boxes_) {
    bool in = true;
    for (int i = 0; i < kDims && in; ++i) in = x[i] >= b.d[i].lo && x[i] <= b.d[i].hi;
    if (in) return true;
  }
  return false;
}

Region Region::intersect(const Region& other) const {
  std::vector<Box> out;
  for (const auto& a : boxes_)
    for (const auto& b : other.boxes_) {
      if (!overlaps(a, b)) continue;
      Box c;
      for (int i = 0; i < kDims; ++i) c.d[i] = {std::max(a.d[i].lo, b.d[i].lo), std::min(a.d[i].hi, b.d[i].hi)};
      out.push_back(c);
    }
  check_budget(out.size());
  return Region(std::move(out));
}

void Region::add(const Region& other) {
  Region extra = other;
  extra.subtract(*this);
  boxes_.insert(boxes_.end(), extra.boxes_.begin(), extra.boxes_.end());
  check_budget(boxes_.size());
}

void Region::subtract(const Region& other) {
  size_t last = std::max<size_t>(boxes_.size(), 64);
  std::vector<Box> next;
  for (const auto& m : other.boxes_) {
    if (boxes_.empty()) return;
    next.clear();
    for (const auto& a : boxes_) subtract_box(a, m, next);
    boxes_.swap(next);
    if (boxes_.size() > 2 * last) {
      coalesce();
      last = std::max<size_t>(boxes_.size(), 64);
      check_budget(boxes_.size());
    }
  }
  coalesce();
  check_budget(boxes_.size());
}

void Region::coalesce() {
  for (int round = 0; round < 3; ++round) {
    bool any = false;
    for (int dim = kDims - 1; dim >= 0; --dim) any |= coalesce_dim(boxes_, dim);
    if (!any) break;
  }
}

Packet Region::example() const {
  const Box* best = &boxes_.front();
  for (const auto& b : boxes_)
    if (proto_rank(b.d[kProto]) < proto_rank(best->d[kProto])) best = &b;
  Packet p;
  p.proto = static_cast<uint8_t>(pick(best->d[kProto], {6, 17, 1}));
  p.src = pick_address(best->d[kSrc]);
  p.dst = pick_address(best->d[kDst]);
  p.sport = static_cast<uint16_t>(pick(best->d[kSport], {49152, 1024}));
  p.dport = static_cast<uint16_t>(pick(best->d[kDport], {443, 80, 454, 22, 3389, 1}));
  return p;
}

std::vector<Span> merge_spans(std::vector<Span> v) {
  std::sort(v.begin(), v.end(), [](const Span& a, const Span& b) { return a.lo < b.lo; });
  std::vector<Span> out;
  for (const auto& x : v) {
    if (!out.empty() && uint64_t{x.lo} <= uint64_t{out.back().hi} + 1)
      out.back().hi = std::max(out.back().hi, x.hi);
    else
      out.push_back(x);
  }
  return out;
}

std::vector<Span> address_spans(const std::vector<Cidr>& prefixes) {
  if (prefixes.empty()) return {Span{0, 0xffffffffu}};
  std::vector<Span> s;
  for (const auto& c : prefixes) {
    const uint32_t size_minus_one = c.len == 0 ? 0xffffffffu : (uint32_t{1} << (32 - c.len)) - 1;
    s.push_back({c.addr & ~size_minus_one, (c.addr & ~size_minus_one) | size_minus_one});
  }
  return merge_spans(std::move(s));
}

Region universe(dataplane::NsgDirection dir, const std::vector<Span>& scope) {
  const std::vector<Span> any{Span{0, 0xffffffffu}};
  const std::vector<Span>& local = scope.empty() ? any : scope;
  const bool in = dir == dataplane::NsgDirection::kInbound;
  const std::vector<Span>& src = in ? any : local;
  const std::vector<Span>& dst = in ? local : any;
  std::vector<Box> out;
  const std::vector<Span> ports{Span{0, 65535}}, none{Span{0, 0}};
  product(out, {6, 6}, src, dst, ports, ports);
  product(out, {17, 17}, src, dst, ports, ports);
  for (const auto& p : kPortless) product(out, p, src, dst, none, none);
  return Region(std::move(out));
}

Region rule_region(const dataplane::NsgRuleSpec& rule) {
  if (rule.never) return {};
  const auto src = address_spans(rule.src), dst = address_spans(rule.dst);
  const auto sp = port_spans(rule.sports), dp = port_spans(rule.dports);
  const std::vector<Span> none{Span{0, 0}};
  const bool portless_ok = has_zero(sp) && has_zero(dp);  // ICMP & co. carry port 0
  std::vector<Box> out;
  if (rule.proto == dataplane::kProtoAny) {
    product(out, {6, 6}, src, dst, sp, dp);
    product(out, {17, 17}, src, dst, sp, dp);
    if (portless_ok)
      for (const auto& p : kPortless) product(out, p, src, dst, none, none);
  } else if (rule.proto == 6 || rule.proto == 17) {
    product(out, {rule.proto, rule.proto}, src, dst, sp, dp);
  } else if (portless_ok) {
    product(out, {rule.proto, rule.proto}, src, dst, none, none);
  }
  check_budget(out.size());
  return Region(std::move(out));
}

const char* proto_name(uint8_t proto) {
  switch (proto) {
    case 6: return "TCP";
    case 17: return "UDP";
    case 1: return "ICMP";
    default: return nullptr;
  }
}

std::string describe(const Box& b) {
  std::ostringstream o;
  const Span& p = b.d[kProto];
  if (p.lo == p.hi && proto_name(static_cast<uint8_t>(p.lo)) != nullptr)
    o << proto_name(static_cast<uint8_t>(p.lo));
  else if (p.lo == 0 && p.hi == 255)
    o << "any protocol";
  else
    o << "protocol " << span_text(p, kProto);
  const bool ports = !(p.lo == p.hi && p.lo != 6 && p.lo != 17) && !(b.d[kSport] == Span{0, 0} && p.lo != 6);
  o << " " << span_text(b.d[kSrc], kSrc);
  if (ports) o << ":" << span_text(b.d[kSport], kSport);
  o << " -> " << span_text(b.d[kDst], kDst);
  if (ports) o << ":" << span_text(b.d[kDport], kDport);
  return o.str();
}

std::string describe(const Packet& p) {
  std::ostringstream o;
  if (const char* n = proto_name(p.proto))
    o << n;
  else
    o << "protocol " << unsigned{p.proto};
  o << " " << format_ipv4(p.src);
  if (p.proto == 6 || p.proto == 17) o << ":" << p.sport;
  o << " -> " << format_ipv4(p.dst);
  if (p.proto == 6 || p.proto == 17) o << ":" << p.dport;
  return o.str();
}

}  // namespace asenet::control::analysis

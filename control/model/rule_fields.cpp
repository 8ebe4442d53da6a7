#include "control/model/rule_fields.hpp"

#include "protocol/names.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <sstream>

namespace asenet::control {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

}  // namespace

std::vector<PortRange> parse_port_items(const std::vector<std::string>& items, bool allow_star) {
  std::vector<PortRange> out;
  bool star = false;
  if (items.empty()) throw FieldError(0, "empty port list (use \"*\" for any port)");
  for (size_t i = 0; i < items.size(); ++i) {
    std::stringstream ss(items[i]);
    std::string part;
    bool any_part = false;
    while (std::getline(ss, part, ',')) {
      part = trim(part);
      any_part = true;
      if (part == "*") {
        if (!allow_star) throw FieldError(i, "'*' is not allowed here");
        star = true;
        continue;
      }
      auto num = [&](const std::string& t) -> uint16_t {
        unsigned v = 0;
        auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
        if (t.empty() || ec != std::errc{} || ptr != t.data() + t.size() || v > 65535)
          throw FieldError(i, quote(items[i]) + " is not a port, a range 'a-b', '*' or a comma list of those");
        return static_cast<uint16_t>(v);
      };
      PortRange r;
      const auto dash = part.find('-');
      if (dash == std::string::npos) {
        r.lo = r.hi = num(part);
      } else {
        r.lo = num(trim(part.substr(0, dash)));
        r.hi = num(trim(part.substr(dash + 1)));
        if (r.lo > r.hi) throw FieldError(i, "port range " + quote(part) + " runs backwards");
      }
      if (r.hi == 0)
        throw FieldError(i,
                         "port 0 is reserved (RFC 6335): no TCP or UDP connection uses it, and Azure accepts "
                         "ports 1-65535 here (or a range, or '*')");
      out.push_back(r);
    }
    if (!any_part) throw FieldError(i, "empty port entry");
  }
  if (star) {
    if (!out.empty()) throw FieldError(0, "'*' cannot be combined with other ports");
    return {};
  }
  return out;
}

AddressMatch parse_address_items(const std::vector<std::string>& items, const TagResolver& resolve,
                                 const std::string& known) {
  AddressMatch m;
  if (items.empty()) throw FieldError(0, "empty address list (use \"*\" for any address)");
  bool star = false;
  std::vector<std::pair<std::string, size_t>> tags;
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string s = trim(items[i]);
    if (s == "*" || lower(s) == "any") {
      star = true;
      continue;
    }
    auto r = parse_cidr(s);
    if (r.host_bits_set) {
      const auto len = static_cast<uint8_t>(std::stoi(s.substr(s.find('/') + 1)));
      const Cidr fixed{r.raw_addr & Cidr{0, len}.mask(), len};
      throw FieldError(i,
                       quote(s) + " has host bits set; Azure expects the network address, e.g. " + format_cidr(fixed));
    }
    if (r.cidr) {
      m.prefixes.push_back(*r.cidr);
      continue;
    }
    if (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0])) != 0)
      throw FieldError(i, quote(s) + " is not an IPv4 address or CIDR prefix");
    auto canon = resolve(s);
    if (!canon)
      throw FieldError(i,
                       "unknown service tag " + quote(s) + " (known: " + known + "; define others in [service_tags])");
    tags.emplace_back(*canon, i);
  }
  if (tags.size() > 1)
    throw FieldError(tags[1].second, "more than one service tag in one rule ('" + tags[0].first + "', '" +
                                         tags[1].first + "'); Azure allows one tag per rule: split it into two rules");
  if (star && items.size() > 1) throw FieldError(0, "'*' cannot be combined with other addresses");
  if (!tags.empty() && !m.prefixes.empty())
    throw FieldError(tags[0].second,
                     "service tag '" + tags[0].first + "' cannot be combined with address prefixes in one rule");
  if (star) {
    m.kind = AddressMatch::Kind::kAny;
  } else if (!tags.empty()) {
    m.kind = AddressMatch::Kind::kTag;
    m.tag = tags[0].first;
  } else {
    m.kind = AddressMatch::Kind::kPrefixes;
  }
  return m;
}

std::optional<std::string> resolve_tag(const Topology& t, const std::string& name) {
  static const std::map<std::string, std::string> builtin = {
      {"virtualnetwork", "VirtualNetwork"},       {"virtual_network", "VirtualNetwork"},       {"internet", "Internet"},
      {"azureloadbalancer", "AzureLoadBalancer"}, {"azure_loadbalancer", "AzureLoadBalancer"},
  };
  if (auto it = builtin.find(lower(name)); it != builtin.end()) return it->second;
  if (t.service_tags.count(name) != 0) return name;
  return std::nullopt;
}

std::string known_tags(const Topology& t) {
  std::string known = "VirtualNetwork, Internet, AzureLoadBalancer";
  for (const auto& [k, v] : t.service_tags) known += ", " + k;
  return known;
}

}  // namespace asenet::control

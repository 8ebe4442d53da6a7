#include "control/offline/classbench.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace asenet::control {

using namespace asenet::dataplane;

namespace {

std::istream& open(std::ifstream& in, const std::string& path) {
  in.open(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  return in;
}

}  // namespace

std::vector<AclRule> load_classbench_rules(const std::string& path) {
  std::ifstream in;
  open(in, path);
  std::vector<AclRule> rules;
  std::string line;
  size_t lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    auto bad = [&](const std::string& why) {
      return std::runtime_error(path + ":" + std::to_string(lineno) + ": " + why);
    };
    std::istringstream ss(line);
    std::string src, dst, c1, c2, proto;
    unsigned slo = 0, shi = 0, dlo = 0, dhi = 0;
    if (!(ss >> src >> dst >> slo >> c1 >> shi >> dlo >> c2 >> dhi >> proto) || src.empty() || src[0] != '@' ||
        c1 != ":" || c2 != ":")
      throw bad("not a ClassBench rule (@src/len dst/len lo : hi lo : hi proto/mask)");
    auto s = parse_cidr(src.substr(1));
    auto d = parse_cidr(dst);
    if (!s.cidr || !d.cidr) throw bad("bad prefix");
    if (slo > shi || shi > 65535 || dlo > dhi || dhi > 65535) throw bad("bad port range");
    const auto slash = proto.find('/');
    if (slash == std::string::npos) throw bad("bad protocol (expected value/mask)");
    AclRule r;
    r.proto = static_cast<uint8_t>(std::stoul(proto.substr(0, slash), nullptr, 16));
    r.proto_mask = static_cast<uint8_t>(std::stoul(proto.substr(slash + 1), nullptr, 16));
    r.src = *s.cidr;
    r.dst = *d.cidr;
    r.sport = {static_cast<uint16_t>(slo), static_cast<uint16_t>(shi)};
    r.dport = {static_cast<uint16_t>(dlo), static_cast<uint16_t>(dhi)};
    r.category_mask = 1;
    r.userdata = static_cast<uint32_t>(rules.size()) + 1;
    rules.push_back(r);
  }
  // Line order is priority: the first line gets the highest rte_acl priority.
  for (size_t i = 0; i < rules.size(); ++i) rules[i].priority = static_cast<uint32_t>(rules.size() - i);
  return rules;
}

std::vector<FiveTuple> load_classbench_trace(const std::string& path) {
  std::ifstream in;
  open(in, path);
  std::vector<FiveTuple> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ss(line);
    uint64_t s = 0, d = 0, sp = 0, dp = 0, pr = 0;
    if (!(ss >> s >> d >> sp >> dp >> pr)) continue;
    FiveTuple t;
    t.src = static_cast<uint32_t>(s);
    t.dst = static_cast<uint32_t>(d);
    t.sport = static_cast<uint16_t>(sp);
    t.dport = static_cast<uint16_t>(dp);
    t.proto = static_cast<uint8_t>(pr);
    out.push_back(t);
  }
  return out;
}

uint32_t classbench_reference(const std::vector<AclRule>& rules, const FiveTuple& t) {
  for (uint32_t i = 0; i < rules.size(); ++i) {
    const AclRule& r = rules[i];
    if ((t.proto & r.proto_mask) != (r.proto & r.proto_mask)) continue;
    if (!r.src.contains(t.src) || !r.dst.contains(t.dst)) continue;
    if (t.sport < r.sport.lo || t.sport > r.sport.hi || t.dport < r.dport.lo || t.dport > r.dport.hi) continue;
    return i;
  }
  return UINT32_MAX;
}

}  // namespace asenet::control

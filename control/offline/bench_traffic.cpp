#include "control/offline/bench_traffic.hpp"

#include "control/offline/bench_user.hpp"

#include <rte_mbuf.h>

#include <cstring>
#include <filesystem>

#include "control/offline/classbench.hpp"
#include "dataplane/core/fabric.hpp"
#include "dataplane/core/frames.hpp"

namespace asenet::control::bench {

using namespace asenet::dataplane;

namespace {

std::string find_classbench(const BenchOptions& opt) {
  std::vector<std::filesystem::path> tries;
  if (!opt.classbench.empty()) {
    tries.emplace_back(opt.classbench);
  } else {
    tries.emplace_back("../shared/testdata/classbench");
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    // build/control/asenetctl -> <repo>/../shared/testdata/classbench
    if (!ec) tries.push_back(self.parent_path() / "../../../shared/testdata/classbench");
  }
  for (const auto& t : tries) {
    std::error_code ec;
    if (std::filesystem::is_directory(t, ec)) return std::filesystem::canonical(t, ec).string();
  }
  return {};
}

}  // namespace

std::optional<Scenario> resolve(const BenchOptions& opt, std::string& why) {
  Scenario s;
  s.name = opt.scenario;
  s.rules = opt.nsg_rules;
  s.flows = opt.flows;
  if (s.name == "established") {
  } else if (s.name == "flows-1m") {
    s.flows = 1000000;
  } else if (s.name == "new-flows" || s.name == "nsg-1k" || s.name == "nsg-10k") {
    s.established = false;
    s.vdev = VdevTraffic::kChurn;
    if (s.name != "new-flows") {
      const bool big = s.name == "nsg-10k";
      s.rules = big ? 10000 : 1000;
      const std::string dir = find_classbench(opt);
      if (!dir.empty()) {
        const std::string f = dir + (big ? "/rules_10k/acl1_10k" : "/rules_1k/acl1_1k");
        if (std::filesystem::exists(f)) s.classbench = f;
      }
    }
  } else if (s.name == "flow-tables") {
    s.flow_tables = true;
  } else if (s.name == "replay") {
    s.replay = true;
    if (opt.packets < 1000 || opt.packets > 100000000) {
      why = "--packets must be 1000-100000000";
      return std::nullopt;
    }
  } else {
    why = "--scenario must be established, new-flows, nsg-1k, nsg-10k, flows-1m, replay or flow-tables";
    return std::nullopt;
  }
  if (s.rules < 1 || s.rules > kMaxRules) {
    why = "--nsg-rules must be 1-" + std::to_string(kMaxRules) + " (four NSG directions of " +
          std::to_string(kPriorities) + " priorities, and the final allow)";
    return std::nullopt;
  }
  if (s.established && (s.flows < 1024 || s.flows > 4000000)) {
    why = "--flows must be 1024-4000000";
    return std::nullopt;
  }
  if (opt.rounds < 1 || opt.rounds > kMaxRounds) {
    why = "--rounds must be 1-" + std::to_string(kMaxRounds);
    return std::nullopt;
  }
  if (opt.workers < 1 || opt.workers > 16) {
    why = "--workers must be 1-16";
    return std::nullopt;
  }
  return s;
}

namespace {

std::string ports_text(PortSpan p) {
  if (p.lo == 0 && p.hi == 65535) return "*";
  return p.lo == p.hi ? std::to_string(p.lo) : std::to_string(p.lo) + "-" + std::to_string(p.hi);
}

std::string prefix_text(Cidr c) { return c.len == 0 ? "*" : format_cidr(c); }

}  // namespace

std::vector<RuleBody> synthetic_rules(unsigned n) {
  std::vector<RuleBody> out;
  for (unsigned i = 0; i < n; ++i)
    out.push_back({"Deny", "Tcp", std::to_string(11 + i / 256 % 200) + "." + std::to_string(i % 256) + ".0.0/16", "*",
                   "*", std::to_string(1000 + i % 50000)});
  return out;
}

std::vector<RuleBody> classbench_rules(const std::string& path, unsigned n) {
  std::vector<RuleBody> out;
  for (const AclRule& r : load_classbench_rules(path)) {
    if (out.size() == n) break;
    std::string proto = "*";
    if (r.proto_mask == 0xff && r.proto == 6) proto = "Tcp";
    if (r.proto_mask == 0xff && r.proto == 17) proto = "Udp";
    if (r.proto_mask == 0xff && r.proto == 1) proto = "Icmp";
    const bool ports = proto == "Tcp" || proto == "Udp";
    out.push_back({"Allow", proto, prefix_text(r.src), ports ? ports_text(r.sport) : "*", prefix_text(r.dst),
                   ports ? ports_text(r.dport) : "*"});
  }
  return out;
}

std::string bench_topology(const std::vector<RuleBody>& rules, unsigned flow_table) {
  std::string subnet_nsg, nic_nsg;
  for (size_t i = 0; i < rules.size(); ++i) {
    const size_t slot = i / kPriorities;
    const RuleBody& r = rules[i];
    std::string& nsg = slot < 2 ? subnet_nsg : nic_nsg;
    nsg += "[[nsgs.rules]]\nname = \"r" + std::to_string(i) +
           "\"\npriority = " + std::to_string(100 + i % kPriorities) + "\ndirection = \"" +
           (slot % 2 == 0 ? "Inbound" : "Outbound") + "\"\naccess = \"" + r.access + "\"\nprotocol = \"" + r.protocol +
           "\"\nsource_address_prefixes = \"" + r.src + "\"\nsource_port_ranges = \"" + r.sport +
           "\"\ndestination_address_prefixes = \"" + r.dst + "\"\ndestination_port_ranges = \"" + r.dport + "\"\n";
  }
  subnet_nsg +=
      "[[nsgs.rules]]\nname = \"AllowHttps\"\npriority = 4096\ndirection = \"Inbound\"\naccess = \"Allow\"\n"
      "protocol = \"Tcp\"\nsource_address_prefixes = \"*\"\nsource_port_ranges = \"*\"\n"
      "destination_address_prefixes = \"*\"\ndestination_port_ranges = \"443\"\n";
  std::string t =
      "[emulator]\nera = \"current\"\nenforce_limits = false\nflow_table_size = " + std::to_string(flow_table) +
      "\n[vnet]\nname = \"vvnet\"\naddress_space = \"10.0.0.0/16\"\n"
      "[[subnets]]\nname = \"ase\"\nprefix = \"10.0.1.0/24\"\nnsg = \"n\"\n"
      "[[ases]]\nname = \"ase\"\nsubnet = \"ase\"\npublic_vip = \"192.23.1.2\"\n"
      "instances = [\"10.0.1.4\", \"10.0.1.5\", \"10.0.1.6\"]\n";
  if (!nic_nsg.empty())
    t += "[[subnets]]\nname = \"vms\"\nprefix = \"10.0.2.0/24\"\n[[hosts]]\nname = \"vm\"\nip = \"10.0.2.4\"\nnsg = "
         "\"h\"\n";
  t += "[[nsgs]]\nname = \"n\"\n" + subnet_nsg;
  if (!nic_nsg.empty()) t += "[[nsgs]]\nname = \"h\"\n" + nic_nsg;
  return t;
}

void write_tcp_frame60(uint8_t* f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t flags) {
  static constexpr MacAddr kClientMac{{0x02, 0, 0, 0, 0, 0}};
  std::memset(f + kTcpFrameLen, 0, 60 - kTcpFrameLen);
  write_tcp_frame(f, kFabricMac, kClientMac, src, dst, sport, dport, 0, 0, flags, 64);
}

void write_connection(rte_mbuf* m, unsigned w, uint64_t i, uint8_t flags, Port& side) {
  auto* f = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, 60));
  const auto port = static_cast<uint16_t>(1024 + i % 60000);
  const uint32_t base = static_cast<uint32_t>(w) << 26;  // each worker its own clients and servers
  if (i % 2 == 0) {
    write_tcp_frame60(f, 0x0c000000u + base + static_cast<uint32_t>(i / 60000), kVip, port, 443, flags);
    side = Port::kInternet;
  } else {
    write_tcp_frame60(f, kInstance + static_cast<uint32_t>(i % 3), 0x0d000000u + base + static_cast<uint32_t>(i), port,
                      443, flags);
    side = Port::kVnet;
  }
}

void write_frame(const Scenario& sc, rte_mbuf* m, unsigned w, uint64_t i, uint8_t flags, Port& side) {
  if (sc.user == nullptr)
    write_connection(m, w, i, flags, side);
  else if (sc.use_frames)
    write_user_frame(m, *sc.user, i, side);
  else
    write_user_flow(m, *sc.user, i, flags, side);
}

}  // namespace asenet::control::bench

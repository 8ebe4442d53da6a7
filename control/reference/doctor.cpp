#include "control/reference/doctor.hpp"

#include <sstream>

#include "control/compiler/compile.hpp"
#include "protocol/json.hpp"
#include "control/reference/verify.hpp"

namespace asenet::control {

using namespace asenet::dataplane;

namespace {

constexpr uint32_t kPlatformIp = 0xa83f8110;  // 168.63.129.16

std::string describe(const RouteCandidate& r, const TableSpec& spec) {
  std::string s = std::string(next_hop_type_name(r.hop.type));
  if (r.hop.type == NextHopType::kVirtualAppliance) s += " " + format_ipv4(r.hop.ip);
  s += " (" + format_cidr(r.prefix) + ", " + spec.route_origins[r.hop.origin];
  if (!r.name.empty()) s += " route '" + r.name + "'";
  return s + ")";
}

std::string rule_of(const VerifyResult& v) {
  if (v.steps.empty()) return "no NSG";
  return "NSG '" + v.steps.back().nsg + "' rule " + v.steps.back().rule_name;
}

/// Representative addresses of a tag: the first usable address of each prefix (at most 4).
std::vector<uint32_t> samples(const std::vector<Cidr>& prefixes) {
  std::vector<uint32_t> out;
  for (const auto& c : prefixes) {
    out.push_back(c.len >= 31 ? c.addr : c.addr + 1);
    if (out.size() == 4) break;
  }
  return out;
}

}  // namespace

namespace {

/// An outbound dependency of an ASE (azure-semantics 4).
struct Dep {
  const char* what;
  const char* tag;      // service tag to sample, or nullptr: fixed address
  const char* address;  // fixed address when tag is nullptr
  uint8_t proto;
  uint16_t port;
};

/// The checks of one ASE, each adding its findings to the report.
struct AseCheck {
  const Topology& topo;
  const TableSpec& spec;
  const Ase& ase;
  const Subnet* subnet;
  std::vector<RouteCandidate> routes;
  uint32_t inst;  ///< the instance the checks are made from
  DoctorReport& rep;

  void add(bool ok, std::string check, std::string detail) {
    rep.findings.push_back({ok, std::move(check), std::move(detail)});
    if (!ok) rep.healthy = false;
  }

  /// 1. The subnet is the ASE's alone.
  void dedicated_subnet() {
    bool squat = false;
    for (const auto& h : topo.hosts) {
      if (!subnet->prefix.contains(h.ip)) continue;
      squat = true;
      add(false, "dedicated-subnet",
          "VM '" + h.name + "' (" + format_ipv4(h.ip) + ") is deployed in the ASE subnet " +
              format_cidr(subnet->prefix) +
              ": the ASE cannot reach it, and an ASE subnet must hold nothing else (azure-semantics 1.3)");
    }
    if (!squat) add(true, "dedicated-subnet", "nothing else is deployed in " + format_cidr(subnet->prefix));
  }

  /// 2. Management traffic gets in and its answers leave the way they came.
  void management() {
    std::vector<uint32_t> mgmt;
    auto tag = topo.service_tags.find("AppServiceManagement");
    if (tag != topo.service_tags.end()) {
      mgmt = samples(tag->second);
    } else {
      mgmt = {*parse_ipv4("70.37.57.58")};  // a published management address (azure-semantics 2, S-MGMT)
      add(true, "management-sources",
          "no AppServiceManagement tag in [service_tags]: checked with the published address 70.37.57.58");
    }
    std::vector<uint16_t> ports;
    for (const auto& r : ase.ports.management) {
      ports.push_back(r.lo);
      if (r.hi != r.lo) ports.push_back(r.hi);
    }
    bool mgmt_in_ok = true, mgmt_back_ok = true;
    for (uint32_t src : mgmt) {
      for (uint16_t port : ports) {
        VerifyQuery q{NsgDirection::kInbound, 6, inst, port, src, 50000};
        const auto v = verify_flow(spec, q);
        if (v && !v->allow) {
          mgmt_in_ok = false;
          add(false, "management-inbound",
              "TCP " + format_ipv4(src) + " -> " + format_ipv4(inst) + ":" + std::to_string(port) + " is denied by " +
                  rule_of(*v) + ": blocked management makes the ASE unhealthy, then suspended");
        }
      }
      const RouteCandidate* r = effective_route(routes, src);
      if (r != nullptr && r->hop.type != NextHopType::kInternet) {
        mgmt_back_ok = false;
        add(false, "management-return",
            "answers to management traffic from " + format_ipv4(src) + " leave via " + describe(*r, spec) +
                ", not back out through the VIP: routing is asymmetric and the handshake fails. Fix: a route " +
                format_ipv4(src) + "/32 -> Internet, or 0.0.0.0/0 -> Internet on the ASE subnet (azure-semantics 8.5)");
      }
    }
    if (mgmt_in_ok) add(true, "management-inbound", "TCP 454/455 from the management addresses is allowed");
    if (mgmt_back_ok) add(true, "management-return", "answers to management traffic leave directly to the Internet");
  }

  /// Where a dependency's traffic to `dst` is routed: out to the Internet
  /// (through the VIP) is the only healthy way. False when it is not.
  bool dependency_route(const Dep& d, uint32_t dst, const std::string& flow) {
    const RouteCandidate* r = effective_route(routes, dst);
    if (r == nullptr) return true;
    bool ok = true;
    switch (r->hop.type) {
      case NextHopType::kInternet: break;
      case NextHopType::kVirtualNetworkGateway:
        ok = false;
        add(false, "dependency",
            std::string(d.what) + " " + flow + " is forced on-premises via " + describe(*r, spec) +
                ": it leaves with the instance's own address, not the VIP, and Azure does not "
                "recognise it (azure-semantics 8.5)");
        break;
      case NextHopType::kVirtualAppliance:
        if (d.tag != nullptr) {  // SQL and Storage cannot go through a firewall (S-FW)
          ok = false;
          add(false, "dependency",
              std::string(d.what) + " " + flow + " goes through the appliance via " + describe(*r, spec) +
                  ": it does not leave with the VIP; SQL and Storage need service endpoints "
                  "(azure-semantics 4.2, 8.5)");
        } else {
          ok = false;  // reported below as a note, not a failure
          add(true, "dependency",
              std::string(d.what) + " " + flow + " goes through the appliance via " + describe(*r, spec) +
                  ": healthy only if the appliance lets it out (azure-semantics 8.5, fix 3)");
        }
        break;
      case NextHopType::kNone:
        ok = false;
        add(false, "dependency", std::string(d.what) + " " + flow + " is dropped by " + describe(*r, spec));
        break;
      default:
        ok = false;
        add(false, "dependency",
            std::string(d.what) + " " + flow + " is routed " + describe(*r, spec) + ", not to the Internet");
    }

    return ok;
  }

  /// 3. An outbound dependency: allowed by the NSGs, and out through the VIP.
  void dependency(const Dep& d) {
    std::vector<uint32_t> dsts;
    if (d.tag != nullptr) {
      auto it = topo.service_tags.find(d.tag);
      if (it == topo.service_tags.end()) {
        if (d.port != 80)
          add(true, "dependency", std::string(d.what) + ": not checked, define [service_tags] " + d.tag);
        return;
      }
      dsts = samples(it->second);
    } else {
      dsts = {*parse_ipv4(d.address)};
    }
    bool ok = true;
    for (uint32_t dst : dsts) {
      const std::string flow =
          std::string(d.proto == 6 ? "TCP " : "UDP ") + format_ipv4(dst) + ":" + std::to_string(d.port);
      VerifyQuery q{NsgDirection::kOutbound, d.proto, inst, 50000, dst, d.port};
      const auto v = verify_flow(spec, q);
      if (v && !v->allow) {
        ok = false;
        add(false, "dependency", std::string(d.what) + " " + flow + " is denied by " + rule_of(*v));
      }
      if (!dependency_route(d, dst, flow)) ok = false;
    }
    if (ok)
      add(true, "dependency",
          std::string(d.what) + " (port " + std::to_string(d.port) + ") is allowed and leaves through the VIP");
  }
};

}  // namespace

std::vector<DoctorReport> run_doctor(const Topology& topo) {
  const TableSpec spec = compile(topo, 1);
  std::vector<DoctorReport> reports;
  static const Dep kDeps[] = {
      {"SQL Database", "Sql", nullptr, 6, 1433},
      {"Azure Storage", "Storage", nullptr, 6, 443},
      {"Azure Storage", "Storage", nullptr, 6, 80},
      {"management and CRL endpoints", nullptr, "40.77.24.27", 6, 443},
  };
  for (const auto& ase : topo.ases) {
    DoctorReport rep;
    rep.ase = ase.name;
    const Subnet* subnet = topo.find_subnet(ase.subnet);
    AseCheck c{topo, spec, ase, subnet, route_candidates(topo, subnet), ase.instances.front(), rep};
    c.dedicated_subnet();
    c.management();
    for (const Dep& d : kDeps) c.dependency(d);
    // DNS: Azure's resolver 168.63.129.16 is not subject to NSGs or UDRs.
    (void)kPlatformIp;
    c.add(true, "dependency", "DNS: Azure's resolver 168.63.129.16 is not subject to NSGs or routes");
    reports.push_back(std::move(rep));
  }
  return reports;
}

std::string doctor_json(const std::vector<DoctorReport>& reports) {
  std::ostringstream o;
  bool all = true;
  for (const auto& r : reports) all = all && r.healthy;
  o << "{\"healthy\":" << (all ? "true" : "false") << ",\"ases\":[";
  for (size_t i = 0; i < reports.size(); ++i) {
    const auto& r = reports[i];
    o << (i ? "," : "") << "{\"ase\":" << json_str(r.ase) << ",\"healthy\":" << (r.healthy ? "true" : "false")
      << ",\"findings\":[";
    for (size_t k = 0; k < r.findings.size(); ++k) {
      const auto& f = r.findings[k];
      o << (k ? "," : "") << "{\"ok\":" << (f.ok ? "true" : "false") << ",\"check\":" << json_str(f.check)
        << ",\"detail\":" << json_str(f.detail) << "}";
    }
    o << "]}";
  }
  o << "]}";
  return o.str();
}

}  // namespace asenet::control

#include "dataplane/tables/table_set.hpp"

#include <rte_errno.h>
#include <rte_fib.h>
#include <rte_memory.h>

#include <algorithm>
#include <atomic>

namespace asenet::dataplane {

void FibDeleter::operator()(rte_fib* fib) const noexcept { rte_fib_free(fib); }

namespace {

/// One route set as an rte_fib (DIR24_8). nullptr, with `error`, when a route
/// names a next hop that does not exist or DPDK refuses it.
FibPtr build_fib(const TableSpec& spec, const std::vector<RouteSpec>& routes, std::string& error) {
  // FIB names are global in the EAL; two generations coexist during a swap.
  static std::atomic<uint64_t> serial{0};
  uint64_t default_nh = TableSet::kNoRoute;
  uint32_t tbl8 = 16;
  for (const auto& r : routes) {
    if (r.next_hop >= spec.next_hops.size()) {
      error = "route " + format_cidr(r.prefix) + " names next hop " + std::to_string(r.next_hop) + " of " +
              std::to_string(spec.next_hops.size());
      return nullptr;
    }
    if (r.prefix.len == 0) default_nh = r.next_hop;  // the FIB's miss value
    if (r.prefix.len > 24) ++tbl8;                   // each needs at most one tbl8 group
  }
  const std::string name = "asenet_fib_" + std::to_string(serial.fetch_add(1));
  rte_fib_conf cfg{};
  cfg.type = RTE_FIB_DIR24_8;
  cfg.default_nh = default_nh;
  cfg.max_routes = static_cast<int>(routes.size()) + 16;
  cfg.rib_ext_sz = 0;
  cfg.dir24_8.nh_sz = RTE_FIB_DIR24_8_2B;
  cfg.dir24_8.num_tbl8 = tbl8;
  FibPtr fib(rte_fib_create(name.c_str(), SOCKET_ID_ANY, &cfg));
  if (!fib) {
    error = "rte_fib_create: " + std::string(rte_strerror(rte_errno));
    return nullptr;
  }
  // Shortest prefixes first (see docs/design/table-handover.md).
  std::vector<RouteSpec> ordered(routes.begin(), routes.end());
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const RouteSpec& a, const RouteSpec& b) { return a.prefix.len < b.prefix.len; });
  for (const auto& r : ordered) {
    if (r.prefix.len == 0) continue;
    int rc = rte_fib_add(fib.get(), r.prefix.addr, r.prefix.len, r.next_hop);
    if (rc != 0) {
      error = "rte_fib_add " + format_cidr(r.prefix) + ": " + std::string(rte_strerror(-rc));
      return nullptr;
    }
  }
  return fib;
}

}  // namespace

bool TableSet::build_nsg_acl(std::string& error) {
  const auto acl_rules = expand_nsg_rules(spec_.nsgs, spec_.nsg_rules);
  acl_rules_ = acl_rules.size();
  // One context answering all four levels in one classify is the fast way;
  // a rule set too big for rte_acl's 8 tries is split by direction, then by level.
  static const std::vector<std::vector<uint32_t>> kSplits = {{0xf}, {0x3, 0xc}, {0x1, 0x2, 0x4, 0x8}};
  std::string why;
  for (const auto& split : kSplits) {
    bool ok = true;
    for (uint32_t i = 0; i < split.size() && ok; ++i) {
      std::vector<AclRule> part;
      for (const auto& r : acl_rules)
        if (r.category_mask & split[i]) part.push_back(r);
      nsg_acl_[i] = build_acl(part, kAclCategories, why);
      nsg_part_cats_[i] = split[i];
      ok = nsg_acl_[i] != nullptr;
    }
    if (ok) {
      nsg_parts_ = static_cast<uint32_t>(split.size());
      return true;
    }
    for (auto& c : nsg_acl_) c.reset();
  }
  error = "the NSG rules (" + std::to_string(spec_.nsg_rules.size()) + " rules, " + std::to_string(acl_rules.size()) +
          " after expanding prefix and port lists) are too complex for " +
          "rte_acl even one level per context: " + why + "; use fewer or more regular port ranges";
  return false;
}

std::unique_ptr<TableSet> TableSet::build(const TableSpec& spec, unsigned workers, std::string& error) {
  std::unique_ptr<TableSet> ts(new TableSet(spec));
  for (const auto& a : spec.ases) {
    ts->fabric_.push_back(a.vip);
    if (a.ilb != 0) ts->fabric_.push_back(a.ilb);
    ts->fabric_.insert(ts->fabric_.end(), a.instances.begin(), a.instances.end());
  }
  std::sort(ts->fabric_.begin(), ts->fabric_.end());
  if (spec.next_hops.size() >= kNoRoute) {
    error = "more than " + std::to_string(kNoRoute - 1) + " next hops in one table";
    return nullptr;
  }
  for (const auto& routes : spec.route_sets) {
    FibPtr fib = build_fib(spec, routes, error);
    if (!fib) return nullptr;
    ts->fibs_.push_back(std::move(fib));
  }
  bool any_attached = false;
  for (const auto& n : spec.nsgs) any_attached = any_attached || n.on_subnet || n.on_nic;
  if (any_attached && !ts->build_nsg_acl(error)) return nullptr;
  ts->timers_ = FlowTimers{spec.flow_idle_timeout_ns, spec.tcp_fin_timeout_ns, spec.tcp_rst_timeout_ns};
  ts->rule_logged_.assign(spec.nsg_rules.size(), 0);
  for (size_t i = 0; i < spec.nsg_rules.size(); ++i) {
    if (spec.nsgs[spec.nsg_rules[i].nsg].flow_logs) {
      ts->rule_logged_[i] = 1;
      ts->flow_logs_ = true;
    }
  }
  ts->workers_ = workers == 0 ? 1 : workers;
  ts->hits_stride_ = (spec.nsg_rules.size() + 7) & ~size_t{7};
  ts->rule_hits_.assign(ts->hits_stride_ * ts->workers_, 0);
  return ts;
}

}  // namespace asenet::dataplane

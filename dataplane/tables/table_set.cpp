#include "dataplane/tables/table_set.hpp"

#include <rte_errno.h>
#include <rte_lpm.h>

#include <atomic>

namespace asenet::dataplane {

void LpmDeleter::operator()(rte_lpm* lpm) const noexcept { rte_lpm_free(lpm); }

std::unique_ptr<TableSet> TableSet::build(const TableSpec& spec, std::string& error) {
  // rte_lpm names are global in the EAL; two generations coexist during a swap.
  static std::atomic<uint64_t> serial{0};
  std::unique_ptr<TableSet> ts(new TableSet(spec));

  const std::string name = "asenet_lpm_" + std::to_string(serial.fetch_add(1));
  rte_lpm_config cfg{};
  cfg.max_rules = static_cast<uint32_t>(spec.routes.size()) + 16;
  // Every prefix longer than /24 needs a tbl8 group; one per route is the bound.
  cfg.number_tbl8s = static_cast<uint32_t>(spec.routes.size()) + 16;
  cfg.flags = 0;
  ts->lpm_.reset(rte_lpm_create(name.c_str(), SOCKET_ID_ANY, &cfg));
  if (!ts->lpm_) {
    error = "rte_lpm_create: " + std::string(rte_strerror(rte_errno));
    return nullptr;
  }
  for (const auto& r : spec.routes) {
    if (r.next_hop >= spec.next_hops.size()) {
      error = "route " + format_cidr(r.prefix) + " names next hop " + std::to_string(r.next_hop) +
              " of " + std::to_string(spec.next_hops.size());
      return nullptr;
    }
    if (r.next_hop >= (1u << 24)) {
      error = "more than 2^24 next hops";  // rte_lpm stores 24 bits
      return nullptr;
    }
    if (r.prefix.len == 0) {
      // rte_lpm takes depths 1-32: the default route lives beside it.
      ts->default_hop_ = r.next_hop;
      continue;
    }
    int rc = rte_lpm_add(ts->lpm_.get(), r.prefix.addr, r.prefix.len, r.next_hop);
    if (rc != 0) {
      error = "rte_lpm_add " + format_cidr(r.prefix) + ": " + std::string(rte_strerror(-rc));
      return nullptr;
    }
  }
  return ts;
}

}  // namespace asenet::dataplane

// asenetctl bench --scenario flow-tables: the flow table's key store against
// the other exact-match table DPDK ships for 16-byte keys. Both hold the same
// keys (two a flow, --flows flows) and look up the same bursts of 32 in a
// random order; each figure is cycles per lookup, best of three rounds.
//   rte_hash: as the flow table uses it (extendable buckets, CRC32C computed
//     inline, rte_hash_lookup_with_hash_bulk_data on an array of keys);
//   rte_table_hash_key16_ext (librte_table): keys read from each mbuf, the
//     lookup pipelined over the burst by design.
// Run with EAL up.
#pragma once

#include <cstdint>
#include <string>

namespace asenet::control::bench {

struct TablesResult {
  uint32_t keys = 0;
  double rte_hash_cycles = 0;
  double key16_ext_cycles = 0;
  double rte_hash_mib = 0, key16_ext_mib = 0;  ///< DPDK heap each took
};

bool compare_tables(uint32_t flows, TablesResult& out, std::string& why);

}  // namespace asenet::control::bench

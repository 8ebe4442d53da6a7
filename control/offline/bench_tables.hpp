// asenetctl bench --scenario flow-tables: the flow table's key index against
// the exact-match tables DPDK ships for 16-byte keys. All hold the same keys
// (two a flow, --flows flows) and look up the same bursts of 32 in a random
// order; each figure is cycles per lookup, best of three rounds.
//   rte_hash: as the flow table used it until issue 16's own index
//     (extendable buckets, CRC32C computed inline,
//     rte_hash_lookup_with_hash_bulk_data on an array of keys);
//   rte_table_hash_key16_ext (librte_table): keys read from each mbuf, the
//     lookup pipelined over the burst by design;
//   the flow table itself (FlowTable::lookup_bulk on its FlowIndex), whose
//     lookup ends with the flow's two lines read (it checks the key there).
// Since a lookup is only the way to a flow, each DPDK table is also timed
// with the flow's two lines read after it ("with the flow"): that figure is
// the one to hold against the flow table's.
// Run with EAL up.
#pragma once

#include <cstdint>
#include <string>

namespace asenet::control::bench {

struct TablesResult {
  uint32_t keys = 0;
  double rte_hash_cycles = 0;
  double key16_ext_cycles = 0;
  double rte_hash_flow_cycles = 0, key16_ext_flow_cycles = 0;  ///< and then the flow's lines
  double flow_table_cycles = 0;                                ///< FlowTable::lookup_bulk, the flow's lines included
  double rte_hash_mib = 0, key16_ext_mib = 0;                  ///< DPDK heap each took
  double flow_index_mib = 0;                                   ///< the flow table's index (the flows aside)
};

bool compare_tables(uint32_t flows, TablesResult& out, std::string& why);

}  // namespace asenet::control::bench

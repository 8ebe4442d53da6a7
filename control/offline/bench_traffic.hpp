// What asenetctl bench measures: the named scenarios (checked options), the
// NSG rule sets (synthetic, or ClassBench filters as rules), the topology
// holding them (an ASE with three instances behind its VIP), and the frames
// of its connections (clients to the VIP, instances to the Internet).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "control/offline/bench.hpp"
#include "dataplane/core/packet.hpp"

struct rte_mbuf;

namespace asenet::control::bench {

/// The traffic asenetd replays on the vdevs (a looped capture).
enum class VdevTraffic {
  kEstablished,  ///< 1,000 connections per side: a SYN, then eight ACKs each (established after the first lap)
  kChurn,        ///< 16,000 connections per side: SYN then RST, so every lap's SYN opens a new connection
};

struct UserTraffic;

struct Scenario {
  std::string name;
  /// bench --topology: the user's traffic instead of the built-in connections;
  /// with `use_frames`, the capture's frames (--pcap).
  const UserTraffic* user = nullptr;
  bool use_frames = false;
  bool established = true;  ///< else every packet is a SYN of a new connection
  unsigned flows = 0;       ///< established: live flows per worker
  unsigned rules = 0;       ///< NSG rules in all
  std::string classbench;   ///< the ClassBench filter file the rules come from ("": synthetic)
  VdevTraffic vdev = VdevTraffic::kEstablished;
  bool replay = false;       ///< asenetctl replay against libpcap (bench_replay), nothing in process
  bool flow_tables = false;  ///< rte_hash against rte_table_hash_key16_ext (bench_tables)
};

constexpr unsigned kMaxRounds = 9;
constexpr unsigned kPriorities = 3996;  ///< 100-4095 per direction and NSG; 4096 is the final allow
constexpr unsigned kMaxRules = 4 * kPriorities + 1;

/// The scenario `opt` names, its options checked. nullopt with `why` when bad.
std::optional<Scenario> resolve(const BenchOptions& opt, std::string& why);

/// The body of one NSG rule (all but its name, priority and direction).
struct RuleBody {
  std::string access, protocol, src, sport, dst, dport;
};

/// Synthetic: deny rules for unrelated /16s and ports, so the classifier
/// cannot stop early and every connection is admitted by the final allow.
std::vector<RuleBody> synthetic_rules(unsigned n);
/// ClassBench filters as NSG rules, each an Allow: the classifier's work does
/// not depend on the action, and every connection is then admitted whichever
/// rule matches it (the rate counts every connection). Throws on a bad file.
std::vector<RuleBody> classbench_rules(const std::string& path, unsigned n);
/// Rules in order fill the ASE subnet's NSG inbound, then outbound, then a
/// second NSG (a VM's NIC in another subnet) inbound and outbound, 3,996
/// priorities each; the last rule admits HTTPS to the ASE.
std::string bench_topology(const std::vector<RuleBody>& rules, unsigned flow_table);

constexpr uint32_t kVip = 0xc0170102;       // 192.23.1.2
constexpr uint32_t kInstance = 0x0a000104;  // 10.0.1.4 (.5, .6)

/// A 64-byte frame on the wire (60 here, FCS aside): the fabric's own TCP
/// frame writer, padded to Ethernet's minimum.
void write_tcp_frame60(uint8_t* f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint8_t flags);
/// Connection i of worker w: even = a client to VIP:443 (LB, DNAT), odd = an
/// instance to its own Internet server (SNAT ports are per destination).
void write_connection(rte_mbuf* m, unsigned w, uint64_t i, uint8_t flags, dataplane::Port& side);
/// Connection i of the scenario: write_connection, or the user's (bench_user.hpp).
void write_frame(const Scenario& sc, rte_mbuf* m, unsigned w, uint64_t i, uint8_t flags, dataplane::Port& side);

}  // namespace asenet::control::bench

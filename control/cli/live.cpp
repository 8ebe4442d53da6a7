// asenetctl's commands for the live data plane: push (with its plan), stats,
// health and trace, over the control socket (protocol/). Each gives up at
// --timeout; exit 1 for anything at run time, 2 for bad input or a refusal.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "control/cli/common.hpp"
#include "control/cli/live_client.hpp"
#include "control/cli/pool_push.hpp"
#include "control/model/packet_filter.hpp"
#include "control/compiler/compile.hpp"
#include "protocol/control_socket.hpp"
#include "protocol/names.hpp"
#include "protocol/wire.hpp"

namespace po = boost::program_options;

namespace asenet::control::cli {

ControlClient::Deadline deadline_in(double seconds) {
  return std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

/// Exit code and message for a failed exchange: 1 for anything at run time
/// (asenetd unreachable, busy, permission denied, silent past the timeout),
/// 2 only when asenetd refused the request itself as bad input.
int exchange_failed(const std::string& cmd, const ControlClient& c, const std::string& err, double timeout) {
  if (c.timed_out()) {
    std::cerr << "asenetctl " << cmd << ": " << err << " (" << timeout << " s; see --timeout)\n";
  } else {
    std::cerr << "asenetctl " << cmd << ": " << err << "\n";
  }
  return 1;
}

/// asenetd's JSON reply, checked: an object whose `uints` keys are unsigned
/// integers and `numbers` keys are numbers. nullopt (after a message) when it
/// is not: a malformed reply is a runtime failure, never a crash.
std::optional<nlohmann::json> checked_reply(const std::string& cmd, const std::string& reply,
                                            std::initializer_list<const char*> uints,
                                            std::initializer_list<const char*> numbers) {
  nlohmann::json j = nlohmann::json::parse(reply, nullptr, false);
  std::string why;
  if (j.is_discarded() || !j.is_object()) {
    why = "not a JSON object";
  } else {
    for (const char* k : uints)
      if (why.empty() && (!j.contains(k) || !j[k].is_number_unsigned()))
        why = std::string("'") + k + "' is not a count";
    for (const char* k : numbers)
      if (why.empty() && (!j.contains(k) || !j[k].is_number())) why = std::string("'") + k + "' is not a number";
  }
  if (!why.empty()) {
    std::cerr << "asenetctl " << cmd << ": malformed reply from asenetd: " << why << ": " << quote(reply, 120) << "\n";
    return std::nullopt;
  }
  return j;
}

/// Sends one request and waits for its reply within `timeout` seconds.
/// Returns the exit code when it failed.
std::optional<int> request(const std::string& cmd, const std::string& socket, wire::Type type,
                           const std::string& payload, std::string& reply, double timeout) {
  ControlClient c;
  std::string err;
  wire::Type rt{};
  const auto deadline = deadline_in(timeout);
  if (!c.connect(socket, deadline, err) || !c.send(type, payload, deadline, err) ||
      !c.receive(rt, reply, deadline, err))
    return exchange_failed(cmd, c, err, timeout);
  if (rt == wire::Type::kError) {
    if (c.rejected()) {  // busy or permission denied: the request was never read
      std::cerr << "asenetctl " << cmd << ": " << reply << "\n";
      return 1;
    }
    std::cerr << "asenetctl " << cmd << ": asenetd refused: " << reply << "\n";
    return 2;
  }
  if (rt != wire::Type::kOk) {
    std::cerr << "asenetctl " << cmd << ": unexpected reply type " << static_cast<unsigned>(rt) << " from asenetd\n";
    return 1;
  }
  return std::nullopt;
}

namespace {

/// How long asenetd may take to answer, per command (--timeout overrides).
constexpr double kPushTimeoutS = 120;  // a 16,000-rule NSG builds in seconds
constexpr double kStatsTimeoutS = 10;
constexpr double kHealthTimeoutS = 30;  // a health change publishes a generation

/// One `stats --json` figure, 0 when absent or not a count.
uint64_t count_at(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* at = &j;
  for (const char* k : path) {
    if (!at->is_object() || !at->contains(k)) return 0;
    at = &(*at)[k];
  }
  return at->is_number_unsigned() ? at->get<uint64_t>() : 0;
}

/// What changed between two `stats --json` replies, `dt` seconds apart, as
/// rates: a block for a terminal, one line otherwise.
std::string watch_report(const nlohmann::json& a, const nlohmann::json& b, double dt, bool tty) {
  auto rate = [&](std::initializer_list<const char*> path) {
    const uint64_t x = count_at(a, path), y = count_at(b, path);
    return y >= x ? static_cast<double>(y - x) / dt : 0.0;
  };
  double in = 0, out = 0;
  for (const char* side : {"internet", "vnet", "onprem"}) {
    in += rate({"ports", side, "rx"});
    out += rate({"ports", side, "tx"});
  }
  std::ostringstream drops;
  if (b.contains("drops") && b["drops"].is_object())
    for (const auto& [reason, v] : b["drops"].items())
      if (const double r = rate({"drops", reason.c_str()}); r > 0) drops << " " << reason << " " << std::lround(r);
  std::ostringstream busy;
  const auto& wa = a.value("per_worker", nlohmann::json::array());
  const auto& wb = b.value("per_worker", nlohmann::json::array());
  for (size_t w = 0; w < wb.size() && w < wa.size(); ++w) {
    const double db = static_cast<double>(count_at(wb[w], {"busy_cycles"}) - count_at(wa[w], {"busy_cycles"}));
    const double di = static_cast<double>(count_at(wb[w], {"idle_cycles"}) - count_at(wa[w], {"idle_cycles"}));
    char pct[16];
    std::snprintf(pct, sizeof pct, "%.1f", db + di > 0 ? 100.0 * db / (db + di) : 0.0);
    busy << (w ? ", " : "") << w << ": " << pct << " %";
  }
  const std::time_t now = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, tty ? "%H:%M:%S" : "%Y-%m-%dT%H:%M:%S", std::localtime(&now));
  std::ostringstream o;
  const auto n = [](double v) { return std::to_string(std::lround(v)); };
  const uint64_t pushes = count_at(b, {"control", "pushes"}) - count_at(a, {"control", "pushes"});
  if (tty) {
    o << "\x1b[H\x1b[2J"
      << "asenetd: generation " << count_at(b, {"generation"}) << ", " << count_at(b, {"workers"})
      << " worker(s), rates over " << dt << " s at " << when << "\n"
      << "  packets   in " << n(in) << "/s, out " << n(out) << "/s, forwarded " << n(rate({"packets_forwarded"}))
      << "/s\n"
      << "  dropped   " << n(rate({"packets_dropped"})) << "/s" << (drops.str().empty() ? "" : ":" + drops.str())
      << "\n"
      << "  flows     " << n(rate({"flows", "created"})) << " new/s, " << count_at(b, {"flows", "live"}) << " live of "
      << count_at(b, {"flows", "capacity"}) << "\n"
      << "  pushes    " << pushes << " in this interval\n"
      << "  workers   busy " << busy.str() << "\n";
  } else {
    o << when << " generation " << count_at(b, {"generation"}) << " in " << n(in) << "/s out " << n(out)
      << "/s forwarded " << n(rate({"packets_forwarded"})) << "/s dropped " << n(rate({"packets_dropped"})) << "/s"
      << (drops.str().empty() ? "" : " (" + drops.str().substr(1) + ")") << " new_flows "
      << n(rate({"flows", "created"})) << "/s live_flows " << count_at(b, {"flows", "live"}) << " pushes " << pushes
      << " busy " << busy.str() << "\n";
  }
  return o.str();
}

/// stats --watch: a JSON snapshot every `every` seconds, printed as rates
/// against the one before; `count` reports (0: until interrupted).
int watch_stats(const std::string& socket, double every, unsigned count, double timeout) {
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  std::optional<nlohmann::json> last;
  auto last_at = std::chrono::steady_clock::now();
  for (unsigned shown = 0; count == 0 || shown < count;) {
    std::string reply;
    if (auto rc = request("stats", socket, wire::Type::kStats, "{\"format\":\"json\"}", reply, timeout)) return *rc;
    const auto at = std::chrono::steady_clock::now();
    auto j = checked_reply("stats", reply, {"generation"});
    if (!j) return 1;
    if (last) {
      std::cout << watch_report(*last, *j, std::chrono::duration<double>(at - last_at).count(), tty) << std::flush;
      ++shown;
    }
    last = std::move(j);
    last_at = at;
    if (count == 0 || shown < count)
      std::this_thread::sleep_for(std::chrono::milliseconds(static_cast<int64_t>(every * 1000)));
  }
  return 0;
}

}  // namespace

namespace {

/// A single-node push's reply: the plan, then the generation (or the JSON).
int print_push_reply(const std::string& reply, bool json) {
  const auto j = checked_reply("push", reply, {"generation", "previous", "acl_rules"}, {"build_ms", "swap_ms"});
  if (!j) return 1;
  if (json) {
    std::cout << reply << "\n";
    return 0;
  }
  std::vector<std::string> changes;
  if (j->contains("changes") && (*j)["changes"].is_array())
    for (const auto& c : (*j)["changes"])
      if (c.is_string()) changes.push_back(c.get<std::string>());
  const uint64_t previous = (*j)["previous"].get<uint64_t>();
  if (changes.empty()) {
    std::cout << "no changes against generation " << previous << "\n";
  } else {
    std::cout << "changes against generation " << previous << ":\n";
    for (const auto& c : changes) std::cout << "  " << c << "\n";
  }
  if (j->value("dry_run", false)) {
    std::cout << "dry run: nothing changed; generation " << previous << " stays live\n";
    return 0;
  }
  std::cout << "generation " << (*j)["generation"].get<uint64_t>() << " live (was " << previous
            << "): " << (*j)["acl_rules"].get<uint64_t>() << " ACL rules, built in " << (*j)["build_ms"].get<double>()
            << " ms, every worker on it " << (*j)["swap_ms"].get<double>() << " ms later\n";
  return 0;
}

}  // namespace

namespace {

/// "0,2" into {0, 2}: node numbers below 32, each once.
bool parse_node_list(const std::string& text, std::vector<unsigned>& out) {
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    if (item.empty() || item.size() > 2 || item.find_first_not_of("0123456789") != std::string::npos) return false;
    const auto n = static_cast<unsigned>(std::stoul(item));
    if (n >= 32 || std::find(out.begin(), out.end(), n) != out.end()) return false;
    out.push_back(n);
    pos = comma + 1;
  }
  return !out.empty();
}

/// A push's header: what asenetd checks against how it started ([ports],
/// flow_table_size), the flags, and the file messages name.
nlohmann::json push_header(const Topology& topo, const std::string& file, bool allow_l2, bool dry_run) {
  nlohmann::json ports = nlohmann::json::object();
  if (topo.ports.internet) ports["internet"] = *topo.ports.internet;
  if (topo.ports.vnet) ports["vnet"] = *topo.ports.vnet;
  if (topo.ports.onprem) ports["onprem"] = *topo.ports.onprem;
  return {{"start", {{"ports", ports}, {"flow_table_size", topo.emulator.flow_table_size}}},
          {"allow_l2_change", allow_l2},
          {"dry_run", dry_run},
          {"file", file}};
}

}  // namespace

int cmd_push(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl push --socket PATH [--socket PATH ...] --topology T [--dry-run]
                      [--allow-l2-change] [--members N,N...] [--json]

Compiles the topology here, sends the tables to asenetd and waits until every
worker runs the new generation. A topology that fails validation exits 2 and
sends nothing; a push asenetd cannot build leaves the old generation live.
Established flows survive (Azure: a rule change applies to new connections).

It prints what the new generation changes against the running one, one line
per area (NSGs and rules, attachments, routes, frontends, instances, probes,
L2 mode, timers), like a plan; --dry-run prints that and changes nothing.
Keys that take effect only when asenetd starts ([ports], [emulator]
flow_table_size) must match asenetd's: a push that changes one is refused
(exit 2) naming the key and its running value. A push that turns [l2] ARP
answering on or off is refused unless --allow-l2-change is given (a lab's
hosts lose their neighbours when it goes off).

With several --socket (a pool of asenetd nodes, docs/design/scale-out.md) the
push runs in two phases: every node decodes, checks and builds the tables and
keeps them staged (changing nothing), then, only if all of them could, every
node publishes them under one generation, one above the highest any node
runs; if any node refuses or cannot be reached, the nodes that prepared drop
it and no node changes (exit 2 for a refusal, 1 otherwise). stats shows the
same generation and spec_hash on every node. A staged push not committed
within 60 s is dropped.

--members changes which nodes of the pool own connections, from this
generation on (push it to the nodes that stay and to those that join): a
node that leaves gives up only its own connections' slots, one that joins
takes back its own, and for one idle timeout a moved connection is still
found on its previous owner if that node is a member. stats shows the
members and the slots each node owns.

options)");
  std::vector<std::string> sockets;
  std::string topology;
  bool json = false, dry_run = false, allow_l2 = false;
  std::string members;
  double timeout = kPushTimeoutS;
  d.add_options()("help,h", "show this help")("socket", po::value(&sockets)->required(),
                                              "asenetd's --control-socket (repeat for a pool of nodes)")(
      "members", po::value(&members), "a pool's member nodes from this generation on, e.g. 0,2 (default: unchanged)")(
      "topology", po::value(&topology)->required(), "topology file (TOML, contract section 2)")(
      "dry-run", po::bool_switch(&dry_run), "print what would change; change nothing")(
      "allow-l2-change", po::bool_switch(&allow_l2), "let the push turn [l2] ARP answering on or off")(
      "json", po::bool_switch(&json), "print the reply as JSON")(
      "timeout", po::value(&timeout)->default_value(kPushTimeoutS), "seconds to wait for asenetd (build and swap)");
  if (auto rc = parse_options(d, args, "push")) return *rc;
  if (timeout <= 0) return bad_usage("push", "--timeout must be above 0");
  std::vector<unsigned> member_list;
  if (!members.empty() && !parse_node_list(members, member_list))
    return bad_usage("push", "--members takes node numbers separated by commas (0,2), not '" + members + "'");
  const auto topo = load_or_report(topology);
  if (!topo) return 2;
  nlohmann::json header = push_header(*topo, topology, allow_l2, dry_run);
  if (!member_list.empty()) {
    header["members"] = member_list;
    if (auto rc = add_previous_members(sockets, header, timeout)) return *rc;
  }
  const auto spec = compile(*topo, 0);
  if (sockets.size() > 1 && !dry_run) return pool_push(sockets, header, spec, json, timeout);
  if (sockets.size() > 1) {
    for (const auto& s : sockets) {  // a dry run asks every node, one after the other
      std::cout << s << ":\n";
      std::vector<std::string> one = {"--socket",  s,           "--topology",           topology,
                                      "--dry-run", "--timeout", std::to_string(timeout)};
      if (allow_l2) one.push_back("--allow-l2-change");
      if (json) one.push_back("--json");
      if (!members.empty()) one.insert(one.end(), {"--members", members});
      if (const int rc = cmd_push(one); rc != 0) return rc;
    }
    return 0;
  }
  const std::string& socket = sockets.front();
  const std::string payload = wire::encode_push(header.dump(), spec);
  std::string reply;
  if (auto rc = request("push", socket, wire::Type::kPushPlan, payload, reply, timeout)) return *rc;
  return print_push_reply(reply, json);
}

int cmd_stats(const std::vector<std::string>& args) {
  po::options_description d(
      R"(usage: asenetctl stats --socket PATH [--json | --format json|prometheus|text] [--timeout S]
       asenetctl stats --socket PATH --watch [SECONDS] [--count N]

The live data plane's counters: generation, per port rx/tx/drops, drops by
reason, NSG rule hits (all generations), bytes and packets per NSG rule (every
NSG, as the packets pass; a flow counts against the rule that allowed it,
after a push too), flows, SNAT ports per instance and ASE, health, memory,
each worker's busy share. --format prometheus prints the
Prometheus text format (what asenetd --metrics-listen serves at /metrics).
--watch prints rates every SECONDS (default 1): packets in and out, forwarded,
drops by reason, new flows, pushes, each worker's busy share; refreshed in
place like top on a terminal, one line per interval otherwise (a log).

options)");
  std::string socket, format = "text";
  bool json = false;
  double timeout = kStatsTimeoutS;
  double watch = -1;  // not given
  unsigned count = 0;
  d.add_options()("help,h", "show this help")("socket", po::value(&socket)->required(), "asenetd's --control-socket")(
      "json", po::bool_switch(&json), "JSON (same as --format json)")("format", po::value(&format),
                                                                      "text (default), json or prometheus")(
      "timeout", po::value(&timeout)->default_value(kStatsTimeoutS), "seconds to wait for asenetd")(
      "watch", po::value(&watch)->implicit_value(1.0), "rates every SECONDS (default 1) until interrupted")(
      "count", po::value(&count)->default_value(0), "with --watch: stop after N reports (0: never)");
  if (auto rc = parse_options(d, args, "stats")) return *rc;
  if (watch != -1) {
    if (watch < 0.1 || watch > 3600) return bad_usage("stats", "--watch takes 0.1 to 3600 seconds");
    if (timeout <= 0) return bad_usage("stats", "--timeout must be above 0");
    return watch_stats(socket, watch, count, timeout);
  }
  if (json) format = "json";
  if (format != "text" && format != "json" && format != "prometheus")
    return bad_usage("stats", "--format must be text, json or prometheus");
  if (timeout <= 0) return bad_usage("stats", "--timeout must be above 0");
  std::string reply;
  if (auto rc = request("stats", socket, wire::Type::kStats, "{\"format\":\"" + format + "\"}", reply, timeout))
    return *rc;
  if (format == "json" && !checked_reply("stats", reply, {"generation"})) return 1;
  std::cout << reply << (format == "json" ? "\n" : "");
  return 0;
}

int cmd_health(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl health --socket PATH [--socket PATH ...] --ase NAME --instance IP
                        up|down [--timeout S]

Marks an ASE instance up or down in the live data plane, as the load
balancer's health probe would: a down instance gets no new flows; its
established flows stay (Standard) or, when the whole frontend is down in era
2016 (Basic), end. The setting outlives later pushes until changed again.
With several --socket (a pool of nodes), every node gets the same verdict, one
after the other, so that their Maglev tables stay alike; it stops at the first
node that fails, naming it (the nodes before it have the new state).

options)");
  std::vector<std::string> sockets;
  std::string ase, instance, state;
  bool json = false;
  double timeout = kHealthTimeoutS;
  d.add_options()("help,h", "show this help")("socket", po::value(&sockets)->required(),
                                              "asenetd's --control-socket (repeat for a pool of nodes)")(
      "ase", po::value(&ase)->required(), "the ASE's name")("instance", po::value(&instance)->required(),
                                                            "the instance's address")(
      "state", po::value(&state)->required(), "up or down (may be given without --state)")(
      "json", po::bool_switch(&json), "print the reply as JSON")(
      "timeout", po::value(&timeout)->default_value(kHealthTimeoutS), "seconds to wait for asenetd");
  po::positional_options_description pos;
  pos.add("state", 1);
  if (auto rc = parse_options(d, pos, args, "health")) return *rc;
  if (state != "up" && state != "down") return bad_usage("health", "state must be up or down");
  if (!parse_ipv4(instance)) return bad_usage("health", "--instance " + quote(instance) + " is not an IPv4 address");
  if (timeout <= 0) return bad_usage("health", "--timeout must be above 0");
  const nlohmann::json req = {{"ase", ase}, {"instance", instance}, {"up", state == "up"}};
  for (const auto& socket : sockets) {
    const std::string cmd = sockets.size() > 1 ? "health (" + socket + ")" : "health";
    std::string reply;
    if (auto rc = request(cmd, socket, wire::Type::kHealth, req.dump(), reply, timeout)) return *rc;
    const auto j = checked_reply(cmd, reply, {"generation", "health_epoch"});
    if (!j) return 1;
    if (json)
      std::cout << reply << "\n";
    else
      std::cout << (sockets.size() > 1 ? socket + ": " : "") << ase << " " << instance << " " << state
                << ": health epoch " << (*j)["health_epoch"].get<uint64_t>() << " live (generation "
                << (*j)["generation"].get<uint64_t>() << ")\n";
  }
  return 0;
}

/// The trace request's filters, checked (a bad one: exit 2 after a message).
std::optional<int> trace_filters(const std::string& port, const std::string& src, const std::string& dst, int sport,
                                 int dport, const std::string& proto, nlohmann::json& req) {
  if (!port.empty()) req["port"] = port;
  if (!src.empty()) {
    if (!parse_ipv4(src)) return bad_usage("trace", "--src " + quote(src) + " is not an IPv4 address");
    req["src"] = src;
  }
  if (!dst.empty()) {
    if (!parse_ipv4(dst)) return bad_usage("trace", "--dst " + quote(dst) + " is not an IPv4 address");
    req["dst"] = dst;
  }
  if (sport > 65535 || dport > 65535) return bad_usage("trace", "ports are 0-65535");
  if (sport >= 0) req["sport"] = sport;
  if (dport >= 0) req["dport"] = dport;
  if (!proto.empty()) {
    int p = -1;
    if (proto == "tcp")
      p = 6;
    else if (proto == "udp")
      p = 17;
    else if (proto == "icmp")
      p = 1;
    else if (std::all_of(proto.begin(), proto.end(), ::isdigit) && proto.size() <= 3)
      p = std::stoi(proto);
    if (p < 0 || p > 255) return bad_usage("trace", "--proto must be tcp, udp, icmp or 0-255");
    req["proto"] = p;
  }
  return std::nullopt;
}

int cmd_trace(const std::vector<std::string>& args) {
  po::options_description d(R"(usage: asenetctl trace --socket PATH --count N [filters] [--filter EXPR]
                      [--both-directions] [--timeout S]

Prints the next N packets the live data plane handles (that match the
filters) as trace.jsonl lines, the same records replay --trace writes, plus
each packet's time, worker and 5-tuple. Costs one load per burst while no
trace runs. --filter takes tcpdump's language (pcap-filter(7)): libpcap
compiles it, asenetd loads it into DPDK's rte_bpf and runs it on each frame as
it arrived, before any NAT. --both-directions also traces the replies of the
connections traced, which arrive with other addresses after NAT (the last 256
connections are remembered per worker). asenetd must accept the trace within
10 s; --timeout bounds the whole trace.

options)");
  std::string socket, port, src, dst, proto, filter;
  uint64_t count = 0;
  int sport = -1, dport = -1;
  double timeout = 0;
  bool both = false;
  d.add_options()("help,h", "show this help")("socket", po::value(&socket)->required(), "asenetd's --control-socket")(
      "count", po::value(&count)->required(), "how many packets (1-1000000)")(
      "port", po::value(&port), "only packets entering on this side (internet, vnet, onprem)")(
      "src", po::value(&src), "only packets from this address")("dst", po::value(&dst), "only packets to this address")(
      "sport", po::value(&sport), "only this source port")("dport", po::value(&dport), "only this destination port")(
      "proto", po::value(&proto), "only tcp, udp, icmp or a protocol number")(
      "filter", po::value(&filter), "only frames matching this tcpdump filter, as they arrived")(
      "both-directions", po::bool_switch(&both), "also the replies of the connections traced (after NAT)")(
      "timeout", po::value(&timeout)->default_value(0), "give up after this many seconds (0: wait for N packets)");
  if (auto rc = parse_options(d, args, "trace")) return *rc;
  if (timeout < 0) return bad_usage("trace", "--timeout must be 0 or above");
  nlohmann::json req = {{"count", count}};
  if (std::any_of(args.begin(), args.end(), [](const std::string& a) { return a.rfind("--filter", 0) == 0; })) {
    std::string why;
    if (!PacketFilter::compile(filter, why)) return bad_usage("trace", "--filter '" + filter + "': " + why);
    req["filter"] = filter;
  }
  if (both) req["both_directions"] = true;
  if (auto rc = trace_filters(port, src, dst, sport, dport, proto, req)) return *rc;
  const auto end = timeout > 0 ? deadline_in(timeout) : ControlClient::Deadline::max();
  const auto ack_by = std::min(end, deadline_in(kTraceAckTimeoutS));
  ControlClient c;
  std::string err;
  if (!c.connect(socket, ack_by, err) || !c.send(wire::Type::kTrace, req.dump(), ack_by, err))
    return exchange_failed("trace", c, err, timeout > 0 ? timeout : kTraceAckTimeoutS);
  bool accepted = false;
  for (;;) {
    wire::Type t{};
    std::string payload;
    const auto by = accepted ? (end == ControlClient::Deadline::max() ? deadline_in(24.0 * 3600) : end) : ack_by;
    if (!c.receive(t, payload, by, err))
      return exchange_failed("trace", c, err, accepted || timeout > 0 ? timeout : kTraceAckTimeoutS);
    if (t == wire::Type::kOk) {
      accepted = true;  // asenetd armed the trace
    } else if (t == wire::Type::kTraceLine) {
      accepted = true;
      std::cout << payload << "\n" << std::flush;
    } else if (t == wire::Type::kTraceEnd) {
      const auto j = checked_reply("trace", payload, {"traced", "lost"});
      if (!j) return 1;
      if ((*j)["lost"].get<uint64_t>() > 0)
        std::cerr << "asenetctl trace: " << (*j)["lost"].get<uint64_t>() << " records lost (the reader fell behind)\n";
      return 0;
    } else if (t == wire::Type::kError) {
      if (c.rejected()) {
        std::cerr << "asenetctl trace: " << payload << "\n";
        return 1;
      }
      std::cerr << "asenetctl trace: asenetd refused: " << payload << "\n";
      return 2;
    }
  }
}

}  // namespace asenet::control::cli

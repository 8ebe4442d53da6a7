#include "daemon/handlers.hpp"

#include <iostream>

#include <nlohmann/json.hpp>

#include "control/report/spec_diff.hpp"
#include "protocol/names.hpp"
#include "protocol/wire.hpp"

namespace asenet::daemon {

using namespace asenet::dataplane;
using namespace asenet::control;

namespace {

std::string publish_json(const LiveDataplane::PublishResult& r) {
  std::ostringstream o;
  o << "{\"generation\":" << r.generation << ",\"previous\":" << r.previous << ",\"health_epoch\":" << r.health_epoch
    << ",\"acl_rules\":" << r.acl_rules << ",\"build_ms\":" << r.build_ms << ",\"swap_ms\":" << r.swap_ms << "}";
  return o.str();
}

/// Turns a trace request into a filter; throws std::exception with a message.
TraceFilter trace_filter(const nlohmann::json& j) {
  TraceFilter f;
  auto ip = [](const nlohmann::json& v, const char* what) {
    const auto c = parse_cidr(v.get<std::string>() + "/32");
    if (!c.cidr) throw std::runtime_error(std::string(what) + ": not an IPv4 address");
    return c.cidr->addr;
  };
  if (j.contains("port")) {
    const auto name = j["port"].get<std::string>();
    f.ports = 0;
    for (size_t p = 0; p < kNumPorts; ++p)
      if (name == port_name(static_cast<Port>(p))) f.ports = static_cast<uint8_t>(1u << p);
    if (f.ports == 0) throw std::runtime_error("port: must be internet, vnet or onprem");
  }
  if (j.contains("src")) {
    f.match_src = true;
    f.src = ip(j["src"], "src");
  }
  if (j.contains("dst")) {
    f.match_dst = true;
    f.dst = ip(j["dst"], "dst");
  }
  if (j.contains("sport")) {
    f.match_sport = true;
    f.sport = j["sport"].get<uint16_t>();
  }
  if (j.contains("dport")) {
    f.match_dport = true;
    f.dport = j["dport"].get<uint16_t>();
  }
  if (j.contains("proto")) {
    f.match_proto = true;
    f.proto = j["proto"].get<uint8_t>();
  }
  return f;
}

}  // namespace

RequestHandlers::RequestHandlers(LiveDataplane& live_dp, ControlServer& srv, TableHandover& ho, StartSettings start)
    : live(live_dp), server(srv), handover(ho), start_(std::move(start)) {
  table_[wire::Type::kPushPlan] = &RequestHandlers::push_plan;
  table_[wire::Type::kPush] = &RequestHandlers::push;
  table_[wire::Type::kPushCommit] = &RequestHandlers::push_commit;
  table_[wire::Type::kStats] = &RequestHandlers::stats;
  table_[wire::Type::kHealth] = &RequestHandlers::health;
  table_[wire::Type::kTrace] = &RequestHandlers::trace;
  table_[wire::Type::kCapture] = &RequestHandlers::capture;
}

void RequestHandlers::handle(ClientId id, wire::Type type, std::string_view payload) {
  const auto it = table_.find(type);
  if (it == table_.end()) {
    server.send(id, wire::Type::kError, "unknown request type " + std::to_string(static_cast<unsigned>(type)));
    return;
  }
  try {
    (this->*(it->second))(id, payload);
  } catch (const std::exception& e) {
    server.send(id, wire::Type::kError, std::string("bad request: ") + e.what());
  }
}

void RequestHandlers::refuse_push(ClientId id, const std::string& why) {
  live.note_push_failed();
  server.send(id, wire::Type::kError, why);
  std::cerr << "asenetd: push refused: " << why << "\n";
}

bool RequestHandlers::push_allowed(const nlohmann::json& hdr, const TableSpec& spec, std::string& why) const {
  const std::string file = hdr.value("file", std::string("the pushed topology"));
  const auto& start = hdr.at("start");
  if (start.contains("ports")) {
    for (size_t p = 0; p < kNumPorts; ++p) {
      const std::string side(port_name(static_cast<Port>(p)));
      if (!start["ports"].contains(side)) continue;  // [ports] is optional in a push
      const std::string want = start["ports"][side].get<std::string>();
      if (!start_.ports[p] || *start_.ports[p] != want) {
        why = file + ": ports." + side + " = " + quote(want, 80) +
              " takes effect only when asenetd starts; it runs with " +
              (start_.ports[p] ? quote(*start_.ports[p], 80) : std::string("none")) +
              " (restart asenetd to change devices)";
        return false;
      }
    }
  }
  if (start.contains("flow_table_size") && start["flow_table_size"].get<uint32_t>() != start_.flow_table_size) {
    why = file + ": emulator.flow_table_size = " + std::to_string(start["flow_table_size"].get<uint32_t>()) +
          " takes effect only when asenetd starts; it runs with " + std::to_string(start_.flow_table_size) +
          " (restart asenetd to change it)";
    return false;
  }
  if (spec.mtu > start_.mtu) {
    why = file + ": emulator.mtu = " + std::to_string(spec.mtu) + " is more than the " + std::to_string(start_.mtu) +
          " asenetd started with (its ports and buffers are sized then: restart it to raise the MTU)";
    return false;
  }
  const TableSpec& running = live.spec();
  if (spec.l2.arp != running.l2.arp && !hdr.value("allow_l2_change", false)) {
    why = file + ": [l2] arp = " + (spec.l2.arp ? "true" : "false") + " would turn ARP answering " +
          (spec.l2.arp ? "on" : "off") + "; asenetd runs with it " + (running.l2.arp ? "on" : "off") +
          (running.l2.arp ? " and its hosts would lose their neighbours" : "") +
          " (push with --allow-l2-change to do it anyway)";
    return false;
  }
  return true;
}

void RequestHandlers::push_plan(ClientId id, std::string_view payload) {
  std::string_view hdr_text, spec_bytes;
  std::string why;
  if (!wire::split_push(payload, hdr_text, spec_bytes, why)) return refuse_push(id, why);
  const auto hdr = nlohmann::json::parse(hdr_text);
  TableSpec spec;
  if (!wire::decode_spec(spec_bytes, spec, why) || !push_allowed(hdr, spec, why)) return refuse_push(id, why);
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& c : describe_changes(live.spec(), spec)) changes.push_back(c);
  const std::string phase = hdr.value("phase", std::string());
  const bool prepare = phase == "prepare";
  if (!phase.empty() && !prepare) return refuse_push(id, "phase must be \"prepare\" (commit: message type 7)");
  const std::string token = hdr.value("token", std::string());
  if (prepare && !wire::valid_push_token(token))
    return refuse_push(id, "a prepare needs a token of 8 to 64 hex digits");
  PoolChange members;
  for (const auto& [key, out] : {std::pair{"members", &members.members}, {"previous_members", &members.previous}}) {
    if (!hdr.contains(key)) continue;
    std::vector<unsigned> nodes;
    for (const auto& n : hdr.at(key)) nodes.push_back(n.get<unsigned>());
    if (nodes.empty()) return refuse_push(id, std::string(key) + ": name at least one node");
    if (!live.parse_members(nodes, *out, why)) return refuse_push(id, why);
  }
  if (members.previous != 0 && members.members == 0) return refuse_push(id, "previous_members without members");
  if (hdr.value("dry_run", false)) {
    const uint64_t g = live.generation();
    const nlohmann::json r = {{"generation", g}, {"previous", g},      {"acl_rules", 0}, {"build_ms", 0.0},
                              {"swap_ms", 0.0},  {"changes", changes}, {"dry_run", true}};
    server.send(id, wire::Type::kOk, r.dump());
    return;
  }
  LiveDataplane::PublishResult r;
  if (!(prepare ? live.prepare(std::move(spec), token, r, why, members)
                : live.push(std::move(spec), r, why, members))) {
    server.send(id, wire::Type::kError, why);
    std::cerr << "asenetd: push refused: " << why << "\n";
    return;
  }
  if (prepare)
    std::cerr << "asenetd: push prepared (" << r.acl_rules << " ACL rules, built in " << r.build_ms
              << " ms); generation " << r.generation << " stays live until the commit\n";
  else
    std::cerr << "asenetd: generation " << r.generation << " live (" << r.acl_rules << " ACL rules, built in "
              << r.build_ms << " ms, swapped in " << r.swap_ms << " ms)\n";
  for (const auto& c : changes) std::cerr << "asenetd:   " << c.get<std::string>() << "\n";
  auto reply = nlohmann::json::parse(publish_json(r));
  reply["changes"] = changes;
  reply["dry_run"] = false;
  reply["prepared"] = prepare;
  reply["spec_hash"] = r.spec_hash;
  server.send(id, wire::Type::kOk, reply.dump());
}

void RequestHandlers::push_commit(ClientId id, std::string_view payload) {
  const auto j = nlohmann::json::parse(payload);
  const std::string token = j.at("token").get<std::string>(), action = j.at("action").get<std::string>();
  if (action == "abort") {
    const bool dropped = live.abort_staged(token);
    if (dropped) std::cerr << "asenetd: prepared push aborted; generation " << live.generation() << " stays live\n";
    server.send(id, wire::Type::kOk, nlohmann::json{{"aborted", dropped}, {"generation", live.generation()}}.dump());
    return;
  }
  if (action != "commit") return refuse_push(id, "action must be \"commit\" or \"abort\"");
  LiveDataplane::PublishResult r;
  std::string why;
  if (!live.commit(token, j.at("generation").get<uint64_t>(), r, why)) {  // counted as a failed push there
    server.send(id, wire::Type::kError, why);
    std::cerr << "asenetd: push refused: " << why << "\n";
    return;
  }
  std::cerr << "asenetd: generation " << r.generation << " live, committed (" << r.acl_rules
            << " ACL rules, swapped in " << r.swap_ms << " ms)\n";
  auto reply = nlohmann::json::parse(publish_json(r));
  reply["spec_hash"] = r.spec_hash;
  server.send(id, wire::Type::kOk, reply.dump());
}

void RequestHandlers::push(ClientId id, std::string_view payload) {
  TableSpec spec;
  std::string why;
  LiveDataplane::PublishResult r;
  bool decoded = wire::decode_spec(payload, spec, why);
  if (!decoded || !live.push(std::move(spec), r, why)) {
    if (!decoded) live.note_push_failed();
    server.send(id, wire::Type::kError, why);
    std::cerr << "asenetd: push refused: " << why << "\n";
    return;
  }
  std::cerr << "asenetd: generation " << r.generation << " live (" << r.acl_rules << " ACL rules, built in "
            << r.build_ms << " ms, swapped in " << r.swap_ms << " ms)\n";
  server.send(id, wire::Type::kOk, publish_json(r));
  return;
}

void RequestHandlers::stats(ClientId id, std::string_view payload) {
  const auto j = payload.empty() ? nlohmann::json::object() : nlohmann::json::parse(payload);
  const std::string format = j.value("format", "json");
  live.note_control(server.rejected(), server.malformed());
  live.refresh_neighbors();
  const StatsSnapshot snap = live.snapshot();
  if (format == "json")
    server.send(id, wire::Type::kOk, stats_json(snap));
  else if (format == "prometheus")
    server.send(id, wire::Type::kOk, stats_prometheus(snap));
  else if (format == "text")
    server.send(id, wire::Type::kOk, stats_text(snap));
  else
    server.send(id, wire::Type::kError, "format must be json, prometheus or text");
  return;
}

void RequestHandlers::health(ClientId id, std::string_view payload) {
  const auto j = nlohmann::json::parse(payload);
  const auto ip = parse_cidr(j.at("instance").get<std::string>() + "/32");
  if (!ip.cidr) {
    server.send(id, wire::Type::kError, "instance: not an IPv4 address");
    return;
  }
  LiveDataplane::PublishResult r;
  std::string why;
  const bool up = j.at("up").get<bool>();
  if (!live.set_health(j.at("ase").get<std::string>(), ip.cidr->addr, up, r, why)) {
    server.send(id, wire::Type::kError, why);
    return;
  }
  std::cerr << "asenetd: " << j.at("ase").get<std::string>() << " " << format_ipv4(ip.cidr->addr)
            << (up ? " up" : " down") << ": health epoch " << r.health_epoch << " (generation " << r.generation
            << ")\n";
  server.send(id, wire::Type::kOk, publish_json(r));
  return;
}

void RequestHandlers::trace(ClientId id, std::string_view payload) {
  const auto j = nlohmann::json::parse(payload);
  std::string why;
  LiveDataplane::TraceRequest req{j.at("count").get<uint64_t>(), trace_filter(j), j.value("filter", std::string{}),
                                  j.value("both_directions", false)};
  if (!live.trace_start(req, why)) {
    server.send(id, wire::Type::kError, why);
    return;
  }
  tracer = id;
  server.hold(id, true);  // it waits for packets, however long
  server.send(id, wire::Type::kOk, "{\"tracing\":true}");
  return;
}

void RequestHandlers::pump_trace() {
  if (!live.tracing()) return;
  std::vector<std::string> lines;
  bool finished = false;
  live.trace_collect(lines, finished);
  for (const auto& l : lines) server.send(tracer, wire::Type::kTraceLine, l);
  if (finished || !server.connected(tracer)) {
    const auto [traced, lost] = live.trace_stop();
    server.send(tracer, wire::Type::kTraceEnd,
                "{\"traced\":" + std::to_string(traced) + ",\"lost\":" + std::to_string(lost) + "}");
    server.hold(tracer, false);
  }
}

void RequestHandlers::capture(ClientId id, std::string_view payload) {
  const auto j = nlohmann::json::parse(payload);
  LiveDataplane::CaptureRequest req;
  const auto side = j.at("port").get<std::string>();
  bool known = false;
  for (size_t p = 0; p < kNumPorts; ++p)
    if (side == port_name(static_cast<Port>(p))) {
      req.port = static_cast<Port>(p);
      known = true;
    }
  if (!known) throw std::runtime_error("port: must be internet, vnet or onprem");
  req.count = j.at("count").get<uint64_t>();
  req.filter = j.value("filter", std::string{});
  const auto dir = j.value("direction", std::string("both"));
  if (dir != "in" && dir != "out" && dir != "both") throw std::runtime_error("direction: must be in, out or both");
  req.inbound = dir != "out";
  req.outbound = dir != "in";
  req.snaplen = j.value("snaplen", static_cast<uint16_t>(std::min<uint32_t>(start_.mtu + 22, 65535)));
  std::string why;
  if (!live.capture_start(req, why)) {
    server.send(id, wire::Type::kError, why);
    return;
  }
  capturer = id;
  server.hold(id, true);  // it waits for frames, however long
  server.send(id, wire::Type::kOk, "{\"capturing\":true,\"snaplen\":" + std::to_string(req.snaplen) + "}");
}

void RequestHandlers::pump_capture() {
  if (!live.capturing()) return;
  std::string batch;
  bool finished = false;
  live.capture_collect(batch, finished);
  if (!batch.empty()) server.send(capturer, wire::Type::kCaptureFrames, batch);
  if (finished || !server.connected(capturer)) {
    const auto [captured, lost] = live.capture_stop();
    server.send(capturer, wire::Type::kCaptureEnd,
                "{\"captured\":" + std::to_string(captured) + ",\"lost\":" + std::to_string(lost) + "}");
    server.hold(capturer, false);
  }
}

}  // namespace asenet::daemon

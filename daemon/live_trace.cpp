// asenetd's live trace (asenetctl trace): arming every worker's trace sink
// with a filter and a shared budget, collecting what the workers wrote into
// their rings (ordered by time, with what a slow reader lost counted), and
// disarming once every worker has left the burst it may have been tracing.
#include <algorithm>

#include "control/model/packet_filter.hpp"
#include "control/report/summary.hpp"
#include "daemon/agent.hpp"

namespace asenet::control {

using namespace asenet::dataplane;

bool LiveDataplane::arm_filter(const std::string& expr, std::unique_ptr<PacketFilter>& out, std::string& error) {
  out.reset();
  if (expr.empty()) return true;
  auto f = PacketFilter::compile(expr, error);
  if (!f) {
    error = "filter: " + error;
    return false;
  }
  out = std::make_unique<PacketFilter>(std::move(*f));
  return true;
}

bool LiveDataplane::trace_start(const TraceRequest& req, std::string& error) {
  const uint64_t count = req.count;
  if (trace_active_) {
    error = "a trace is already running (one at a time)";
    return false;
  }
  if (count == 0 || count > 1000000) {
    error = "--count must be 1-1000000";
    return false;
  }
  if (!arm_filter(req.bpf, trace_filter_, error)) return false;
  trace_count_ = count;
  trace_emitted_ = trace_lost_ = 0;
  trace_budget_.store(static_cast<int64_t>(count), std::memory_order_relaxed);
  for (size_t w = 0; w < ctxs_.size(); ++w) {
    TraceSink& sink = *trace_sinks_[w];
    sink.slots = trace_rings_[w].data();
    sink.mask = kTraceRing - 1;
    sink.live = true;
    sink.filter = req.filter;
    sink.frame_filter = trace_filter_ ? &PacketFilter::match_frame : nullptr;
    sink.frame_filter_state = trace_filter_.get();
    sink.both_directions = req.both_directions;
    sink.replies.fill(TraceReplyKey{});
    sink.budget = &trace_budget_;
    sink.head.store(0, std::memory_order_relaxed);
    trace_tail_[w] = 0;
    ctxs_[w]->trace.store(&sink, std::memory_order_release);
  }
  trace_active_ = true;
  return true;
}

void LiveDataplane::trace_collect(std::vector<std::string>& lines, bool& finished) {
  finished = false;
  if (!trace_active_) return;
  std::vector<TraceRecord> got;
  for (size_t w = 0; w < ctxs_.size(); ++w) {
    TraceSink& sink = *trace_sinks_[w];
    const uint64_t head = sink.head.load(std::memory_order_acquire);
    uint64_t tail = trace_tail_[w];
    if (head - tail > kTraceRing) {  // the worker lapped us
      trace_lost_ += head - tail - kTraceRing;
      tail = head - kTraceRing;
    }
    const size_t first = got.size();
    for (uint64_t i = tail; i < head; ++i) got.push_back(trace_rings_[w][i & (kTraceRing - 1)]);
    // Records the worker may have overwritten while we copied are not trusted.
    const uint64_t after = sink.head.load(std::memory_order_acquire);
    if (after - tail > kTraceRing) {
      const uint64_t unsafe = std::min<uint64_t>(after - tail - kTraceRing, head - tail);
      got.erase(got.begin() + static_cast<std::ptrdiff_t>(first),
                got.begin() + static_cast<std::ptrdiff_t>(first + unsafe));
      trace_lost_ += unsafe;
    }
    trace_tail_[w] = head;
  }
  std::stable_sort(got.begin(), got.end(), [](const TraceRecord& a, const TraceRecord& b) {
    if (a.now_ns != b.now_ns) return a.now_ns < b.now_ns;
    return a.worker < b.worker;
  });
  const TableSpec& sp = spec();
  for (const auto& r : got) lines.push_back(trace_line(trace_emitted_++, r, sp, true));
  finished = trace_emitted_ + trace_lost_ >= trace_count_;
}

std::pair<uint64_t, uint64_t> LiveDataplane::trace_stop() {
  if (!trace_active_) return {0, 0};
  for (auto& c : ctxs_) c->trace.store(nullptr, std::memory_order_release);
  // Every worker has left the burst it may have been tracing: the sinks can be reused.
  handover_.synchronize();
  trace_filter_.reset();
  trace_active_ = false;
  return {trace_emitted_, trace_lost_};
}

}  // namespace asenet::control

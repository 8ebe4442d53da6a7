// asenetd's live capture (asenetctl capture): arming every worker's capture
// sink for one side, draining the rings into batches of pcap records (ordered
// by time, what a slow reader lost counted), and disarming once every worker
// has left the burst it may have been copying.
//
// A batch (wire::Type::kCaptureFrames) is records back to back, little-endian:
// u64 wall-clock ns, u32 length on the wire, u16 bytes captured, u8 direction
// (0 received on the side, 1 sent on it), u8 worker, then the bytes.
#include <rte_cycles.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "daemon/agent.hpp"

namespace asenet::control {

using namespace asenet::dataplane;

bool LiveDataplane::capture_start(const CaptureRequest& req, std::string& error) {
  if (capture_active_) {
    error = "a capture is already running (one at a time)";
    return false;
  }
  if (req.count == 0 || req.count > 100000000) {
    error = "--count must be 1-100000000";
    return false;
  }
  if (req.snaplen < 64 || req.snaplen > kCaptureSnapMax) {
    error = "--snaplen must be 64-" + std::to_string(kCaptureSnapMax);
    return false;
  }
  if (!arm_filter(req.filter, capture_filter_, error)) return false;
  // The workers' clock is the TSC in ns; pcap wants the wall clock.
  const auto wall =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  capture_wall_offset_ns_ = static_cast<int64_t>(wall) - static_cast<int64_t>(tsc_to_ns(rte_rdtsc(), rte_get_tsc_hz()));
  capture_stride_ = static_cast<uint32_t>((sizeof(CaptureRecord) + req.snaplen + 63) / 64 * 64);
  capture_count_ = req.count;
  captured_ = capture_lost_ = 0;
  capture_budget_.store(static_cast<int64_t>(req.count), std::memory_order_relaxed);
  capture_rings_.resize(ctxs_.size());
  capture_tail_.assign(ctxs_.size(), 0);
  while (capture_sinks_.size() < ctxs_.size()) capture_sinks_.push_back(std::make_unique<CaptureSink>());
  for (size_t w = 0; w < ctxs_.size(); ++w) {
    capture_rings_[w].assign(static_cast<size_t>(kCaptureRing) * capture_stride_, 0);
    CaptureSink& sink = *capture_sinks_[w];
    sink.ring = capture_rings_[w].data();
    sink.mask = kCaptureRing - 1;
    sink.stride = capture_stride_;
    sink.snaplen = req.snaplen;
    sink.port = req.port;
    sink.inbound = req.inbound;
    sink.outbound = req.outbound;
    sink.frame_filter = capture_filter_ ? &PacketFilter::match_frame : nullptr;
    sink.frame_filter_state = capture_filter_.get();
    sink.budget = &capture_budget_;
    sink.head.store(0, std::memory_order_relaxed);
    ctxs_[w]->capture.store(&sink, std::memory_order_release);
  }
  capture_active_ = true;
  return true;
}

void LiveDataplane::capture_collect(std::string& batch, bool& finished) {
  finished = false;
  batch.clear();
  if (!capture_active_) return;
  struct Got {
    CaptureRecord r;
    const uint8_t* bytes;
  };
  std::vector<Got> got;
  std::vector<std::vector<uint8_t>> copies(ctxs_.size());
  for (size_t w = 0; w < ctxs_.size(); ++w) {
    const CaptureSink& sink = *capture_sinks_[w];
    const uint64_t head = sink.head.load(std::memory_order_acquire);
    uint64_t tail = capture_tail_[w];
    if (head - tail > kCaptureRing) {  // the worker lapped us
      capture_lost_ += head - tail - kCaptureRing;
      tail = head - kCaptureRing;
    }
    // Copy first, then check which copies the worker may have overwritten meanwhile.
    copies[w].resize(static_cast<size_t>(head - tail) * capture_stride_);
    for (uint64_t i = tail; i < head; ++i)
      std::memcpy(copies[w].data() + (i - tail) * capture_stride_, sink.ring + (i & sink.mask) * capture_stride_,
                  capture_stride_);
    const uint64_t after = sink.head.load(std::memory_order_acquire);
    const uint64_t unsafe = after - tail > kCaptureRing ? std::min(after - tail - kCaptureRing, head - tail) : 0;
    capture_lost_ += unsafe;
    for (uint64_t i = tail + unsafe; i < head; ++i) {
      const uint8_t* slot = copies[w].data() + (i - tail) * capture_stride_;
      Got g{};
      std::memcpy(&g.r, slot, sizeof g.r);
      g.bytes = slot + sizeof(CaptureRecord);
      got.push_back(g);
    }
    capture_tail_[w] = head;
  }
  std::stable_sort(got.begin(), got.end(), [](const Got& a, const Got& b) { return a.r.now_ns < b.r.now_ns; });
  for (const Got& g : got) {
    const uint64_t wall = static_cast<uint64_t>(static_cast<int64_t>(g.r.now_ns) + capture_wall_offset_ns_);
    char h[16];
    for (int i = 0; i < 8; ++i) h[i] = static_cast<char>(wall >> (8 * i));
    for (int i = 0; i < 4; ++i) h[8 + i] = static_cast<char>(g.r.wire_len >> (8 * i));
    h[12] = static_cast<char>(g.r.caplen);
    h[13] = static_cast<char>(g.r.caplen >> 8);
    h[14] = static_cast<char>(g.r.outbound);
    h[15] = static_cast<char>(g.r.worker);
    batch.append(h, sizeof h);
    batch.append(reinterpret_cast<const char*>(g.bytes), g.r.caplen);
    ++captured_;
  }
  finished = captured_ + capture_lost_ >= capture_count_;
}

std::pair<uint64_t, uint64_t> LiveDataplane::capture_stop() {
  if (!capture_active_) return {0, 0};
  for (auto& c : ctxs_) c->capture.store(nullptr, std::memory_order_release);
  // Every worker has left the burst it may have been copying: the rings can go.
  handover_.synchronize();
  capture_filter_.reset();
  for (auto& r : capture_rings_) std::vector<uint8_t>().swap(r);
  capture_active_ = false;
  return {captured_, capture_lost_};
}

}  // namespace asenet::control

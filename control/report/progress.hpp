// Progress of long work (replay, bench, import, nsg analyze) on a terminal:
// one line on standard error, redrawn at most four times a second (done,
// rate, elapsed, an estimate of what is left when the share done is known),
// cleared at the end. Off when standard error is not a terminal, or with
// ASENET_PROGRESS=0; then the commands print one line at the end instead
// (`rated_line`, like tcpreplay's "Rated:" line).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace asenet::control {

class Progress {
 public:
  /// `what`: the command ("replay"); `unit`: what is counted ("packets").
  Progress(std::string what, std::string unit);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  ~Progress() { finish(); }

  /// `done` units so far; `share` of the whole done (0-1, or below 0 when
  /// unknown: no estimate of what is left). Cheap when nothing is drawn.
  void update(uint64_t done, double share);
  /// Work counted in steps rather than units (bench's runs): `text` says
  /// which step is under way, `share` as for update(). Drawn at once.
  void step(const std::string& text, double share);
  /// Clears the line (once).
  void finish();
  [[nodiscard]] double elapsed_s() const;
  [[nodiscard]] bool on_terminal() const noexcept { return tty_; }

 private:
  void draw(std::string line, double share, std::chrono::steady_clock::time_point now);
  std::string what_, unit_;
  bool tty_ = false;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

/// "Rated: 1,234,567 packets in 2.345 s, 526,473 packets/s" (the end-of-run line).
std::string rated_line(uint64_t done, const std::string& unit, double seconds);
/// 1234567 -> "1,234,567".
std::string grouped(uint64_t n);

}  // namespace asenet::control

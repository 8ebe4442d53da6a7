// Progress lines on a terminal (progress.hpp).
#include "control/report/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace asenet::control {

namespace {

std::string clock_text(double s) {
  const auto t = static_cast<uint64_t>(s < 0 ? 0 : s);
  char b[32];
  if (t >= 3600)
    std::snprintf(b, sizeof b, "%llu:%02llu:%02llu", static_cast<unsigned long long>(t / 3600),
                  static_cast<unsigned long long>(t / 60 % 60), static_cast<unsigned long long>(t % 60));
  else
    std::snprintf(b, sizeof b, "%llu:%02llu", static_cast<unsigned long long>(t / 60),
                  static_cast<unsigned long long>(t % 60));
  return b;
}

}  // namespace

std::string grouped(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

std::string rated_line(uint64_t done, const std::string& unit, double seconds) {
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  char b[64];
  std::snprintf(b, sizeof b, "%.3f", seconds);
  return "Rated: " + grouped(done) + " " + unit + " in " + b + " s, " +
         grouped(static_cast<uint64_t>(std::llround(rate))) + " " + unit + "/s";
}

Progress::Progress(std::string what, std::string unit) : what_(std::move(what)), unit_(std::move(unit)) {
  const char* env = std::getenv("ASENET_PROGRESS");
  tty_ = isatty(STDERR_FILENO) == 1 && !(env != nullptr && std::strcmp(env, "0") == 0);
  start_ = last_ = std::chrono::steady_clock::now();
}

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(uint64_t done, double share) {
  if (!tty_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < std::chrono::milliseconds(250)) return;
  const double el = std::chrono::duration<double>(now - start_).count();
  std::string line = grouped(done) + " " + unit_;
  if (el > 0) line += ", " + grouped(static_cast<uint64_t>(static_cast<double>(done) / el)) + " " + unit_ + "/s";
  draw(std::move(line), share, now);
}

void Progress::step(const std::string& text, double share) {
  if (tty_) draw(text, share, std::chrono::steady_clock::now());
}

void Progress::draw(std::string line, double share, std::chrono::steady_clock::time_point now) {
  last_ = now;
  const double el = std::chrono::duration<double>(now - start_).count();
  line = what_ + ": " + line + ", " + clock_text(el) + " elapsed";
  if (share > 0.001 && share <= 1) line += ", about " + clock_text(el / share - el) + " left";
  std::fprintf(stderr, "\r\033[K%s", line.c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (!drawn_) return;
  std::fprintf(stderr, "\r\033[K");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace asenet::control

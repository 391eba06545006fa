#include "loadtest/progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace rm::loadtest {

std::string Progress::Line(const ProgressState& s, int bar_width) {
  const double frac = s.total_s > 0 ? std::clamp(s.elapsed_s / s.total_s, 0.0, 1.0) : 0;
  std::string bar;
  if (bar_width > 0) {
    const int full = static_cast<int>(std::lround(frac * bar_width));
    bar = "[" + std::string(full, '#') + std::string(bar_width - full, '.') + "] ";
  }
  return fmt::format("{}{}{:>5.0f}/{:.0f} s  {:>9.0f} rec/s  p99 {:>8.1f} ms  lag {:>8}{}", bar,
                     s.phase.empty() ? "" : s.phase + "  ", s.elapsed_s, s.total_s, s.rate,
                     s.p99_ms, s.backlog, s.draining ? "  draining" : "");
}

void Progress::Update(const ProgressState& s) {
  if (!out_) return;
  if (tty_) {
    fmt::print(out_, "\r\033[2K{}", Line(s, 30));
    drawn_ = true;
  } else {
    if (s.elapsed_s - last_plain_s_ < 5 && !s.draining) return;
    last_plain_s_ = s.elapsed_s;
    fmt::print(out_, "loadtest: {}\n", Line(s, 0));
  }
  std::fflush(out_);
}

void Progress::Note(const std::string& text) {
  if (!out_) return;
  fmt::print(out_, "{}loadtest: {}\n", tty_ && drawn_ ? "\r\033[2K" : "", text);
  std::fflush(out_);
}

void Progress::Finish() {
  if (out_ && tty_ && drawn_) {
    fmt::print(out_, "\n");
    std::fflush(out_);
  }
}

}  // namespace rm::loadtest

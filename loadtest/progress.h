// The progress line: on a terminal one live line redrawn in place (rate, p99 so far, lag,
// elapsed / total and a bar); otherwise a plain line every few seconds, for logs.
#pragma once

#include <cstdio>
#include <string>

namespace rm::loadtest {

struct ProgressState {
  double elapsed_s = 0;
  double total_s = 0;
  double rate = 0;        // records/s verified in the last interval
  double p99_ms = 0;      // end-to-end p99 so far (after the warm-up)
  int64_t backlog = 0;    // sent and not yet verified
  bool draining = false;  // sending ended, waiting for the rest to arrive
  std::string phase;      // e.g. "search 40000/s", shown first; "" for the measured run
};

class Progress {
 public:
  // `out` may be null (silent). `tty`: redraw in place.
  Progress(FILE* out, bool tty) : out_(out), tty_(tty) {}
  void Update(const ProgressState& s);
  // A line of its own (a search step's verdict, a phase change) above the live line.
  void Note(const std::string& text);
  // Ends the live line (a newline on a terminal).
  void Finish();

  // The text of one line, without control characters (for tests).
  static std::string Line(const ProgressState& s, int bar_width);

 private:
  FILE* out_;
  bool tty_;
  double last_plain_s_ = -1e9;
  bool drawn_ = false;
};

}  // namespace rm::loadtest

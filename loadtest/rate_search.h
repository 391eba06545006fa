// RateSearch: OMB's `producerRate: 0`, "find the maximum sustainable rate", as a bounded search
// inside one run. The rate doubles from `start_rate` while each step is sustainable; after the
// first step that is not, it bisects between the highest sustainable and the lowest
// unsustainable rate until they are within `precision` of each other, or `max_steps` ran out.
//
// A step lasts `step_intervals` intervals of 1 s; the first `settle_intervals` are left out of
// the judgement (the schedule has just changed, the backlog of the step before drains). A step
// is unsustainable when the sends fell behind (published under 95% of the rate, or still late by
// more than `behind_ms` at its end) or the target fell behind (the backlog, sent minus verified,
// grew by more than 5% of the step's records plus a tenth of a second of load: the jitter of
// in-flight records). A backlog left by an unsustainable step does not spoil the next one: a
// saturated consumer drains at its capacity, so only growth says the rate is above it.
//
// Pure logic, no clock and no clients: the runner feeds it one step's figures at a time
// (runner.cc), the tests feed it figures of a known capacity.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rm::loadtest {

struct RateSearchOptions {
  // The first step's rate, records/s. Default: 10000
  double start_rate = 10000;
  // No step goes above this (0: no ceiling). Default: 0
  double max_rate = 0;
  // Steps at most (the search ends with the best rate found so far). Default: 10
  int max_steps = 10;
  // Ends when (lowest unsustainable - highest sustainable) <= precision x highest. Default: 0.1
  double precision = 0.1;
  // Intervals (1 s) per step, and how many of its first ones are not judged. Default: 4, 1
  int step_intervals = 4;
  int settle_intervals = 1;
  // Sends later than this at the end of a step make it unsustainable. Default: 500 ms
  double behind_ms = 500;
};

// What the runner measured over the judged part of one step.
struct RateStepFigures {
  double seconds = 0;
  int64_t published = 0;      // records sent
  int64_t backlog_start = 0;  // sent minus verified, at the start of the judged part
  int64_t backlog_end = 0;    // and at its end
  double end_delay_ms = 0;    // how late sends were in the step's last interval
};

struct RateStep {
  double rate = 0;
  RateStepFigures figures;
  bool sustainable = false;
  std::string why;  // why not, when not
};

// Why a step at `rate` with these figures is not sustainable; nullopt when it is.
std::optional<std::string> Unsustainable(double rate, const RateStepFigures& f, double behind_ms);

class RateSearch {
 public:
  explicit RateSearch(RateSearchOptions options);

  // The rate of the step under way.
  double rate() const { return rate_; }
  bool done() const { return done_; }
  // Judges the step under way from its figures and picks the next rate (or ends the search).
  void Judge(const RateStepFigures& f);
  // The highest sustainable rate seen; 0 when none was.
  double best() const { return good_; }
  const std::vector<RateStep>& steps() const { return steps_; }
  const RateSearchOptions& options() const { return options_; }

 private:
  RateSearchOptions options_;
  double rate_;
  double good_ = 0;  // highest sustainable
  double bad_ = 0;   // lowest unsustainable (0: none yet)
  bool done_ = false;
  std::vector<RateStep> steps_;
};

}  // namespace rm::loadtest

#include "loadtest/rate_search.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace rm::loadtest {

std::optional<std::string> Unsustainable(double rate, const RateStepFigures& f, double behind_ms) {
  const double expected = rate * f.seconds;
  if (static_cast<double>(f.published) < 0.95 * expected) {
    return fmt::format("sends fell behind: {:.0f} of {:.0f} records/s published",
                       static_cast<double>(f.published) / f.seconds, rate);
  }
  if (f.end_delay_ms > behind_ms) {
    return fmt::format("sends fell behind: {:.0f} ms late at the end of the step", f.end_delay_ms);
  }
  const double grew = static_cast<double>(f.backlog_end - f.backlog_start);
  if (grew > 0.05 * expected + std::max(0.1 * rate, 100.0)) {
    return fmt::format("the target fell behind: backlog grew by {:.0f} records in {:.1f} s", grew,
                       f.seconds);
  }
  return std::nullopt;
}

RateSearch::RateSearch(RateSearchOptions options)
    : options_(options),
      rate_(options_.max_rate > 0 ? std::min(options_.start_rate, options_.max_rate)
                                  : options_.start_rate) {}

void RateSearch::Judge(const RateStepFigures& f) {
  if (done_) return;
  RateStep step{rate_, f, true, ""};
  if (auto why = Unsustainable(rate_, f, options_.behind_ms)) {
    step.sustainable = false;
    step.why = *why;
    bad_ = bad_ > 0 ? std::min(bad_, rate_) : rate_;
  } else {
    good_ = std::max(good_, rate_);
  }
  steps_.push_back(step);
  const bool at_ceiling = options_.max_rate > 0 && step.sustainable && rate_ >= options_.max_rate;
  const bool close = good_ > 0 && bad_ > 0 && bad_ - good_ <= options_.precision * good_;
  if (at_ceiling || close || static_cast<int>(steps_.size()) >= options_.max_steps) {
    done_ = true;
    return;
  }
  if (bad_ == 0) {  // still ramping up
    rate_ = options_.max_rate > 0 ? std::min(rate_ * 2, options_.max_rate) : rate_ * 2;
  } else if (good_ == 0) {  // nothing sustainable yet: ramp down
    rate_ = bad_ / 2;
    if (rate_ < 1) done_ = true;
  } else {
    rate_ = (good_ + bad_) / 2;
  }
}

}  // namespace rm::loadtest

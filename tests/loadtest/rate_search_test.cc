#include "loadtest/rate_search.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

namespace rm::loadtest {
namespace {

using ::testing::HasSubstr;

// A pipeline that sends at most `send_cap` and delivers at most `deliver_cap` records/s: the
// figures one judged part (3 s) of a step would show.
RateStepFigures Figures(double rate, double send_cap, double deliver_cap, int64_t backlog0) {
  const double seconds = 3;
  const double sent = std::min(rate, send_cap) * seconds;
  const double delivered = std::min(rate, deliver_cap) * seconds;
  return {seconds, static_cast<int64_t>(sent), backlog0,
          backlog0 + static_cast<int64_t>(sent - delivered), rate > send_cap ? 900.0 : 2.0};
}

double Search(RateSearchOptions o, double send_cap, double deliver_cap) {
  RateSearch s(o);
  int64_t backlog = 0;
  while (!s.done()) {
    auto f = Figures(s.rate(), send_cap, deliver_cap, backlog);
    backlog = std::max<int64_t>(0, f.backlog_end - static_cast<int64_t>(deliver_cap));
    s.Judge(f);
  }
  return s.best();
}

TEST(RateSearch, FindsATargetCapacityWithinTheRequestedPrecision) {
  RateSearchOptions o;
  o.start_rate = 1000;
  o.max_steps = 20;
  o.precision = 0.05;
  for (double cap : {1500.0, 37000.0, 250000.0}) {
    const double best = Search(o, 1e9, cap);
    // The growth a step may show (jitter of in-flight records) lets it end up to ~9% above.
    EXPECT_LE(best, cap * 1.1) << cap;
    EXPECT_GE(best, cap * 0.9) << cap;
  }
}

TEST(RateSearch, ASenderThatCannotKeepUpBoundsTheRateToo) {
  RateSearchOptions o;
  o.start_rate = 1000;
  o.max_steps = 20;
  const double best = Search(o, 20000, 1e9);
  EXPECT_LE(best, 20000);
  EXPECT_GE(best, 20000 * 0.85);
}

TEST(RateSearch, StopsAtTheCeilingAndWithinItsStepBudget) {
  RateSearchOptions o;
  o.start_rate = 1000;
  o.max_rate = 5000;
  RateSearch s(o);
  while (!s.done()) s.Judge(Figures(s.rate(), 1e9, 1e9, 0));
  EXPECT_EQ(s.best(), 5000);
  ASSERT_EQ(s.steps().size(), 4u);  // 1000, 2000, 4000, 5000
  EXPECT_EQ(s.steps()[3].rate, 5000);

  o.max_rate = 0;
  o.max_steps = 3;
  RateSearch bounded(o);
  while (!bounded.done()) bounded.Judge(Figures(bounded.rate(), 1e9, 1e9, 0));
  EXPECT_EQ(bounded.steps().size(), 3u);
  EXPECT_EQ(bounded.best(), 4000);
}

TEST(RateSearch, RampsDownWhenEvenTheFirstRateIsTooHigh) {
  RateSearchOptions o;
  o.start_rate = 100000;
  o.max_steps = 20;
  const double best = Search(o, 1e9, 3000);
  EXPECT_GT(best, 2500);
  EXPECT_LE(best, 3300);
  EXPECT_FALSE(Unsustainable(best, Figures(best, 1e9, 3000, 0), 500));
}

TEST(RateSearch, AStepSaysWhyItIsNotSustainable) {
  EXPECT_THAT(*Unsustainable(10000, Figures(10000, 5000, 1e9, 0), 500),
              HasSubstr("sends fell behind: 5000 of 10000 records/s published"));
  EXPECT_THAT(*Unsustainable(10000, Figures(10000, 1e9, 8000, 0), 500),
              HasSubstr("the target fell behind: backlog grew by 6000 records"));
  // A backlog left by the step before that shrinks is not growth.
  EXPECT_FALSE(Unsustainable(10000, Figures(10000, 1e9, 12000, 50000), 500));
  RateStepFigures late = Figures(10000, 1e9, 1e9, 0);
  late.end_delay_ms = 800;
  EXPECT_THAT(*Unsustainable(10000, late, 500), HasSubstr("800 ms late"));
}

}  // namespace
}  // namespace rm::loadtest

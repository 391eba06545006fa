#include "loadtest/histogram.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace rm::loadtest {
namespace {

// The exact percentile the histogram approximates: the smallest sample with at least p% of the
// samples at or below it.
int64_t ExactPercentile(std::vector<int64_t> v, double p) {
  std::sort(v.begin(), v.end());
  if (p >= 100) return v.back();
  size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  rank = std::clamp<size_t>(rank, 1, v.size());
  return v[rank - 1];
}

void ExpectWithinPrecision(int64_t got, int64_t exact, double p) {
  // A value is kept to within 1/1024 of itself, and reported as its bucket's highest value:
  // never below the exact answer, at most 0.1% above it.
  EXPECT_GE(got, exact) << "p" << p;
  EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * (1 + 1.0 / 1024) + 1)
      << "p" << p;
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  std::vector<int64_t> v;
  for (int64_t i = 1; i <= 1000; ++i) {
    h.Record(i);
    v.push_back(i);
  }
  for (double p : {0.0, 1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
    EXPECT_EQ(h.Percentile(p), ExactPercentile(v, p)) << "p" << p;
  }
  EXPECT_EQ(h.count(), 1000);
  EXPECT_EQ(h.min(), 1);
  EXPECT_EQ(h.max(), 1000);
  EXPECT_DOUBLE_EQ(h.mean(), 500.5);
}

TEST(LatencyHistogram, PercentilesOfAWideSkewedSampleMatchTheExactOnesWithinPrecision) {
  // Latencies from microseconds to minutes with a long tail, as a stalled run produces.
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> dist(8.0, 2.0);
  LatencyHistogram h;
  std::vector<int64_t> v;
  for (int i = 0; i < 200000; ++i) {
    int64_t x = static_cast<int64_t>(dist(rng));
    h.Record(x);
    v.push_back(x);
  }
  for (double p : {1.0, 10.0, 50.0, 75.0, 90.0, 99.0, 99.9, 99.99}) {
    ExpectWithinPrecision(h.Percentile(p), ExactPercentile(v, p), p);
  }
  EXPECT_EQ(h.Percentile(100), *std::max_element(v.begin(), v.end()));
  EXPECT_EQ(h.max(), *std::max_element(v.begin(), v.end()));
  EXPECT_EQ(h.min(), *std::min_element(v.begin(), v.end()));
}

TEST(LatencyHistogram, KnownTailIsReportedAtTheRightRank) {
  // 990 fast samples and 10 slow ones: p99 is still fast, p99.1 is the first slow one.
  LatencyHistogram h;
  h.Record(2000, 990);
  h.Record(5'000'000, 10);
  EXPECT_EQ(h.Percentile(99), 2000);
  ExpectWithinPrecision(h.Percentile(99.1), 5'000'000, 99.1);
  EXPECT_EQ(h.max(), 5'000'000);
}

TEST(LatencyHistogram, MergingIntervalsEqualsRecordingEverythingInOne) {
  std::mt19937_64 rng(3);
  LatencyHistogram a, b, all;
  for (int i = 0; i < 50000; ++i) {
    int64_t x = static_cast<int64_t>(rng() % 10'000'000);
    (i % 2 ? a : b).Record(x);
    all.Record(x);
  }
  a.Merge(b);
  for (double p : {50.0, 99.0, 99.9, 100.0}) EXPECT_EQ(a.Percentile(p), all.Percentile(p));
  EXPECT_EQ(a.count(), all.count());
  EXPECT_EQ(a.max(), all.max());
  EXPECT_EQ(a.min(), all.min());
}

TEST(LatencyHistogram, EmptyAndNegativeAndHugeValuesAreSafe) {
  LatencyHistogram h;
  EXPECT_EQ(h.Percentile(99), 0);
  EXPECT_EQ(h.max(), 0);
  h.Record(-5);
  EXPECT_EQ(h.Percentile(50), 0);
  h.Record(INT64_MAX / 2);
  EXPECT_EQ(h.Percentile(100), INT64_MAX / 2);
  ExpectWithinPrecision(h.Percentile(99), INT64_MAX / 2, 99);
  h.Reset();
  EXPECT_EQ(h.count(), 0);
}

}  // namespace
}  // namespace rm::loadtest

#include "common/metrics.h"

#include <gtest/gtest.h>

#include <prometheus/registry.h>

namespace rm::common {
namespace {

prometheus::ClientMetric::Histogram Snapshot(prometheus::Histogram& h) {
  return h.Collect().histogram;
}

TEST(BatchedHistogramTest, FlushAddsWhatDirectObservationsWould) {
  prometheus::Registry registry;
  auto& family = prometheus::BuildHistogram().Name("t").Help("t").Register(registry);
  auto& direct = family.Add({{"k", "direct"}}, LatencyBucketsSeconds());
  auto& batched = family.Add({{"k", "batched"}}, LatencyBucketsSeconds());
  BatchedHistogram batch(batched);

  // On a bound, between bounds, below the first and above the last (+Inf).
  for (double v : {0.0, 0.0005, 0.0006, 0.005, 0.0199, 0.02, 0.7, 60.0, 61.0, 1e9}) {
    direct.Observe(v);
    batch.Observe(v);
  }
  EXPECT_EQ(Snapshot(batched).sample_count, 0u) << "nothing is published before Flush()";
  batch.Flush();
  auto a = Snapshot(direct), b = Snapshot(batched);
  EXPECT_EQ(b.sample_count, 10u);
  EXPECT_DOUBLE_EQ(b.sample_sum, a.sample_sum);
  ASSERT_EQ(b.bucket.size(), a.bucket.size());
  for (size_t i = 0; i < a.bucket.size(); ++i) {
    EXPECT_EQ(b.bucket[i].cumulative_count, a.bucket[i].cumulative_count) << "bucket " << i;
  }

  // A second flush adds only what came since the first; an empty one changes nothing.
  batch.Flush();
  batch.Observe(0.01);
  batch.Flush();
  EXPECT_EQ(Snapshot(batched).sample_count, 11u);
  EXPECT_DOUBLE_EQ(Snapshot(batched).sample_sum, a.sample_sum + 0.01);
}

}  // namespace
}  // namespace rm::common

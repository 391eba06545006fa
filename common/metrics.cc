#include "common/metrics.h"

#include <prometheus/text_serializer.h>

#include <algorithm>

namespace rm::common {

std::shared_ptr<prometheus::Registry> MetricsRegistry() {
  static auto registry = std::make_shared<prometheus::Registry>();
  return registry;
}

std::string RenderMetrics(prometheus::Registry& registry) {
  prometheus::TextSerializer serializer;
  return serializer.Serialize(registry.Collect());
}

prometheus::Histogram::BucketBoundaries LatencyBucketsSeconds() {
  // Fine between 5 and 100 ms, where replication latency targets are set, so percentiles
  // read from the histogram are good to a few milliseconds there.
  return {0.0005, 0.001, 0.0025, 0.005, 0.0075, 0.01, 0.0125, 0.015, 0.0175, 0.02, 0.025, 0.03,
          0.04,   0.05,  0.075,  0.1,   0.25,   0.5,  1,      2.5,   5,      10,   30,    60};
}

namespace {

// A histogram's bucket bounds, read back from it (the last bucket, +Inf, has no bound).
std::vector<double> BoundsOf(const prometheus::Histogram& h) {
  std::vector<double> bounds;
  for (const auto& b : h.Collect().histogram.bucket) bounds.push_back(b.upper_bound);
  bounds.pop_back();
  return bounds;
}

}  // namespace

BatchedHistogram::BatchedHistogram(prometheus::Histogram& target)
    : target_(target), bounds_(BoundsOf(target)), counts_(bounds_.size() + 1, 0.0) {}

void BatchedHistogram::Observe(double value) {
  auto bucket = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  counts_[static_cast<size_t>(bucket)] += 1;
  sum_ += value;
  pending_ = true;
}

void BatchedHistogram::Flush() {
  if (!pending_) return;
  target_.ObserveMultiple(counts_, sum_);
  std::fill(counts_.begin(), counts_.end(), 0.0);
  sum_ = 0;
  pending_ = false;
}

}  // namespace rm::common

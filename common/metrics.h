// Metrics on prometheus-cpp. Components do not touch metric families directly: each has a
// probe class (e.g. mirror/probe.h) that owns names and labels and offers verbs such as
// `probe.AddRecordsCopied(n)`. The probe registers on a Registry handed to it, normally
// MetricsRegistry(), which the admin server renders at /metrics.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>
#include <vector>

namespace rm::common {

// The process-wide registry.
std::shared_ptr<prometheus::Registry> MetricsRegistry();

// Text exposition format (what Prometheus scrapes) of everything in `registry`.
std::string RenderMetrics(prometheus::Registry& registry);

// Histogram buckets for latencies in seconds, 0.5 ms to 60 s.
prometheus::Histogram::BucketBoundaries LatencyBucketsSeconds();

// Observations of one thread gathered locally and added to `target` in one step by Flush():
// prometheus::Histogram::Observe locks a mutex and updates atomics, too much per record on a
// data path. Buckets are `target`'s own (a value v counts in the first bucket whose bound >= v).
// Not thread-safe; `target` must outlive it.
class BatchedHistogram {
 public:
  explicit BatchedHistogram(prometheus::Histogram& target);
  void Observe(double value);
  void Flush();  // cheap when nothing was observed

 private:
  prometheus::Histogram& target_;
  const std::vector<double> bounds_;
  std::vector<double> counts_;  // bounds_.size() + 1 (the last is +Inf)
  double sum_ = 0;
  bool pending_ = false;
};

}  // namespace rm::common

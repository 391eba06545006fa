#include "common/metrics.h"

#include <prometheus/text_serializer.h>

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

}  // namespace rm::common

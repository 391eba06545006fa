// The mirror's own figures, scraped from its admin API's /metrics (Prometheus text format) at
// the start and the end of the measured window and once per interval.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "common/result.h"

namespace rm::loadtest {

// Sums of every series of each metric name (labels summed away), plus the replication latency
// histogram's cumulative buckets by upper bound (seconds; +Inf as infinity).
struct MetricsSample {
  std::map<std::string, double> sums;
  std::map<double, double> latency_buckets;
  double Sum(const std::string& name) const {
    auto it = sums.find(name);
    return it == sums.end() ? 0 : it->second;
  }
};

// Parses Prometheus text exposition (comments and blank lines skipped; unparsable lines too).
MetricsSample ParseMetricsText(const std::string& text);

// GET http://<address>/metrics.
common::Result<MetricsSample> ScrapeMetrics(const std::string& address);

// The latency (seconds) under which `p` percent of the observations between two samples fell,
// as the upper bound of the bucket holding that rank; nullopt without observations.
std::optional<double> LatencyPercentileBetween(const MetricsSample& from, const MetricsSample& to,
                                               double p);

}  // namespace rm::loadtest

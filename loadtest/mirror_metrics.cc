#include "loadtest/mirror_metrics.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "testbed/control_client.h"

namespace rm::loadtest {
namespace {

constexpr std::string_view kLatencyBucket = "rm_mirror_replication_latency_seconds_bucket";

std::optional<double> LabelValue(std::string_view labels, std::string_view name) {
  std::string key = std::string(name) + "=\"";
  auto at = labels.find(key);
  if (at == std::string_view::npos) return std::nullopt;
  auto start = at + key.size();
  auto end = labels.find('"', start);
  if (end == std::string_view::npos) return std::nullopt;
  std::string v(labels.substr(start, end - start));
  if (v == "+Inf") return std::numeric_limits<double>::infinity();
  try {
    return std::stod(v);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

MetricsSample ParseMetricsText(const std::string& text) {
  MetricsSample s;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto brace = line.find('{');
    auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    std::string name = line.substr(0, std::min(brace, line.find(' ')));
    std::string labels;
    if (brace != std::string::npos && brace < space) {
      auto close = line.find('}', brace);
      if (close == std::string::npos) continue;
      labels = line.substr(brace + 1, close - brace - 1);
    }
    double value = 0;
    try {
      value = std::stod(line.substr(space + 1));
    } catch (const std::exception&) {
      continue;
    }
    if (std::isnan(value)) continue;
    s.sums[name] += value;
    if (name == kLatencyBucket) {
      if (auto le = LabelValue(labels, "le")) s.latency_buckets[*le] += value;
    }
  }
  return s;
}

common::Result<MetricsSample> ScrapeMetrics(const std::string& address) {
  // The testbed's control client is a plain blocking HTTP client; /metrics needs nothing more.
  testbed::ControlClient http(address);
  auto res = http.Request("GET", "/metrics", "");
  if (!res.ok()) return res.error();
  if (res->first != 200) {
    return common::Error{"loadtest.metrics",
                         fmt::format("GET http://{}/metrics: HTTP {}", address, res->first)};
  }
  return ParseMetricsText(res->second);
}

std::optional<double> LatencyPercentileBetween(const MetricsSample& from, const MetricsSample& to,
                                               double p) {
  if (to.latency_buckets.empty()) return std::nullopt;
  double total = 0;
  for (const auto& [le, c] : to.latency_buckets) {
    auto it = from.latency_buckets.find(le);
    total = std::max(total, c - (it == from.latency_buckets.end() ? 0 : it->second));
  }
  if (total <= 0) return std::nullopt;
  double rank = std::ceil(p / 100.0 * total);
  for (const auto& [le, c] : to.latency_buckets) {  // cumulative, ascending bounds
    auto it = from.latency_buckets.find(le);
    if (c - (it == from.latency_buckets.end() ? 0 : it->second) >= rank) return le;
  }
  return std::numeric_limits<double>::infinity();
}

}  // namespace rm::loadtest

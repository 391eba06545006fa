// The run's report: report.json with OpenMessaging Benchmark's result field names where they
// exist (publishRate, consumeRate, backlog, endToEndLatency99pct, aggregatedEndToEndLatency99pct,
// ...; rates per 1 s interval, latencies in ms) plus ours (settings, intervals, scheduleDelay,
// verification, mirror, cpu); and report.html, self-contained (inline SVG drawn here, one inline
// script that marks the charts rendered, nothing fetched): throughput over time, the latency
// percentile curve, lag over time, latency over time, and for a sweep, throughput against p99 per
// setting.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "loadtest/run_result.h"

namespace rm::loadtest {

nlohmann::json ReportJson(const RunResult& r);

// One point of a sweep, as the report shows it.
struct SweepPoint {
  std::string label;      // e.g. "linger.ms=5 batch.size=262144"
  double throughput = 0;  // records/s (median of its runs)
  double p99_ms = 0;      // median of its runs
  bool sustainable = true;
  bool recommended = false;
};

// `sweep` may be empty (a single run).
std::string ReportHtml(const RunResult& r, const std::vector<SweepPoint>& sweep = {});

// Writes <dir>/report.json and <dir>/report.html; throws ConfigError when it cannot.
void WriteReport(const std::string& dir, const RunResult& r, const nlohmann::json& extra = {},
                 const std::vector<SweepPoint>& sweep = {});

// The run's summary for the terminal, several lines.
std::string SummaryText(const RunResult& r);

}  // namespace rm::loadtest

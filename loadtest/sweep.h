// Sweep: a grid over client and mirror settings, each point run several times, to recommend the
// highest-throughput setting whose p99 stays under a bound.
//
// A grid spec is "key=v1,v2;key2=w1,w2" (every combination is a point). Keys:
//   rate                                   the workload's producerRate (records/s)
//   linger.ms, batch.size, compression.type    the mirror's producer (mirror.producer.*)
//   fetch.wait.max.ms, fetch.max.bytes         the mirror's consumer (mirror.consumer.*)
//   max_inflight_per_partition, max_inflight_total, max_inflight_bytes   the mirror's caps
//   mirror.producer.<p>, mirror.consumer.<p>, mirror.<setting>           any other of them
//   producer.<p>, consumer.<p>            the harness's own generator / verifier clients
// A point is unsustainable when any of its runs fell behind schedule, let the backlog grow, or
// failed verification; its figures are the medians of its runs.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "loadtest/report.h"
#include "loadtest/run_result.h"
#include "loadtest/runner.h"

namespace rm::loadtest {

struct SweepAxis {
  std::string key;
  std::vector<std::string> values;
};

// Throws common::ConfigError naming the spec's problem (unknown key, empty values, bad rate).
std::vector<SweepAxis> ParseSweepSpec(const std::string& spec);

// One point: (key, value) per axis.
using SweepSetting = std::vector<std::pair<std::string, std::string>>;
std::vector<SweepSetting> ExpandGrid(const std::vector<SweepAxis>& axes);

// `base` with the point's settings applied (rate, client properties, the mirror block).
LoadTestOptions ApplySetting(const LoadTestOptions& base, const SweepSetting& setting);

struct SweepPointResult {
  SweepSetting setting;
  std::vector<double> throughputs;  // records/s on the target, per run
  std::vector<double> p99s_ms;      // end-to-end p99 from the intended time, per run
  bool sustainable = true;
  std::vector<std::string> why_not;  // per failed condition
  double throughput = 0;             // medians
  double p99_ms = 0;
};

struct SweepOutcome {
  std::vector<SweepPointResult> points;
  int recommended = -1;  // index into points; -1: none met the bound
  RunResult last_run;    // the recommended point's last run (else the last run), for the report
};

// Median of the points' runs; the recommendation is the sustainable point of highest throughput
// whose p99 <= p99_bound_ms (ties: lower p99).
void Summarize(SweepPointResult& point);
int Recommend(const std::vector<SweepPointResult>& points, double p99_bound_ms);

using RunFunction = std::function<RunResult(const LoadTestOptions&)>;
// Runs every point `runs` times with `run` (RunLoadTest in production; a fake in tests). Stops
// early, with what it has, when `stopped()` turns true.
SweepOutcome RunSweep(const LoadTestOptions& base, const std::vector<SweepAxis>& axes, int runs,
                      double p99_bound_ms, const RunFunction& run,
                      const std::function<bool()>& stopped, FILE* log);

std::string SettingLabel(const SweepSetting& s);
// The mirror YAML to use for a point (its `mirror:` settings), and the rate line when swept.
std::string MirrorSnippet(const SweepSetting& s);
std::vector<SweepPoint> ForReport(const SweepOutcome& outcome);
nlohmann::json SweepJson(const SweepOutcome& outcome, double p99_bound_ms);
// The table of points and the recommendation with its mirror YAML snippet, for the terminal.
std::string SweepSummaryText(const SweepOutcome& outcome, double p99_bound_ms);

}  // namespace rm::loadtest

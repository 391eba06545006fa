// What one load-test run measured: the per-interval series, the whole-run histograms, the
// verification verdict, the machine's CPU and the mirror's own metrics. The runner fills it;
// report.h turns it into report.json and report.html.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "loadtest/generator.h"
#include "loadtest/histogram.h"
#include "loadtest/machine_cpu.h"
#include "loadtest/rate_search.h"
#include "loadtest/sequence_checker.h"

namespace rm::loadtest {

// One interval (1 s) of the run, warm-up included.
struct IntervalSample {
  double t_s = 0;  // end of the interval, seconds since the schedule's start
  bool warmup = false;
  double publish_rate = 0;  // records/s handed to the source
  double consume_rate = 0;  // records/s verified on the target
  double publish_mb_s = 0;
  double consume_mb_s = 0;
  int64_t backlog = 0;  // sent and not yet verified, at the end of the interval
  // End-to-end latency (from the intended send time) of the records that arrived in it, ms.
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, p999_ms = 0, max_ms = 0;
  double p99_from_send_ms = 0;
  double max_schedule_delay_ms = 0;  // how far sends fell behind during the interval
  double cpu_cores = 0;              // whole machine
  double mirror_rate = -1;           // records/s the mirror reports copied (-1: not scraped)
  double mirror_lag = -1;            // its rm_mirror_lag_records, summed
};

struct RunResult {
  nlohmann::json settings;  // workload, where, client settings, mirror YAML
  std::vector<IntervalSample> intervals;
  double measured_seconds = 0;  // the window after the warm-up
  double publish_rate = 0;      // records/s over that window
  double consume_rate = 0;
  double publish_mb_s = 0;
  double consume_mb_s = 0;
  LatencyHistogram from_intended_us;  // after the warm-up
  LatencyHistogram from_sent_us;
  GeneratorTotals generator;  // its schedule_delay_us over the whole run
  Verification verification;
  CpuUse cpu;             // over the measured window
  nlohmann::json mirror;  // the mirror's metrics over the window ({} when not scraped)
  // What chaos did, in order: {"t": seconds since the schedule's start, "what": ...}.
  nlohmann::json chaos_events = nlohmann::json::array();
  // producerRate 0: the search's steps, and the rate it found (the measured window ran at it).
  std::vector<RateStep> rate_search;
  double max_sustainable_rate = 0;
  // consumerBacklogSizeGB > 0: the backlog built with the consumers paused, and its drain.
  struct Backlog {
    int64_t requested_records = 0;  // consumerBacklogSizeGB x 2^30 / messageSize
    int64_t built_records = 0;      // waiting when the consumers resumed
    double build_seconds = 0;
    bool drained = false;     // down to the drain ratio's level before the drain timeout
    int64_t drain_level = 0;  // the backlog that counts as drained
    double drain_seconds = 0;
    int64_t drained_records = 0;  // verified during the drain
    double drain_rate = 0;        // drained_records / drain_seconds
  };
  std::optional<Backlog> backlog;
  bool interrupted = false;           // SIGINT/SIGTERM cut it short
  bool fell_behind = false;           // sends were late by more than the tolerance at the end
  bool backlog_grew = false;          // the target fell behind and did not catch up by the end
  std::vector<std::string> problems;  // why the run failed; empty when it passed
  bool ok() const { return problems.empty(); }
};

}  // namespace rm::loadtest

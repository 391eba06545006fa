// The load test end to end: where it runs (its own testbed and mirror, or running clusters), the
// generator and the verifier, the per-interval figures and the progress line.
//
// Threading: Run() blocks the calling thread for the whole run; `stop` (set by a signal handler
// thread, see apps/loadtest_cmd.cc) ends it early, and everything it started (testbed, mirror
// child, clients) is stopped before it returns, also on an exception.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "loadtest/rate_search.h"
#include "loadtest/run_result.h"
#include "loadtest/workload.h"

namespace rm::loadtest {

struct LoadTestOptions {
  Workload workload;
  // Overrides of the workload's durations, seconds (< 0: use the workload's minutes).
  double duration_s = -1;
  double warmup_s = -1;
  // Running clusters: both set, or neither (then a two-region testbed starts in-process and a
  // mirror child with it). Default: "" (testbed)
  std::string source_bootstrap;
  std::string target_bootstrap;
  // With running clusters: the mirror's admin address to scrape ("" : no mirror metrics).
  std::string mirror_admin;
  // Region names (testbed) and the source alias in remote topic names. Default: us-east, eu-west
  std::string source_region = "us-east";
  std::string target_region = "eu-west";
  // Topic names are <topic_prefix>-<i>; the target copy is <source_region>.<name> (the mirror's
  // default replication policy). Default: "loadtest"
  std::string topic_prefix = "loadtest";
  // Copy nothing: produce and consume on the source cluster (the harness's own ceiling).
  bool no_mirror = false;
  // The regionmirror binary to start the mirror from. Default: this executable
  std::string mirror_binary;
  // Where the mirror's config, log and RocksDB go, and report.json/.html. Default: "loadtest-out"
  std::string out_dir = "loadtest-out";
  // After the last send, how long the target may take to deliver everything. Default: 30 s
  std::chrono::milliseconds drain_timeout{30000};
  // Sends later than this at the end of the run mark it unsustainable. Default: 1 s
  std::chrono::milliseconds behind_tolerance{1000};
  // Chaos (testbed only): SIGKILL the mirror and start it again at random moments, every
  // chaos_min..chaos_max apart (the first after one such wait), so the verifier proves the run
  // lost and duplicated nothing across the restarts. Default: off
  bool chaos = false;
  std::chrono::milliseconds chaos_min{8000};
  std::chrono::milliseconds chaos_max{15000};
  // Also take one source broker down for chaos_broker_down at one random moment. Default: off
  bool chaos_broker = false;
  std::chrono::milliseconds chaos_broker_down{3000};
  // Seed of the moments (the report records it). Default: 0 (from the clock)
  uint64_t chaos_seed = 0;
  // producerRate 0 (OMB: find the maximum): the search's bounds. The search runs first; the
  // warm-up and the measured duration then run at the highest sustainable rate it found.
  RateSearchOptions rate_search;
  // Where the progress line goes; nullptr: none. A terminal gets one live line.
  FILE* progress = stderr;
  // Test hooks: a stalled sender (generator.h) and a stalled verifier.
  int64_t stall_sender_after_records = 0;
  std::chrono::milliseconds stall_sender{0};
  double stall_verifier_at_s = -1;  // seconds after the schedule's start
  std::chrono::milliseconds stall_verifier{0};
  double verifier_max_rate = 0;  // records/s the verifier reads at most (0: no limit)
};

// Runs the test; throws common::ConfigError for bad options or an environment that cannot
// start (naming what). The result says whether the run passed.
RunResult RunLoadTest(const LoadTestOptions& options, const std::atomic<bool>& stop);

// The mirror YAML the harness writes for its testbed (exposed for tests and the sweep).
std::string MirrorYamlFor(const LoadTestOptions& options, const std::string& source_bootstrap,
                          const std::string& target_bootstrap, const std::string& offsets_dir);

}  // namespace rm::loadtest

// `regionmirror loadtest`: honest end-to-end figures for a region pair (loadtest/). Flags only;
// the work is rm::loadtest's.
#include <fmt/format.h>
#include <gflags/gflags.h>

#include <signal.h>

#include <atomic>
#include <thread>

#include "apps/subcommands.h"
#include "common/result.h"
#include "common/service.h"
#include "loadtest/report.h"
#include "loadtest/runner.h"
#include "loadtest/sweep.h"
#include "loadtest/workload.h"

DEFINE_string(workload, "", "OpenMessaging Benchmark workload YAML (flags below override it).");
DEFINE_double(rate, 1000,
              "Records/s over all producers (OMB producerRate; 0: find the maximum sustainable "
              "rate with a bounded search, then run --duration at it).");
DEFINE_double(search_start_rate, 10000, "--rate 0: the search's first rate, records/s.");
DEFINE_double(search_max_rate, 0, "--rate 0: no step above this, records/s (0: no ceiling).");
DEFINE_int32(search_steps, 10, "--rate 0: steps at most (the best rate found so far wins).");
DEFINE_int32(search_step_s, 4, "--rate 0: seconds per step, the first one not judged (>= 2).");
DEFINE_int32(topic_count, 1, "Topics (OMB topics).");
DEFINE_int32(partitions, 6, "Partitions per topic (OMB partitionsPerTopic).");
DEFINE_int32(message_size, 1024, "Bytes per record, at least 40 (OMB messageSize).");
DEFINE_int32(producers, 1, "Producers per topic (OMB producersPerTopic).");
DEFINE_string(key_distributor, "NO_KEY", "NO_KEY, KEY_ROUND_ROBIN or RANDOM_NANO.");
DEFINE_double(duration, 60, "Seconds of load (OMB testDurationMinutes x 60).");
DEFINE_double(warmup, 0, "Seconds at the start left out of the figures (still verified).");
DEFINE_string(source_bootstrap, "",
              "Run against these clusters (with --target_bootstrap) and a mirror run separately, "
              "instead of a testbed and a mirror of our own.");
DEFINE_string(target_bootstrap, "", "The target cluster (see --source_bootstrap).");
DEFINE_string(mirror_admin, "", "host:port of the separately run mirror's admin API, to scrape.");
DEFINE_string(source_alias, "us-east",
              "The source cluster's alias: remote topics are <alias>.<topic> (testbed: the "
              "source region's name).");
DEFINE_int32(rtt_ms, 0, "Testbed: extra round-trip time of the source region's brokers, ms.");
DEFINE_bool(no_mirror, false,
            "Produce and consume on the source cluster, no mirror: the harness's own ceiling.");
DEFINE_string(out, "loadtest-out",
              "Directory for report.json, report.html and the mirror's files.");
DEFINE_double(drain_timeout, 30, "Seconds the target may take to catch up after the last send.");
DEFINE_string(sweep, "",
              "Run a grid of settings instead of one run, e.g. "
              "\"rate=5000,20000;linger.ms=1,5,20;fetch.wait.max.ms=2,10\" (see loadtest/sweep.h "
              "for the keys), and recommend the fastest whose p99 meets --p99_ms.");
DEFINE_bool(chaos, false,
            "SIGKILL the mirror and restart it at random moments (testbed); the run fails on any "
            "loss or duplicate.");
DEFINE_double(chaos_min, 8, "Seconds between chaos kills, at least.");
DEFINE_double(chaos_max, 15, "Seconds between chaos kills, at most.");
DEFINE_bool(chaos_broker, false, "Also take a source broker down for 3 s at a random moment.");
DEFINE_uint64(chaos_seed, 0, "Seed of the chaos moments (0: from the clock; the report has it).");
DEFINE_int32(sweep_runs, 3, "Runs per sweep point (the median counts); at least 3.");
DEFINE_double(p99_ms, 100, "The sweep's bound on end-to-end p99, ms.");

namespace rm::apps {
namespace {

// clang-format off
std::vector<std::string> LoadTestFlags() {
  return {"workload", "rate", "topic_count", "partitions", "message_size", "producers",
          "key_distributor", "duration", "warmup", "source_bootstrap", "target_bootstrap",
          "mirror_admin", "source_alias", "rtt_ms", "no_mirror", "out", "drain_timeout", "sweep",
          "sweep_runs", "p99_ms", "chaos", "chaos_min", "chaos_max", "chaos_broker", "chaos_seed",
          "search_start_rate", "search_max_rate", "search_steps", "search_step_s"};
}
// clang-format on

bool IsSet(const char* flag) { return !gflags::GetCommandLineFlagInfoOrDie(flag).is_default; }

int RunLoadTestCommand(const std::vector<std::string>&) {
  loadtest::LoadTestOptions o;
  loadtest::Workload& w = o.workload;
  if (!FLAGS_workload.empty()) {
    w = loadtest::LoadWorkloadFile(FLAGS_workload);
    for (const auto& warning : w.warnings) fmt::print(stderr, "warning: {}\n", warning);
  } else {
    w.test_duration_minutes = FLAGS_duration / 60;
  }
  if (FLAGS_workload.empty() || IsSet("rate")) w.producer_rate = FLAGS_rate;
  if (FLAGS_workload.empty() || IsSet("topic_count")) w.topics = FLAGS_topic_count;
  if (FLAGS_workload.empty() || IsSet("partitions")) w.partitions_per_topic = FLAGS_partitions;
  if (FLAGS_workload.empty() || IsSet("message_size")) w.message_size = FLAGS_message_size;
  if (FLAGS_workload.empty() || IsSet("producers")) w.producers_per_topic = FLAGS_producers;
  if (IsSet("rtt_ms")) w.replication.rtt_ms = FLAGS_rtt_ms;
  if (FLAGS_workload.empty() || IsSet("key_distributor")) {
    auto k = loadtest::ParseKeyDistributor(FLAGS_key_distributor);
    if (!k) {
      throw common::ConfigError(
          fmt::format("--key_distributor: '{}' is not NO_KEY, KEY_ROUND_ROBIN or RANDOM_NANO",
                      FLAGS_key_distributor));
    }
    w.key_distributor = *k;
  }
  if (IsSet("duration") || FLAGS_workload.empty()) o.duration_s = FLAGS_duration;
  if (IsSet("warmup") || FLAGS_workload.empty()) o.warmup_s = FLAGS_warmup;
  o.source_bootstrap = FLAGS_source_bootstrap;
  o.target_bootstrap = FLAGS_target_bootstrap;
  o.mirror_admin = FLAGS_mirror_admin;
  o.source_region = FLAGS_source_alias;
  o.no_mirror = FLAGS_no_mirror;
  o.out_dir = FLAGS_out;
  if (!(FLAGS_drain_timeout > 0)) {
    throw common::ConfigError(fmt::format("--drain_timeout: {} is not a positive number of seconds",
                                          FLAGS_drain_timeout));
  }
  o.drain_timeout = std::chrono::milliseconds(static_cast<int64_t>(FLAGS_drain_timeout * 1000));
  if (!(FLAGS_search_start_rate > 0) || FLAGS_search_max_rate < 0 || FLAGS_search_steps < 1 ||
      FLAGS_search_step_s < 2) {
    throw common::ConfigError(
        "--search_start_rate must be positive, --search_max_rate at least 0, --search_steps at "
        "least 1 and --search_step_s at least 2");
  }
  o.rate_search.start_rate = FLAGS_search_start_rate;
  o.rate_search.max_rate = FLAGS_search_max_rate;
  o.rate_search.max_steps = FLAGS_search_steps;
  o.rate_search.step_intervals = FLAGS_search_step_s;
  o.chaos = FLAGS_chaos;
  o.chaos_broker = FLAGS_chaos_broker;
  o.chaos_seed = FLAGS_chaos_seed;
  o.chaos_min = std::chrono::milliseconds(static_cast<int64_t>(FLAGS_chaos_min * 1000));
  o.chaos_max = std::chrono::milliseconds(static_cast<int64_t>(FLAGS_chaos_max * 1000));

  std::vector<loadtest::SweepAxis> axes;
  if (!FLAGS_sweep.empty()) {
    axes = loadtest::ParseSweepSpec(FLAGS_sweep);
    if (FLAGS_sweep_runs < 3) {
      throw common::ConfigError(
          fmt::format("--sweep_runs: {} is below 3 (a median needs them)", FLAGS_sweep_runs));
    }
  }

  std::atomic<bool> stop{false};
  std::atomic<bool> done{false};
  loadtest::RunResult result;
  loadtest::SweepOutcome sweep;
  std::exception_ptr failure;
  std::thread runner([&] {
    try {
      if (axes.empty()) {
        result = loadtest::RunLoadTest(o, stop);
      } else {
        sweep = loadtest::RunSweep(
            o, axes, FLAGS_sweep_runs, FLAGS_p99_ms,
            [&stop](const loadtest::LoadTestOptions& point) {
              return loadtest::RunLoadTest(point, stop);
            },
            [&stop] { return stop.load(); }, stderr);
      }
    } catch (...) {
      failure = std::current_exception();
    }
    done = true;
  });
  while (!done.load()) {
    int sig = common::WaitForSignal(std::chrono::milliseconds(200));
    if (sig == SIGINT || sig == SIGTERM) {
      fmt::print(stderr, "\nregionmirror loadtest: signal {}: stopping\n", sig);
      stop = true;
    }
  }
  runner.join();
  if (failure) std::rethrow_exception(failure);
  if (!axes.empty()) {
    loadtest::WriteReport(o.out_dir, sweep.last_run, {{"sweep", SweepJson(sweep, FLAGS_p99_ms)}},
                          ForReport(sweep));
    fmt::print("{}report: {}/report.json, {}/report.html\n",
               loadtest::SweepSummaryText(sweep, FLAGS_p99_ms), o.out_dir, o.out_dir);
    return sweep.recommended >= 0 && !stop.load() ? 0 : 1;
  }
  loadtest::WriteReport(o.out_dir, result);
  fmt::print("{}report: {}/report.json, {}/report.html\n", loadtest::SummaryText(result), o.out_dir,
             o.out_dir);
  return result.ok() ? 0 : 1;
}

}  // namespace

std::vector<common::Subcommand> LoadTestSubcommands() {
  return {{"loadtest",
           "Load a region pair on a fixed schedule and verify every record arrived once and in "
           "order on the target; reports throughput, end-to-end latency (from the intended send "
           "time), lag, CPU and the mirror's metrics in report.json and report.html. Starts its "
           "own testbed and mirror unless --source_bootstrap/--target_bootstrap are given.",
           "", LoadTestFlags(), RunLoadTestCommand,
           /*handles_signals=*/true}};
}

}  // namespace rm::apps

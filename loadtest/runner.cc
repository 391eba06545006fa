#include "loadtest/runner.h"

#include <fmt/format.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <thread>

#include "common/config_reader.h"
#include "common/log.h"
#include "common/result.h"
#include "loadtest/generator.h"
#include "loadtest/mirror_metrics.h"
#include "loadtest/mirror_process.h"
#include "loadtest/progress.h"
#include "loadtest/record_format.h"
#include "loadtest/verifier.h"
#include "testbed/testbed.h"

namespace rm::loadtest {
namespace {

using namespace std::chrono_literals;
using common::ConfigError;

constexpr int64_t kIntervalNs = 1'000'000'000;

std::vector<std::string> Payloads(const Workload& w) {
  size_t size = static_cast<size_t>(std::max<int>(w.message_size, kRecordHeaderSize));
  std::string base(size, '\0');
  if (!w.payload_file.empty()) {
    base = common::ReadConfigFile(w.payload_file);
    if (base.size() < kRecordHeaderSize) base.resize(kRecordHeaderSize, '\0');
  }
  if (!w.use_randomized_payloads) return {base};
  const int pool = w.randomized_payload_pool_size > 0 ? w.randomized_payload_pool_size : 1000;
  std::mt19937_64 rng(42);
  std::vector<std::string> out;
  out.reserve(pool);
  const size_t random_bytes = static_cast<size_t>(w.random_bytes_ratio * base.size());
  for (int i = 0; i < pool; ++i) {
    std::string p = base;
    // OMB's layout: randomBytesRatio of the value random at its start, the rest as the base
    // (zeros); the stamp then overwrites the first 40 bytes.
    for (size_t b = 0; b < random_bytes && b < p.size(); ++b) {
      p[b] = static_cast<char>(rng() & 0xff);
    }
    out.push_back(std::move(p));
  }
  return out;
}

// Merges `over` into `base`: maps key by key (one level down for consumer/producer), else
// replaced.
void MergeYaml(YAML::Node base, const YAML::Node& over) {
  if (!over || !over.IsMap()) return;
  for (const auto& kv : over) {
    if (!kv.first.IsScalar()) {  // kept as it is: the mirror's loader reports it
      base[kv.first] = kv.second;
      continue;
    }
    const auto key = kv.first.as<std::string>();
    if (kv.second.IsMap() && base[key] && base[key].IsMap()) {
      for (const auto& inner : kv.second) {
        if (inner.first.IsScalar()) {
          base[key][inner.first.as<std::string>()] = inner.second;
        } else {
          base[key][inner.first] = inner.second;  // as above
        }
      }
    } else {
      base[key] = kv.second;
    }
  }
}

double Ms(int64_t us) { return static_cast<double>(us) / 1000.0; }

nlohmann::json SettingsJson(const LoadTestOptions& o, double duration_s, double warmup_s,
                            const std::string& mirror_yaml) {
  const Workload& w = o.workload;
  nlohmann::json j;
  j["workload"] = {{"name", w.name},
                   {"topics", w.topics},
                   {"partitionsPerTopic", w.partitions_per_topic},
                   {"messageSize", w.message_size},
                   {"payloadFile", w.payload_file},
                   {"useRandomizedPayloads", w.use_randomized_payloads},
                   {"randomBytesRatio", w.random_bytes_ratio},
                   {"randomizedPayloadPoolSize", w.randomized_payload_pool_size},
                   {"keyDistributor", KeyDistributorName(w.key_distributor)},
                   {"producersPerTopic", w.producers_per_topic},
                   {"producerRate", w.producer_rate},
                   {"consumerBacklogSizeGB", w.consumer_backlog_size_gb},
                   {"backlogDrainRatio", w.backlog_drain_ratio},
                   {"testDurationSeconds", duration_s},
                   {"warmupDurationSeconds", warmup_s}};
  j["where"] = o.source_bootstrap.empty() ? "testbed" : "clusters";
  j["mirror"] = !o.no_mirror;
  j["rttMs"] = w.replication.rtt_ms;
  j["producer"] = w.replication.producer;
  j["consumer"] = w.replication.consumer;
  j["mirrorYaml"] = mirror_yaml;
  j["cores"] = std::thread::hardware_concurrency();
  return j;
}

nlohmann::json MirrorSummary(const MetricsSample& a, const MetricsSample& b, double seconds,
                             double max_lag, double max_inflight, double max_paused) {
  auto delta = [&](const char* name) { return b.Sum(name) - a.Sum(name); };
  nlohmann::json j;
  j["recordsCopied"] = delta("rm_mirror_records_copied_total");
  j["bytesCopied"] = delta("rm_mirror_bytes_copied_total");
  j["copyRate"] = seconds > 0 ? delta("rm_mirror_records_copied_total") / seconds : 0;
  j["errors"] = delta("rm_mirror_errors_total");
  j["rebalances"] = delta("rm_mirror_rebalances_total");
  j["recordsSkipped"] = delta("rm_mirror_records_skipped_total");
  j["maxLagRecords"] = max_lag;
  j["maxInflightRecords"] = max_inflight;
  j["maxPausedPartitions"] = max_paused;
  for (double p : {50.0, 99.0, 99.9}) {
    auto v = LatencyPercentileBetween(a, b, p);
    j[fmt::format("replicationLatency{}pctMaxMs", p == 99.9 ? "999" : fmt::format("{:.0f}", p))] =
        v && std::isfinite(*v) ? nlohmann::json(*v * 1000) : nlohmann::json(nullptr);
  }
  return j;
}

}  // namespace

std::string MirrorYamlFor(const LoadTestOptions& o, const std::string& source_bootstrap,
                          const std::string& target_bootstrap, const std::string& offsets_dir) {
  YAML::Node root;
  YAML::Node src;
  src["alias"] = o.source_region;
  src["bootstrap_servers"] = source_bootstrap;
  YAML::Node dst;
  dst["alias"] = o.target_region;
  dst["bootstrap_servers"] = target_bootstrap;
  root["clusters"].push_back(src);
  root["clusters"].push_back(dst);
  YAML::Node flow;
  flow["source"] = o.source_region;
  flow["target"] = o.target_region;
  for (int i = 0; i < o.workload.topics; ++i) {
    flow["topics"].push_back(fmt::format("{}-{}", o.topic_prefix, i));
  }
  root["flows"].push_back(flow);
  YAML::Node m;
  m["refresh_interval_ms"] = 1000;
  m["commit_interval_ms"] = 500;
  m["group_prefix"] = fmt::format("rm-loadtest-{}", getpid());
  m["drain_timeout_ms"] = 10000;
  // The testbed's mock answers a fetch only after fetch.wait.max.ms, so it is part of every
  // record's latency there; 10 ms as DESIGN.md advises. session.timeout.ms above the mock's 3 s.
  m["consumer"]["fetch.wait.max.ms"] = "10";
  m["consumer"]["session.timeout.ms"] = "6000";
  m["consumer"]["heartbeat.interval.ms"] = "1000";
  m["producer"]["linger.ms"] = "5";
  m["producer"]["compression.type"] = "lz4";
  if (o.chaos) {
    // After a kill -9 the next instance waits up to takeover_wait_ms for the records the dead
    // one had reserved (mirror/README.md, fencing), 10 s by default: with a kill every
    // chaos_min..chaos_max that is most of the run. The harness reaps each killed process
    // before it starts the next, so no paused owner can still write; 1 s lets the brokers
    // finish requests the dead process had already sent. A `replication.mirror` block wins.
    m["takeover_wait_ms"] = 1000;
  }
  root["mirror"] = m;
  MergeYaml(root["mirror"], o.workload.replication.mirror);
  if (!offsets_dir.empty()) root["offsets"]["dir"] = offsets_dir;
  root["admin"]["bind"] = "127.0.0.1";
  root["admin"]["port"] = 0;
  YAML::Emitter out;
  out << root;
  return std::string(out.c_str()) + "\n";
}

RunResult RunLoadTest(const LoadTestOptions& o, const std::atomic<bool>& stop) {
  const Workload& w = o.workload;
  common::ThrowIfProblems("workload", {}, ValidateWorkload(w));
  if (o.source_bootstrap.empty() != o.target_bootstrap.empty() && !o.no_mirror) {
    throw ConfigError(
        "--source-bootstrap and --target-bootstrap go together (or neither: testbed)");
  }
  const double duration_s = o.duration_s >= 0 ? o.duration_s : w.test_duration_minutes * 60;
  const double warmup_s = o.warmup_s >= 0 ? o.warmup_s : w.warmup_duration_minutes * 60;
  if (!(duration_s > 0))
    throw ConfigError(fmt::format("duration: {} s is not positive", duration_s));
  if (warmup_s < 0 || warmup_s >= duration_s) {
    throw ConfigError(fmt::format(
        "warm-up: {} s must be at least 0 and shorter than the run ({} s)", warmup_s, duration_s));
  }
  const bool testbed_mode = o.source_bootstrap.empty();
  if (!testbed_mode && w.replication.rtt_ms > 0) {
    throw ConfigError(
        "--rtt-ms needs the testbed (it sets the testbed's broker RTT); a real link "
        "has its own");
  }
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) throw ConfigError(fmt::format("--out: cannot create {}: {}", o.out_dir, ec.message()));
  const std::string out_dir = std::filesystem::absolute(o.out_dir).string();

  std::vector<std::string> topics, target_topics;
  for (int i = 0; i < w.topics; ++i) {
    topics.push_back(fmt::format("{}-{}", o.topic_prefix, i));
    target_topics.push_back(o.no_mirror ? topics.back()
                                        : fmt::format("{}.{}", o.source_region, topics.back()));
  }

  // Declared in start order: destroyed in reverse, clients before the mirror before the testbed.
  std::unique_ptr<testbed::Testbed> tb;
  std::unique_ptr<MirrorProcess> mirror;
  std::string source = o.source_bootstrap, target = o.target_bootstrap, admin = o.mirror_admin;
  std::string mirror_yaml;
  std::function<std::unique_ptr<MirrorProcess>(int)> start_mirror;
  if ((o.chaos || o.chaos_broker) && (!testbed_mode || o.no_mirror)) {
    throw ConfigError("--chaos needs the testbed and its mirror (it kills and restarts them)");
  }
  if (o.chaos && (o.chaos_min.count() <= 0 || o.chaos_max < o.chaos_min)) {
    throw ConfigError("chaos: the interval between kills must be positive, min <= max");
  }
  if (testbed_mode) {
    tb = std::make_unique<testbed::Testbed>(
        testbed::TestbedOptions{{o.source_region, o.target_region}, 3});
    for (int i = 0; i < w.topics; ++i) {
      auto st = tb->CreateTopic(o.source_region, topics[i], w.partitions_per_topic);
      if (st.ok() && !o.no_mirror) {
        // The mock does not serve CreateTopics: make the copies the mirror would create.
        st = tb->CreateTopic(o.target_region, target_topics[i], w.partitions_per_topic);
      }
      if (!st.ok()) throw ConfigError(fmt::format("testbed: {}", st.error().message));
    }
    if (w.replication.rtt_ms > 0) {
      // The link sits between the source region and the mirror (which runs near its target, as
      // MirrorMaker deployments do): every source broker answers rtt_ms later.
      for (int b = 1; b <= 3; ++b) {
        auto st = tb->SetBrokerRtt(o.source_region, b, w.replication.rtt_ms);
        if (!st.ok()) throw ConfigError(fmt::format("testbed: {}", st.error().message));
      }
    }
    source = *tb->BootstrapServers(o.source_region);
    target = *tb->BootstrapServers(o.target_region);
    if (!o.no_mirror) {
      mirror_yaml = MirrorYamlFor(o, source, target, "");
      const std::string config = out_dir + "/mirror.yaml";
      {
        std::ofstream f(config, std::ios::trunc);
        f << mirror_yaml;
        if (!f) throw ConfigError(fmt::format("cannot write {}", config));
      }
      for (const auto& entry : std::filesystem::directory_iterator(out_dir, ec)) {
        // This run's logs only: mirror.log, and mirror-<n>.log after chaos restarts.
        const std::string name = entry.path().filename().string();
        if (name.rfind("mirror", 0) == 0 && entry.path().extension() == ".log") {
          std::filesystem::remove(entry.path(), ec);
        }
      }
      start_mirror = [&o, config, out_dir](int n) {
        const std::string path =
            n == 0 ? out_dir + "/mirror.log" : fmt::format("{}/mirror-{}.log", out_dir, n);
        auto m = std::make_unique<MirrorProcess>(
            o.mirror_binary.empty() ? SelfExecutable() : o.mirror_binary, config, path);
        RM_LOG_INFO("loadtest: mirror started (pid {}, log {})", m->pid(), path);
        return m;
      };
    }
  }
  // consumerBacklogSizeGB: the consumers (the verifier, and the harness's own mirror) stay
  // paused until the backlog is there; the mirror starts when the drain begins.
  const bool with_backlog = w.consumer_backlog_size_gb > 0;
  if (with_backlog && (o.chaos || o.chaos_broker)) {
    throw ConfigError("consumerBacklogSizeGB and --chaos do not go together");
  }
  if (start_mirror && !with_backlog) {
    {
      const std::string log = out_dir + "/mirror.log";
      mirror = start_mirror(0);
      // Ready when it copies every partition: measuring earlier would count its group join
      // (~3 s on the mock) as latency.
      const int partitions = w.topics * w.partitions_per_topic;
      auto deadline = std::chrono::steady_clock::now() + 60s;
      while (mirror->ResumedPartitions() < partitions) {
        if (!mirror->Running()) {
          throw ConfigError(
              fmt::format("the mirror exited at start (log {}):\n{}", log, mirror->LogTail()));
        }
        if (stop.load()) break;
        if (std::chrono::steady_clock::now() > deadline) {
          throw ConfigError(
              fmt::format("the mirror did not take its {} partitions within 60 s (log {}):\n{}",
                          partitions, log, mirror->LogTail()));
        }
        std::this_thread::sleep_for(50ms);
      }
      admin = mirror->AdminAddress();
    }
  }
  if (o.no_mirror) target = source;

  RunResult r;
  r.settings = SettingsJson(o, duration_s, warmup_s, mirror_yaml);
  r.settings["topics"] = topics;
  r.settings["targetTopics"] = target_topics;
  r.settings["mirrorAdmin"] = admin;

  // producerRate 0: the search runs first, then the warm-up and the measured duration at the
  // rate it found; until then the window's bounds are far away.
  std::optional<RateSearch> search;
  if (w.producer_rate == 0) search.emplace(o.rate_search);
  constexpr int64_t kFar = std::numeric_limits<int64_t>::max() / 4;
  const int64_t start_ns = SteadyNowNs() + 200'000'000;
  int64_t measure_ns = search ? kFar : start_ns + static_cast<int64_t>(warmup_s * 1e9);
  int64_t end_ns = search ? kFar : start_ns + static_cast<int64_t>(duration_s * 1e9);
  int64_t window_start_ns = start_ns;  // where the progress line's elapsed time counts from

  // A backlog phase, like the search, moves the measured window to where it ends.
  if (with_backlog) measure_ns = end_ns = kFar;
  VerifierOptions vo{target, target_topics, w.partitions_per_topic, w.replication.consumer,
                     measure_ns};
  if (o.stall_verifier_at_s >= 0) {
    vo.stall_at_ns = start_ns + static_cast<int64_t>(o.stall_verifier_at_s * 1e9);
    vo.stall = o.stall_verifier;
  }
  vo.max_rate = o.verifier_max_rate;
  Verifier verifier(vo);
  verifier.Start();
  // The backlog's phases: 0 none, 1 building (consumers paused), 2 draining, 3 done.
  int backlog_phase = 0;
  int64_t phase_start_ns = start_ns, recv_at_drain = 0;
  RunResult::Backlog backlog;
  if (with_backlog) {
    backlog_phase = 1;
    backlog.requested_records = std::max<int64_t>(
        1, static_cast<int64_t>(w.consumer_backlog_size_gb * 1073741824.0 / w.message_size));
    backlog.drain_level = std::max<int64_t>(
        1000, static_cast<int64_t>((1 - w.backlog_drain_ratio) * backlog.requested_records));
    verifier.Pause();
  }

  GeneratorOptions go;
  go.bootstrap = source;
  go.topics = topics;
  go.partitions = w.partitions_per_topic;
  go.producers_per_topic = w.producers_per_topic;
  go.rate = search ? search->rate() : w.producer_rate;
  go.keys = w.key_distributor;
  go.payloads = Payloads(w);
  go.producer = w.replication.producer;
  go.stall_after_records = o.stall_sender_after_records;
  go.stall = o.stall_sender;
  Generator generator(go);
  generator.Start(start_ns, end_ns);

  // Chaos acts once per interval, while records are still being sent.
  struct Chaos {
    const LoadTestOptions& o;
    RunResult& r;
    testbed::Testbed* tb;
    std::unique_ptr<MirrorProcess>& mirror;
    const std::function<std::unique_ptr<MirrorProcess>(int)>& start_mirror;
    std::string& admin;
    int64_t start_ns;
    std::mt19937_64 rng;
    int64_t next_kill_ns = 0;
    int64_t broker_down_at_ns = 0;
    int64_t broker_up_at_ns = 0;
    int restarts = 0;

    int64_t Wait() {
      std::uniform_int_distribution<int64_t> d(o.chaos_min.count(), o.chaos_max.count());
      return d(rng) * 1'000'000;
    }
    void Note(int64_t now, const std::string& what) {
      r.chaos_events.push_back({{"t", static_cast<double>(now - start_ns) / 1e9}, {"what", what}});
      RM_LOG_INFO("loadtest: chaos: {}", what);
    }
    void Step(int64_t now) {
      if (o.chaos && now >= next_kill_ns) {
        const pid_t old_pid = mirror->pid();
        mirror->Kill();
        mirror = start_mirror(++restarts);
        admin.clear();  // the new process picks another port: read from its log below
        Note(now, fmt::format("SIGKILL mirror pid {}, started pid {}", old_pid, mirror->pid()));
        next_kill_ns = now + Wait();
      }
      if (o.chaos_broker && tb) {
        if (broker_down_at_ns > 0 && now >= broker_down_at_ns) {
          broker_down_at_ns = 0;
          broker_up_at_ns = now + o.chaos_broker_down.count() * 1'000'000;
          if (auto st = tb->SetBrokerDown(o.source_region, 2); st.ok()) {
            Note(now, fmt::format("source broker 2 down for {} ms", o.chaos_broker_down.count()));
          }
        } else if (broker_up_at_ns > 0 && now >= broker_up_at_ns) {
          broker_up_at_ns = 0;
          if (auto st = tb->SetBrokerUp(o.source_region, 2); st.ok())
            Note(now, "source broker 2 up");
        }
      }
    }
  };
  const uint64_t seed =
      o.chaos_seed ? o.chaos_seed
                   : static_cast<uint64_t>(SteadyNowNs()) ^ (static_cast<uint64_t>(getpid()) << 32);
  Chaos chaos{o, r, tb.get(), mirror, start_mirror, admin, start_ns, std::mt19937_64(seed)};
  if (o.chaos) chaos.next_kill_ns = start_ns + chaos.Wait();
  if (o.chaos_broker) {
    std::uniform_real_distribution<double> at(0.2, 0.6);
    chaos.broker_down_at_ns = start_ns + static_cast<int64_t>(at(chaos.rng) * duration_s * 1e9);
  }
  if (o.chaos || o.chaos_broker) r.settings["chaosSeed"] = seed;

  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  Progress progress(o.progress, o.progress && isatty(fileno(o.progress)));
  std::optional<CpuTimes> cpu_prev = ReadCpuTimes(), cpu_measure_start, cpu_measure_end;
  std::optional<MetricsSample> metrics_prev, metrics_start, metrics_end;
  auto scrape = [&]() -> std::optional<MetricsSample> {
    if (admin.empty()) return std::nullopt;
    auto s = ScrapeMetrics(admin);
    if (!s.ok()) {
      RM_LOG_WARN("loadtest: {}", s.error().message);
      return std::nullopt;
    }
    return *s;
  };
  metrics_prev = scrape();
  int64_t prev_sent = 0, prev_bytes = 0, prev_recv = 0, prev_rbytes = 0;
  int64_t sent_at_measure = 0, recv_at_measure = 0, sent_at_end = -1;
  int64_t bytes_at_measure = 0, rbytes_at_measure = 0, bytes_at_end = 0;
  double max_lag = 0, max_inflight = 0, max_paused = 0;
  int64_t drain_deadline_ns = 0;
  bool measure_started = warmup_s == 0 && !search;
  if (measure_started) {
    cpu_measure_start = cpu_prev;
    metrics_start = metrics_prev;
  }
  LatencyHistogram p99_so_far;
  // The search's step under way: intervals done, and where its judged part began.
  struct {
    int intervals = 0;
    int64_t t0 = 0, sent0 = 0, backlog0 = 0;
  } step{0, start_ns, 0, 0};
  const int search_s = o.rate_search.max_steps * o.rate_search.step_intervals;
  double found_rate = 0;       // the search's result, once done
  int64_t settle_from_ns = 0;  // > 0: the backlog the search left is draining
  // After the search or the backlog: the warm-up and the measured duration start at `tick`.
  auto begin_measured_run = [&](int64_t tick) {
    window_start_ns = tick;
    measure_ns = tick + static_cast<int64_t>(warmup_s * 1e9);
    end_ns = tick + static_cast<int64_t>(duration_s * 1e9);
    generator.SetEnd(end_ns);
    verifier.SetMeasureFrom(measure_ns);
  };
  // How long building the backlog may take at the workload's rate, with room for a slow sender.
  const double build_limit_s =
      with_backlog ? 2.0 * static_cast<double>(backlog.requested_records) / w.producer_rate + 10
                   : 0;

  bool stop_early = false;  // the run cannot go on (a problem is recorded)
  int64_t prev_tick = start_ns;
  int restarts_at_prev = 0;
  for (int64_t next_tick = start_ns + kIntervalNs;; next_tick += kIntervalNs) {
    // Once everything sent has arrived, the last interval ends there and then (a shorter one).
    bool caught_up = false;
    while (SteadyNowNs() < next_tick && !stop.load() && !caught_up) {
      std::this_thread::sleep_for(
          std::chrono::nanoseconds(std::min<int64_t>(next_tick - SteadyNowNs(), 20'000'000)));
      caught_up = generator.done() && verifier.received() >= generator.sent();
    }
    if (stop.load()) {
      r.interrupted = true;
      generator.Stop();
      break;
    }
    if (stop_early) {
      generator.Stop();
      break;
    }
    const int64_t tick = caught_up ? SteadyNowNs() : next_tick;
    const double dt = std::max(static_cast<double>(tick - prev_tick) / 1e9, 1e-3);
    prev_tick = tick;
    const double t_s = static_cast<double>(tick - start_ns) / 1e9;
    IntervalSample s;
    s.t_s = t_s;
    s.warmup = tick <= measure_ns;
    const int64_t sent = generator.sent(), bytes = generator.bytes_sent();
    const int64_t recv = verifier.received(), rbytes = verifier.bytes();
    s.publish_rate = static_cast<double>(sent - prev_sent) / dt;
    s.consume_rate = static_cast<double>(recv - prev_recv) / dt;
    s.publish_mb_s = static_cast<double>(bytes - prev_bytes) / 1e6 / dt;
    s.consume_mb_s = static_cast<double>(rbytes - prev_rbytes) / 1e6 / dt;
    s.backlog = sent - recv;
    prev_sent = sent, prev_bytes = bytes, prev_recv = recv, prev_rbytes = rbytes;
    LatencyFigures lat = verifier.TakeInterval();
    s.p50_ms = Ms(lat.from_intended_us.Percentile(50));
    s.p90_ms = Ms(lat.from_intended_us.Percentile(90));
    s.p99_ms = Ms(lat.from_intended_us.Percentile(99));
    s.p999_ms = Ms(lat.from_intended_us.Percentile(99.9));
    s.max_ms = Ms(lat.from_intended_us.max());
    s.p99_from_send_ms = Ms(lat.from_sent_us.Percentile(99));
    if (!s.warmup) p99_so_far.Merge(lat.from_intended_us);
    s.max_schedule_delay_ms = static_cast<double>(generator.TakeMaxDelayNs()) / 1e6;
    auto cpu_now = ReadCpuTimes();
    if (cpu_now && cpu_prev) s.cpu_cores = CpuBetween(*cpu_prev, *cpu_now, cores).cores_busy;
    cpu_prev = cpu_now;
    if (admin.empty() && mirror) admin = mirror->AdminAddress();  // after a chaos restart
    auto m = scrape();
    if (m) {
      if (metrics_prev && chaos.restarts == restarts_at_prev) {
        s.mirror_rate = (m->Sum("rm_mirror_records_copied_total") -
                         metrics_prev->Sum("rm_mirror_records_copied_total")) /
                        dt;
      }
      s.mirror_lag = m->Sum("rm_mirror_lag_records");
      max_lag = std::max(max_lag, s.mirror_lag);
      max_inflight = std::max(max_inflight, m->Sum("rm_mirror_inflight_records"));
      max_paused = std::max(max_paused, m->Sum("rm_mirror_paused_partitions"));
      metrics_prev = m;
      restarts_at_prev = chaos.restarts;
    }
    if (search && !search->done()) {
      const RateSearchOptions& so = search->options();
      if (++step.intervals == so.settle_intervals) step = {step.intervals, tick, sent, s.backlog};
      if (step.intervals >= so.step_intervals) {
        const double rate = search->rate();
        search->Judge({static_cast<double>(tick - step.t0) / 1e9, sent - step.sent0, step.backlog0,
                       s.backlog, s.max_schedule_delay_ms});
        const RateStep& judged = search->steps().back();
        progress.Note(fmt::format("search: {:.0f} records/s {}", rate,
                                  judged.sustainable ? "sustainable" : "not: " + judged.why));
        step = {0, tick, sent, s.backlog};
        double next = search->rate();
        if (search->done()) {
          r.max_sustainable_rate = search->best();
          if (r.max_sustainable_rate > 0) {
            found_rate = r.max_sustainable_rate;
          } else {
            found_rate = search->steps().back().rate;
            for (const auto& st : search->steps()) found_rate = std::min(found_rate, st.rate);
          }
          // Steps above the maximum left a backlog: let it drain at half the rate first, so
          // the measured window starts from a steady state.
          next = found_rate / 2;
          settle_from_ns = tick;
        }
        generator.SetRate(next, tick);
      }
    } else if (settle_from_ns > 0) {
      const bool settled = static_cast<double>(s.backlog) <= std::max(1000.0, 0.1 * found_rate);
      if (settled || tick - settle_from_ns > 15 * kIntervalNs) {
        settle_from_ns = 0;
        progress.Note(
            fmt::format("maximum sustainable rate: {:.0f} records/s; measuring at it "
                        "for {} s",
                        found_rate, duration_s));
        generator.SetRate(found_rate, tick);
        begin_measured_run(tick);
      }
    }
    if (backlog_phase == 1 && s.backlog >= backlog.requested_records) {
      backlog.built_records = s.backlog;
      backlog.build_seconds = static_cast<double>(tick - phase_start_ns) / 1e9;
      progress.Note(fmt::format("backlog of {} records built in {:.1f} s; draining it", s.backlog,
                                backlog.build_seconds));
      if (start_mirror) {
        mirror = start_mirror(0);
        admin.clear();
      }
      verifier.Resume();
      backlog_phase = 2;
      phase_start_ns = tick;
      recv_at_drain = recv;
    } else if (backlog_phase == 1 &&
               static_cast<double>(tick - phase_start_ns) / 1e9 > build_limit_s) {
      r.problems.push_back(
          fmt::format("the backlog of {} records was not built in {:.0f} s "
                      "(sends fell behind the rate)",
                      backlog.requested_records, build_limit_s));
      stop_early = true;
    } else if (backlog_phase == 2) {
      const double drain_s = static_cast<double>(tick - phase_start_ns) / 1e9;
      const bool drained = s.backlog <= backlog.drain_level;
      if (drained || drain_s * 1000 > static_cast<double>(o.drain_timeout.count())) {
        backlog.drained = drained;
        backlog.drain_seconds = drain_s;
        backlog.drained_records = recv - recv_at_drain;
        backlog.drain_rate = static_cast<double>(backlog.drained_records) / drain_s;
        progress.Note(fmt::format("backlog {} in {:.1f} s: {} records verified, {:.0f} records/s",
                                  drained ? "drained" : "NOT drained", drain_s,
                                  backlog.drained_records, backlog.drain_rate));
        backlog_phase = 3;
        begin_measured_run(tick);
      }
    }
    if (!measure_started && tick >= measure_ns) {
      measure_started = true;
      cpu_measure_start = cpu_now;
      metrics_start = m;
      sent_at_measure = sent, recv_at_measure = recv;
      bytes_at_measure = bytes, rbytes_at_measure = rbytes;
    }
    if (sent_at_end < 0 && tick >= end_ns) {
      sent_at_end = sent, bytes_at_end = bytes;
      cpu_measure_end = cpu_now;
      // Unsustainable: sends still late, or the target more than a second behind, at the end.
      r.fell_behind = s.max_schedule_delay_ms > static_cast<double>(o.behind_tolerance.count());
      r.backlog_grew = static_cast<double>(s.backlog) > generator.rate() + 1000;
    }
    r.intervals.push_back(s);
    if (tick < end_ns) chaos.Step(tick);
    const bool sending_done = generator.done();
    if (sending_done && drain_deadline_ns == 0)
      drain_deadline_ns = tick + o.drain_timeout.count() * 1'000'000;
    ProgressState ps{std::min(static_cast<double>(tick - window_start_ns) / 1e9, duration_s),
                     duration_s,
                     s.consume_rate,
                     Ms(p99_so_far.Percentile(99)),
                     s.backlog,
                     sending_done};
    if ((search && !search->done()) || settle_from_ns > 0) {
      ps.phase = settle_from_ns > 0 ? "settling" : fmt::format("search {:.0f}/s", search->rate());
      ps.elapsed_s = t_s;
      ps.total_s = search_s;
    }
    progress.Update(ps);
    if (sending_done && recv >= generator.sent()) break;
    if (sending_done && tick >= drain_deadline_ns) break;
  }
  progress.Finish();
  metrics_end = scrape();

  r.generator = generator.Join();
  r.verification = verifier.Finish(r.generator.per_stream);
  const int retention_dropped = r.verification.lost > 0 ? verifier.RetentionDropped() : 0;
  verifier.Stop();
  LatencyFigures agg = verifier.Aggregated();
  r.from_intended_us = agg.from_intended_us;
  r.from_sent_us = agg.from_sent_us;
  if (sent_at_end < 0) sent_at_end = r.generator.sent, bytes_at_end = r.generator.bytes;
  const double window = duration_s - warmup_s;
  r.measured_seconds = window;
  r.publish_rate = static_cast<double>(sent_at_end - sent_at_measure) / window;
  r.publish_mb_s = static_cast<double>(bytes_at_end - bytes_at_measure) / 1e6 / window;
  // The target's rate over the same window, stretched to the last arrival when the records
  // sent at the end arrived after it.
  const double consume_window =
      std::max(window, static_cast<double>(verifier.last_arrival_ns() - measure_ns) / 1e9);
  r.consume_rate = static_cast<double>(verifier.received() - recv_at_measure) / consume_window;
  r.consume_mb_s = static_cast<double>(verifier.bytes() - rbytes_at_measure) / 1e6 / consume_window;
  if (cpu_measure_start) {
    auto to = cpu_measure_end ? cpu_measure_end : ReadCpuTimes();
    if (to) r.cpu = CpuBetween(*cpu_measure_start, *to, cores);
  }
  if (chaos.restarts > 0) {
    // Each restart starts the mirror's counters again: no whole-window deltas.
    r.mirror["restarts"] = chaos.restarts;
  } else if (metrics_start && metrics_end) {
    r.mirror = MirrorSummary(*metrics_start, *metrics_end, consume_window, max_lag, max_inflight,
                             max_paused);
  }
  if (mirror) {
    const int rc = mirror->Stop(15s);
    r.mirror["exitCode"] = rc;
    if (rc != 0 && !r.interrupted) {
      r.problems.push_back(
          fmt::format("the mirror exited with {} (log {}/mirror.log)", rc, out_dir));
    }
  }
  if (with_backlog) {
    r.backlog = backlog;
    if (!r.interrupted && backlog_phase == 3 && !backlog.drained) {
      r.problems.push_back(fmt::format("the backlog did not drain to {} records within {:.0f} s",
                                       backlog.drain_level, o.drain_timeout.count() / 1000.0));
    }
  }
  if (search) {
    r.rate_search = search->steps();
    if (!r.interrupted && r.max_sustainable_rate == 0) {
      r.problems.push_back(
          fmt::format("no sustainable rate found in {} steps (the lowest tried is in the report)",
                      search->steps().size()));
    }
  }
  if (r.interrupted) r.problems.push_back("interrupted before the end");
  if (r.generator.delivery_errors > 0) {
    r.problems.push_back(fmt::format("{} records failed to reach the source: {}",
                                     r.generator.delivery_errors, r.generator.first_error));
  }
  const Verification& v = r.verification;
  if (!r.interrupted && !v.ok()) {
    r.problems.push_back(fmt::format(
        "verification failed: {} lost, {} duplicated, {} reordered, {} misplaced (first: {})",
        v.lost, v.duplicates, v.reordered, v.misplaced, v.first_problem));
    if (retention_dropped > 0) {
      r.problems.push_back(fmt::format(
          "the target's retention deleted records of {} partitions during the run: records lost "
          "there may have been deleted before the verifier read them (the testbed keeps 5 MiB "
          "per partition: use more partitions, smaller records or a lower rate)",
          retention_dropped));
    }
  }
  return r;
}

}  // namespace rm::loadtest

// A randomized fault schedule over two mirror instances (one group, each with its offsets map,
// emitting offset syncs and checkpoints) copying under load: kill -9 and restart, SIGSTOP and
// SIGCONT, source and target brokers down and up, partition leader moves, RTT spikes and
// injected request errors, at random moments and overlapping. After each round every source
// record must be in the target exactly once, as kafka-python reads both (0 lost, 0 duplicated,
// in order, unchanged).
//
// Rounds: RM_FAULT_ROUNDS (default 3; scripts/fault-schedule.sh runs 20). Seed: RM_FAULT_SEED
// (default: random), printed; round r uses seed + r, so `RM_FAULT_SEED=<round seed>
// RM_FAULT_ROUNDS=1` replays one round's schedule (the same faults at the same times from the
// schedule's start; what the mirror is doing at those times still varies from run to run).
//
// A failed round ends its output with a short summary (seed, replay command, lost and duplicated
// per partition, which instance last took each partition that is missing records), so a log cut
// to its tail still says what failed. Every instance's full log is kept in RM_FAULT_KEEP_LOGS
// (a directory, for every round), else for a failed round only, in the temp directory; the
// summary names where.
//
// SIGSTOP pauses last at most kMaxStopMs, below the group's session timeout: an instance paused
// for longer loses its partitions while it still holds records in flight, and fencing such an
// instance is a separate item (issue 15 item 5) with its own test.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "mirror/flow_lease.h"
#include "testbed/control_client.h"
#include "tests/support/kafka_helpers.h"
#include "tests/support/mirror_helpers.h"
#include "tests/support/testbed_fixture.h"
#include "tests/util/fault_rounds.h"
#include "tests/util/test_util.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kPartitions = 12;
constexpr int kBrokers = 3;          // per region (ScopedTestbed's default), ids 1..3
constexpr int kFaultsPerRound = 10;  // over kScheduleMs
constexpr int64_t kScheduleMs = 20'000;
// Pauses stay well below the tests' session timeout (MirrorYaml): stopped for at most half of it,
// an instance has missed its heartbeats (every kTestHeartbeatIntervalMs) for at most
// kMaxStopMs + one interval, a second short of eviction.
constexpr int64_t kMaxStopMs = kTestSessionTimeoutMs / 2;
const char* kSource = "load";
const char* kTarget = "us-east.load";

// One fault: applied at `at_ms` after the schedule starts, undone `hold_ms` later (restart,
// SIGCONT, broker up, RTT back to 0); leader moves and request errors are not undone (errors
// are consumed by the requests they fail).
struct Fault {
  enum class Kind { kKill, kStop, kBrokerDown, kLeaderMove, kRtt, kErrors };
  Kind kind;
  int64_t at_ms = 0;
  int64_t hold_ms = 0;
  int instance = 0;    // kKill, kStop
  std::string region;  // broker faults, leader moves, errors
  int broker = 0;      // kBrokerDown, kRtt, kLeaderMove
  int partition = 0;   // kLeaderMove
  int rtt_ms = 0;      // kRtt
  std::string api;     // kErrors
  std::vector<std::string> errors;

  std::string resource() const {
    switch (kind) {
      case Kind::kKill:
      case Kind::kStop:
        return fmt::format("instance{}", instance);
      case Kind::kBrokerDown:
      case Kind::kRtt:
        return fmt::format("{}/{}", region, broker);
      default:
        return "";  // no state to undo: may overlap anything
    }
  }

  std::string Describe() const {
    switch (kind) {
      case Kind::kKill:
        return fmt::format("kill -9 instance {}, restart after {} ms", "ab"[instance], hold_ms);
      case Kind::kStop:
        return fmt::format("SIGSTOP instance {} for {} ms", "ab"[instance], hold_ms);
      case Kind::kBrokerDown:
        return fmt::format("{} broker {} down for {} ms", region, broker, hold_ms);
      case Kind::kLeaderMove:
        return fmt::format("{} {}[{}] leader -> broker {}", region,
                           region == "us-east" ? kSource : kTarget, partition, broker);
      case Kind::kRtt:
        return fmt::format("{} broker {} RTT {} ms for {} ms", region, broker, rtt_ms, hold_ms);
      case Kind::kErrors:
        return fmt::format("{} next {} {} request(s) fail: {}", region, errors.size(), api,
                           fmt::join(errors, ","));
    }
    return "";
  }
};

// The round's faults, from its seed alone. Faults on one resource (an instance, a broker) do
// not overlap; everything else may.
std::vector<Fault> MakeSchedule(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  auto pick = [&](const std::vector<std::string>& v) { return v[uniform(0, v.size() - 1)]; };
  std::vector<int64_t> times;
  for (int i = 0; i < kFaultsPerRound; ++i) times.push_back(uniform(0, kScheduleMs));
  std::sort(times.begin(), times.end());
  std::map<std::string, int64_t> busy_until;
  std::vector<Fault> out;
  for (int64_t at : times) {
    for (int attempt = 0; attempt < 10; ++attempt) {
      Fault f;
      f.kind = static_cast<Fault::Kind>(uniform(0, 5));
      f.at_ms = at;
      f.region = uniform(0, 1) ? "us-east" : "eu-west";
      f.instance = static_cast<int>(uniform(0, 1));
      f.broker = static_cast<int>(uniform(1, kBrokers));
      switch (f.kind) {
        case Fault::Kind::kKill:
          f.hold_ms = uniform(100, 3000);
          break;
        case Fault::Kind::kStop:
          f.hold_ms = uniform(200, kMaxStopMs);
          break;
        case Fault::Kind::kBrokerDown:
          f.hold_ms = uniform(500, 4000);
          break;
        case Fault::Kind::kLeaderMove:
          f.partition = static_cast<int>(uniform(0, kPartitions - 1));
          break;
        case Fault::Kind::kRtt:
          f.rtt_ms = static_cast<int>(uniform(50, 1000));
          f.hold_ms = uniform(1000, 4000);
          break;
        case Fault::Kind::kErrors: {
          // Retriable errors and, on produce, one the broker means for good (INVALID_RECORD):
          // the mirror must copy those records again, not skip them.
          bool source = f.region == "us-east";
          f.api = source ? pick({"Fetch", "OffsetCommit", "Heartbeat", "ListOffsets"})
                         : pick({"Produce", "Produce", "Metadata"});
          std::vector<std::string> kinds =
              f.api == "Produce"
                  ? std::vector<std::string>{"NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT",
                                             "NOT_ENOUGH_REPLICAS", "INVALID_RECORD"}
              : f.api == "Heartbeat"
                  ? std::vector<std::string>{"REBALANCE_IN_PROGRESS", "NOT_COORDINATOR"}
              : f.api == "OffsetCommit"
                  ? std::vector<std::string>{"REBALANCE_IN_PROGRESS", "REQUEST_TIMED_OUT",
                                             "NOT_COORDINATOR"}
                  : std::vector<std::string>{"NOT_LEADER_FOR_PARTITION", "REQUEST_TIMED_OUT",
                                             "LEADER_NOT_AVAILABLE"};
          int n = static_cast<int>(uniform(1, 5));
          for (int i = 0; i < n; ++i) f.errors.push_back(pick(kinds));
          break;
        }
      }
      std::string res = f.resource();
      if (!res.empty() && busy_until[res] > at) continue;  // that resource is still faulted
      if (!res.empty()) busy_until[res] = at + f.hold_ms;
      out.push_back(std::move(f));
      break;
    }
  }
  return out;
}

// Runs a function when it goes out of scope (also on an ASSERT's early return).
struct AtExit {
  std::function<void()> f;
  ~AtExit() { f(); }
};

// Per source partition, the last "load[<p>] resumes at <offset>" line over every process's log
// (log lines start with an ISO time): "<process> at <time> from <offset>".
std::map<int32_t, std::string> LastResumes(const std::vector<std::filesystem::path>& logs) {
  static const std::regex re(R"(^(\S+) \S+ \[\d+\] flow \S+: load\[(\d+)\] resumes at (\d+))");
  std::map<int32_t, std::pair<std::string, std::string>> last;  // partition -> (time, what)
  for (const auto& path : logs) {
    std::istringstream in(ReadFile(path));
    for (std::string line; std::getline(in, line);) {
      std::smatch m;
      if (!std::regex_search(line, m, re)) continue;
      auto& [time, what] = last[std::stoi(m[2])];
      if (m[1].str() < time) continue;
      time = m[1];
      what = fmt::format("{} at {} from {}", path.stem().string(), time.substr(11), m[3].str());
    }
  }
  std::map<int32_t, std::string> out;
  for (const auto& [partition, tw] : last) out[partition] = tw.second;
  return out;
}

class FaultSchedule : public TestbedTest {
 protected:
  MirrorSpec Spec(const std::string& offsets_dir) {
    MirrorSpec s;
    s.clusters = {{"us-east", Bootstrap("us-east")}, {"eu-west", Bootstrap("eu-west")}};
    s.flows = {{"us-east", "eu-west", {kSource}}};
    s.offsets_dir = offsets_dir;
    s.admin_port = -1;
    return s;
  }

  // One round on a fresh testbed. Returns normally when every record was copied exactly once.
  void RunRound(int round, uint64_t seed) {
    tb_ = std::make_unique<ScopedTestbed>();
    TempDir dir;
    // Filled as the round goes, for the summary a failure ends with.
    int64_t produced = -1;
    std::optional<CopyCheck> check;
    bool complete = false;
    tb().CreateTopic("us-east", kSource, kPartitions);
    tb().CreateTopic("eu-west", kTarget, kPartitions);
    tb().CreateTopic("eu-west", "mm2-offset-syncs.us-east.internal", 1);
    tb().CreateTopic("eu-west", "us-east.checkpoints.internal", 1);
    // Made up front: the mock does not serve CreateTopics, and each instance's start (also every
    // restart after a kill) would wait 5 s for it before relying on auto-creation.
    tb().CreateTopic("eu-west", mirror::kFlowOwnersTopic, 1);
    testbed::ControlClient control(tb().ControlAddress());
    std::vector<Fault> schedule = MakeSchedule(seed);
    fmt::print("round {} seed {} (replay: RM_FAULT_SEED={} RM_FAULT_ROUNDS=1):\n", round, seed,
               seed);
    for (const auto& f : schedule) fmt::print("  at {:>5} ms: {}\n", f.at_ms, f.Describe());

    // A few thousand records/s over 12 partitions (a producer per batch), capped so no
    // partition nears the testbed's 5 MiB.
    BackgroundLoad::Options load_options;
    load_options.partitions = kPartitions;
    load_options.batch_records = 200;
    load_options.max_records = kPartitions * 30'000;
    BackgroundLoad load(Bootstrap("us-east"), kSource, load_options);

    // instance -> its processes; the last one is the live (or stopped) one.
    std::vector<std::vector<std::unique_ptr<MirrorProcess>>> instances(2);
    auto start = [&](int i) {
      std::string name = fmt::format("{}{}", "ab"[i], instances[i].size());
      instances[i].push_back(std::make_unique<MirrorProcess>(
          Spec((dir.path() / fmt::format("offsets-{}", "ab"[i])).string()), dir.path().string(),
          name));
    };
    // Declared after `dir` and `instances`: runs while their logs are still there.
    AtExit report{[&] {
      const char* keep = std::getenv("RM_FAULT_KEEP_LOGS");
      if (!keep && !HasFailure()) return;
      std::filesystem::path kept =
          std::filesystem::path(keep ? keep : std::filesystem::temp_directory_path().string()) /
          fmt::format("fault-schedule-seed-{}", seed);
      std::error_code ec;  // a destructor: no exceptions
      std::filesystem::create_directories(kept, ec);
      std::vector<std::filesystem::path> logs;
      for (auto& procs : instances) {
        for (auto& p : procs) {
          logs.push_back(kept / std::filesystem::path(p->log_path()).filename());
          std::filesystem::copy_file(p->log_path(), logs.back(),
                                     std::filesystem::copy_options::overwrite_existing, ec);
        }
      }
      if (!HasFailure()) return;
      // The tails first, then the summary: the last lines of the test's output.
      for (const auto& log : logs) {
        std::string text = ReadFile(log);
        if (text.size() > 2000) text = "..." + text.substr(text.size() - 2000);
        fmt::print("--- {} (tail):\n{}\n", log.filename().string(), text);
      }
      auto source = HighWatermarks(Bootstrap("us-east"), kSource);
      auto target = HighWatermarks(Bootstrap("eu-west"), kTarget);
      auto owners = LastResumes(logs);
      fmt::print("=== FaultSchedule round {} FAILED, seed {}\n", round, seed);
      std::error_code exe_ec;
      fmt::print("replay: RM_FAULT_SEED={} RM_FAULT_ROUNDS=1 {} --gtest_filter=FaultSchedule.*\n",
                 seed, std::filesystem::read_symlink("/proc/self/exe", exe_ec).string());
      fmt::print("produced {}, target {} ({}complete)", produced,
                 TotalHighWatermark(Bootstrap("eu-west"), kTarget), complete ? "" : "NOT ");
      if (check) {
        fmt::print(": lost {}, duplicated {}, misplaced {}, mismatched {}; first: {}", check->lost,
                   check->duplicated, check->misplaced, check->mismatched, check->first_problem);
      }
      fmt::print("\n");
      for (int p = 0; p < kPartitions; ++p) {
        const size_t lost =
            check && check->lost_by_partition.contains(p) ? check->lost_by_partition.at(p) : 0;
        const size_t dup = check && check->duplicated_by_partition.contains(p)
                               ? check->duplicated_by_partition.at(p)
                               : 0;
        const int64_t s = source.contains(p) ? source.at(p) : -1;
        const int64_t t = target.contains(p) ? target.at(p) : -1;
        if (lost == 0 && dup == 0 && s == t) continue;
        fmt::print("  {}[{}]: source {}, target {}, lost {}, duplicated {}; last resumed by {}\n",
                   kSource, p, s, t, lost, dup, owners.contains(p) ? owners.at(p) : "nobody");
      }
      fmt::print("full logs: {}\n", kept.string());
      std::fflush(stdout);
    }};
    const auto round_start = Clock::now();
    auto progress = [&](const std::string& what) {
      fmt::print("  {:>6.1f} s: {}\n",
                 std::chrono::duration<double>(Clock::now() - round_start).count(), what);
      std::fflush(stdout);  // progress shows while the round runs, also through ctest
    };
    start(0);
    start(1);
    // Faults begin once copying is under way (the first group join takes seconds on the mock).
    ASSERT_GT(WaitForTotal(Bootstrap("eu-west"), kTarget, 1, 60s), 0) << "nothing copied";
    progress("copying; faults start");

    // Apply and undo on schedule: (time, action) pairs, run in time order.
    std::vector<std::pair<int64_t, std::function<void()>>> actions;
    auto must = [&](const common::Status& st, const std::string& what) {
      EXPECT_TRUE(st.ok()) << what << ": " << (st.ok() ? "" : st.error().message);
    };
    for (const auto& f : schedule) {
      switch (f.kind) {
        case Fault::Kind::kKill:
          actions.push_back({f.at_ms, [&, i = f.instance] { instances[i].back()->Kill(); }});
          actions.push_back({f.at_ms + f.hold_ms, [&, i = f.instance] { start(i); }});
          break;
        case Fault::Kind::kStop:
          actions.push_back(
              {f.at_ms, [&, i = f.instance] { instances[i].back()->Signal(SIGSTOP); }});
          actions.push_back(
              {f.at_ms + f.hold_ms, [&, i = f.instance] { instances[i].back()->Signal(SIGCONT); }});
          break;
        case Fault::Kind::kBrokerDown:
          actions.push_back(
              {f.at_ms, [&, f] { must(control.SetBrokerDown(f.region, f.broker), f.Describe()); }});
          actions.push_back({f.at_ms + f.hold_ms, [&, f] {
                               must(control.SetBrokerUp(f.region, f.broker), f.Describe());
                             }});
          break;
        case Fault::Kind::kLeaderMove:
          actions.push_back({f.at_ms, [&, f] {
                               must(control.SetPartitionLeader(
                                        f.region, f.region == "us-east" ? kSource : kTarget,
                                        f.partition, f.broker),
                                    f.Describe());
                             }});
          break;
        case Fault::Kind::kRtt:
          actions.push_back(
              {f.at_ms,
               [&, f] { must(control.SetBrokerRtt(f.region, f.broker, f.rtt_ms), f.Describe()); }});
          actions.push_back({f.at_ms + f.hold_ms, [&, f] {
                               must(control.SetBrokerRtt(f.region, f.broker, 0), f.Describe());
                             }});
          break;
        case Fault::Kind::kErrors:
          actions.push_back({f.at_ms, [&, f] {
                               must(control.PushRequestErrors(f.region, f.api, f.errors),
                                    f.Describe());
                             }});
          break;
      }
    }
    std::stable_sort(actions.begin(), actions.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    const auto t0 = Clock::now();
    for (auto& [at, action] : actions) {
      std::this_thread::sleep_until(t0 + std::chrono::milliseconds(at));
      action();
    }
    // Every fault is undone by now (each undo is in the list). Leftover injected errors are
    // cleared so the catch-up below is not slowed by them.
    for (const char* region : {"us-east", "eu-west"}) {
      for (const char* api :
           {"Fetch", "OffsetCommit", "Heartbeat", "ListOffsets", "Produce", "Metadata"}) {
        auto cleared = control.Request("POST", "/v1/errors/clear",
                                       nlohmann::json{{"region", region}, {"api", api}}.dump());
        EXPECT_TRUE(cleared.ok() && cleared->first == 200) << "clearing " << region << " " << api;
      }
    }
    // Keep the load running a little after the last fault, so copying resumes under load.
    std::this_thread::sleep_for(2s);
    produced = load.Stop();
    progress(fmt::format("faults done, load stopped at {} records", produced));
    ASSERT_FALSE(load.exhausted()) << "the load hit its cap: the round ran longer than planned";
    // More than produced is checked below (it names the duplicates). Fewer fails, and is checked
    // too, for the summary's counts per partition.
    complete = WaitForTotal(Bootstrap("eu-west"), kTarget, produced, 180s) >= produced;
    EXPECT_TRUE(complete) << "the target holds fewer records than produced after 180 s";
    progress(complete ? "target complete" : "target incomplete");
    check = CheckExactCopy(Bootstrap("us-east"), kSource, Bootstrap("eu-west"), kTarget, "us-east",
                           CopyReader::kKafkaPython);
    const CopyCheck& c = *check;
    fmt::print("round {}: {} records produced, {} copies; lost {}, duplicated {}\n", round,
               produced, c.target_copies, c.lost, c.duplicated);
    EXPECT_EQ(c.source_records, static_cast<size_t>(produced)) << "seed " << seed;
    EXPECT_EQ(c.lost, 0u) << "seed " << seed << ": " << c.first_problem;
    EXPECT_EQ(c.duplicated, 0u) << "seed " << seed << ": " << c.first_problem;
    EXPECT_EQ(c.misplaced, 0u) << "seed " << seed << ": " << c.first_problem;
    EXPECT_EQ(c.mismatched, 0u) << "seed " << seed << ": " << c.first_problem;
    EXPECT_EQ(TotalHighWatermark(Bootstrap("eu-west"), kTarget), produced) << "seed " << seed;
    progress("checked");
    for (int i = 0; i < 2; ++i) EXPECT_EQ(instances[i].back()->Stop(), 0) << "ab"[i] << " stop";
    progress("instances stopped");
  }
};

TEST_F(FaultSchedule, EveryRecordIsCopiedExactlyOnceUnderRandomMixedFaults) {
  const uint64_t seed = FaultSeed();
  const int rounds = FaultRounds(3);
  fmt::print("fault schedule: {} round(s), seed {} (RM_FAULT_SEED to replay)\n", rounds, seed);
  RecordProperty("seed", std::to_string(seed));
  for (int round = 0; round < rounds && !HasFailure(); ++round) {
    RunRound(round, seed + static_cast<uint64_t>(round));
  }
}

}  // namespace
}  // namespace rm::testing

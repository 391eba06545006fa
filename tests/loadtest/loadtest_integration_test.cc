// The harness end to end on its own testbed: a short run through the real mirror binary, and the
// coordinated-omission checks (a stalled sender, a stalled verifier) on one cluster.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>

#include "loadtest/report.h"
#include "loadtest/runner.h"
#include "tests/support/process.h"
#include "tests/util/test_util.h"

namespace rm::loadtest {
namespace {

using namespace std::chrono_literals;

LoadTestOptions SmallRun(const std::filesystem::path& out) {
  LoadTestOptions o;
  o.workload.topics = 1;
  o.workload.partitions_per_topic = 4;
  o.workload.message_size = 200;
  o.workload.producer_rate = 3000;
  o.duration_s = 4;
  o.warmup_s = 0;
  o.out_dir = out.string();
  o.mirror_binary = rm::testing::RegionmirrorPath();
  o.progress = nullptr;
  o.drain_timeout = 20s;
  return o;
}

double Ms(int64_t us) { return static_cast<double>(us) / 1000.0; }

TEST(LoadTest, AShortRunThroughTheMirrorBinaryArrivesWholeAndIsMeasured) {
  rm::testing::TempDir tmp;
  std::atomic<bool> stop{false};
  RunResult r = RunLoadTest(SmallRun(tmp.path()), stop);
  ASSERT_TRUE(r.ok()) << fmt::format("{}", fmt::join(r.problems, "; "));
  // 4 s at 3000/s, on schedule.
  EXPECT_EQ(r.generator.sent, 12000);
  EXPECT_EQ(r.verification.received, 12000);
  EXPECT_EQ(r.verification.lost + r.verification.duplicates + r.verification.reordered, 0);
  EXPECT_EQ(r.from_intended_us.count(), 12000);
  EXPECT_GE(r.intervals.size(), 4u);
  // The mirror's own metrics were scraped over the window and agree on the count.
  ASSERT_TRUE(r.mirror.contains("recordsCopied")) << r.mirror.dump();
  EXPECT_GT(r.mirror["recordsCopied"].get<double>(), 0);
  EXPECT_EQ(r.mirror["exitCode"].get<int>(), 0);
  EXPECT_GT(r.cpu.cores_busy, 0);
  WriteReport(tmp.path().string(), r);
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "report.json"));
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "report.html"));
  EXPECT_TRUE(std::filesystem::exists(tmp.path() / "mirror.yaml"));
}

TEST(LoadTest, AStalledSenderShowsInLatencyFromTheIntendedTimeNotFromTheSend) {
  rm::testing::TempDir tmp;
  LoadTestOptions o = SmallRun(tmp.path());
  o.no_mirror = true;
  o.workload.producer_rate = 2000;
  o.duration_s = 3;
  o.stall_sender_after_records = 2000;  // one second in
  o.stall_sender = 700ms;
  std::atomic<bool> stop{false};
  RunResult r = RunLoadTest(o, stop);
  ASSERT_TRUE(r.ok()) << fmt::format("{}", fmt::join(r.problems, "; "));
  EXPECT_EQ(r.generator.sent, 6000);  // the late records are sent, not skipped
  // Records due during the stall were sent up to 700 ms late: that is in the latency from the
  // intended time and in the schedule delay, and not in the latency from the actual send.
  EXPECT_GE(Ms(r.generator.schedule_delay_us.max()), 690);
  EXPECT_GE(Ms(r.from_intended_us.max()), 690);
  EXPECT_LT(Ms(r.from_sent_us.Percentile(50)), 350);
  EXPECT_GT(r.from_intended_us.max(), r.from_sent_us.max());
}

TEST(LoadTest, AStalledVerifierShowsInBothLatencies) {
  rm::testing::TempDir tmp;
  LoadTestOptions o = SmallRun(tmp.path());
  o.no_mirror = true;
  o.workload.producer_rate = 2000;
  o.duration_s = 3;
  o.stall_verifier_at_s = 1.0;
  o.stall_verifier = 800ms;
  std::atomic<bool> stop{false};
  RunResult r = RunLoadTest(o, stop);
  ASSERT_TRUE(r.ok()) << fmt::format("{}", fmt::join(r.problems, "; "));
  // Records that arrived while the verifier was stalled are counted as late as they were read:
  // the one due as the stall began waited all of it (less one interval of the schedule).
  EXPECT_GE(Ms(r.from_intended_us.max()), 790);
  EXPECT_GE(Ms(r.from_sent_us.max()), 780);
  EXPECT_LT(Ms(r.generator.schedule_delay_us.Percentile(50)), 100);
}

TEST(LoadTest, RecordsDeletedBeforeTheyWereReadFailTheRunAsLossAndSayWhy) {
  // Loss injected for real: the testbed keeps 5 MiB per partition, and 1.5 s of incompressible
  // 10 kB records at 2000/s into one partition is 30 MB, written while the verifier is stalled.
  rm::testing::TempDir tmp;
  LoadTestOptions o = SmallRun(tmp.path());
  o.no_mirror = true;
  o.workload.partitions_per_topic = 1;
  o.workload.message_size = 10000;
  o.workload.use_randomized_payloads = true;
  o.workload.random_bytes_ratio = 1.0;
  o.workload.randomized_payload_pool_size = 50;
  o.workload.producer_rate = 2000;
  o.duration_s = 1.5;
  o.stall_verifier_at_s = 0.1;
  o.stall_verifier = 2500ms;
  o.drain_timeout = 2s;  // what was deleted never comes
  // A small client queue, so the stalled verifier's consumer stops fetching too.
  o.workload.replication.consumer = {{"queued.max.messages.kbytes", "1024"},
                                     {"queued.min.messages", "1"}};
  std::atomic<bool> stop{false};
  RunResult r = RunLoadTest(o, stop);
  EXPECT_FALSE(r.ok());
  EXPECT_GT(r.verification.lost, 0);
  EXPECT_EQ(r.verification.duplicates, 0);
  EXPECT_THAT(fmt::format("{}", fmt::join(r.problems, "; ")),
              ::testing::HasSubstr("retention deleted records of 1 partitions"));
}

TEST(LoadTest, RateZeroFindsTheRateAConsumerOfKnownCapacitySustainsThenRunsAtIt) {
  // OMB's producerRate 0 against a verifier that reads at most 3000 records/s: the search must
  // land near 3000 (its precision is 20% here, the growth tolerance adds ~10%), then measure at it.
  rm::testing::TempDir tmp;
  LoadTestOptions o = SmallRun(tmp.path());
  o.no_mirror = true;
  o.workload.producer_rate = 0;
  o.duration_s = 1;
  o.verifier_max_rate = 3000;
  o.rate_search.start_rate = 1000;
  o.rate_search.step_intervals = 2;
  o.rate_search.precision = 0.2;
  std::atomic<bool> stop{false};
  RunResult r = RunLoadTest(o, stop);
  ASSERT_TRUE(r.ok()) << fmt::format("{}", fmt::join(r.problems, "; "));
  std::string steps;
  for (const auto& st : r.rate_search) steps += fmt::format("{} {}; ", st.rate, st.why);
  ASSERT_GE(r.rate_search.size(), 4u) << steps;  // 1000, 2000, 4000 (too fast), 3000, ...
  EXPECT_TRUE(r.rate_search[1].sustainable) << steps;
  EXPECT_FALSE(r.rate_search[2].sustainable) << steps;
  EXPECT_THAT(r.rate_search[2].why, ::testing::HasSubstr("the target fell behind")) << steps;
  EXPECT_GE(r.max_sustainable_rate, 2000) << steps;
  EXPECT_LE(r.max_sustainable_rate, 3500) << steps;
  // The measured second ran at the rate found, and everything sent arrived once.
  EXPECT_NEAR(r.publish_rate, r.max_sustainable_rate, r.max_sustainable_rate * 0.1);
  EXPECT_EQ(r.verification.received, r.generator.sent);
  auto j = ReportJson(r);
  EXPECT_EQ(j["maxSustainableRate"].get<double>(), r.max_sustainable_rate);
  EXPECT_EQ(j["rateSearch"].size(), r.rate_search.size());
}

TEST(LoadTest, ABacklogBuiltWithTheMirrorStoppedDrainsAndIsReported) {
  // OMB's consumerBacklogSizeGB, scaled to the testbed: ~3000 records of 200 B wait in the
  // source before the mirror starts; then it starts and the backlog drains while the load goes on.
  rm::testing::TempDir tmp;
  LoadTestOptions o = SmallRun(tmp.path());
  o.workload.producer_rate = 2000;
  o.workload.consumer_backlog_size_gb = 3000.0 * 200 / 1073741824.0;
  o.duration_s = 1;
  std::atomic<bool> stop{false};
  RunResult r = RunLoadTest(o, stop);
  ASSERT_TRUE(r.ok()) << fmt::format("{}", fmt::join(r.problems, "; "));
  ASSERT_TRUE(r.backlog.has_value());
  EXPECT_GE(r.backlog->requested_records, 2999);
  EXPECT_GE(r.backlog->built_records, r.backlog->requested_records);
  EXPECT_GT(r.backlog->build_seconds, 1);
  EXPECT_TRUE(r.backlog->drained);
  EXPECT_GE(r.backlog->drained_records, r.backlog->built_records - 1000);
  EXPECT_GT(r.backlog->drain_rate, 0);
  // Nothing reached the target while the backlog was built.
  ASSERT_FALSE(r.intervals.empty());
  EXPECT_EQ(r.intervals[0].consume_rate, 0);
  EXPECT_EQ(r.verification.received, r.generator.sent);
  EXPECT_EQ(r.verification.lost + r.verification.duplicates + r.verification.reordered, 0);
  auto j = ReportJson(r);
  EXPECT_TRUE(j["backlog"]["drained"].get<bool>());
  EXPECT_GT(j["backlog"]["drainSeconds"].get<double>(), 0);
}

TEST(LoadTest, StoppingEarlyEndsTheRunAndSaysSo) {
  rm::testing::TempDir tmp;
  LoadTestOptions o = SmallRun(tmp.path());
  o.no_mirror = true;
  o.duration_s = 60;
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    std::this_thread::sleep_for(1500ms);
    stop = true;
  });
  auto t0 = std::chrono::steady_clock::now();
  RunResult r = RunLoadTest(o, stop);
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 30s);
  EXPECT_TRUE(r.interrupted);
  EXPECT_FALSE(r.ok());
}

}  // namespace
}  // namespace rm::loadtest

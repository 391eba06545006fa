// ClusterProber with fake probes: outcomes reach the HealthModel, a failing or hanging cluster
// is demoted, a recovered one promoted. Conditions are awaited, never slept for.
#include "topology/prober.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace rm::topology {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

// Polls `done` every 5 ms for up to 10 s.
bool Await(const std::function<bool()>& done) {
  for (auto deadline = Clock::now() + 10s; Clock::now() < deadline;) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

TEST(ClusterProber, RecordsEachOutcomeAndDemotesAFailingClusterUntilItAnswersAgain) {
  HealthModel health({.probe_interval = 20ms, .max_lag = 1s});
  std::atomic<bool> up{true};
  std::atomic<int> b_probes{0};
  ClusterProber prober(health, 20ms,
                       {{"a",
                         [&up](std::chrono::milliseconds) -> common::Status {
                           if (up) return common::Status::Ok();
                           return common::Error{"x", "connection refused"};
                         }},
                        {"b", [&b_probes](std::chrono::milliseconds) {
                           ++b_probes;
                           return common::Status::Ok();
                         }}});
  prober.Start();
  ASSERT_TRUE(Await([&] { return b_probes > 3; }));
  EXPECT_TRUE(health.Snapshot(Clock::now()).Cluster("a").up);

  up = false;
  ASSERT_TRUE(Await([&] { return !health.Snapshot(Clock::now()).Cluster("a").up; }));
  auto down = health.Snapshot(Clock::now());
  EXPECT_THAT(down.Cluster("a").why, HasSubstr("probe failed: connection refused"));
  // One cluster's failure is not another's.
  EXPECT_TRUE(down.Cluster("b").up);

  up = true;
  EXPECT_TRUE(Await([&] { return health.Snapshot(Clock::now()).Cluster("a").up; }));
  prober.Stop();
  EXPECT_GT(prober.probes(), 6);
}

TEST(ClusterProber, DemotesAClusterWhoseProbeHangsWhileTheOthersKeepBeingProbed) {
  HealthModel health({.probe_interval = 20ms, .max_lag = 1s});
  std::atomic<bool> hang{false};
  std::atomic<int> b_probes{0};
  std::vector<std::chrono::milliseconds> timeouts;
  std::mutex mu;
  ClusterProber prober(health, 20ms,
                       {{"slow",
                         [&](std::chrono::milliseconds timeout) -> common::Status {
                           {
                             std::lock_guard lock(mu);
                             timeouts.push_back(timeout);
                           }
                           // A hung cluster: no answer for far longer than two intervals.
                           if (hang) std::this_thread::sleep_for(300ms);
                           return common::Status::Ok();
                         }},
                        {"b", [&b_probes](std::chrono::milliseconds) {
                           ++b_probes;
                           return common::Status::Ok();
                         }}});
  prober.Start();
  ASSERT_TRUE(Await([&] { return prober.probes() > 4; }));
  hang = true;
  ASSERT_TRUE(Await([&] { return !health.Snapshot(Clock::now()).Cluster("slow").up; }));
  EXPECT_THAT(health.Snapshot(Clock::now()).Cluster("slow").why, HasSubstr("no answer to probes"));
  // The other cluster's probes go on while one hangs.
  const int before = b_probes;
  EXPECT_TRUE(Await([&] { return b_probes > before + 3; }));
  EXPECT_TRUE(health.Snapshot(Clock::now()).Cluster("b").up);
  hang = false;
  EXPECT_TRUE(Await([&] { return health.Snapshot(Clock::now()).Cluster("slow").up; }));
  prober.Stop();
  std::lock_guard lock(mu);
  for (auto t : timeouts) EXPECT_EQ(t, 10ms);  // a probe may take at most half an interval
}

TEST(ClusterProber, AClusterThatNeverAnswersIsDemotedAfterTwoIntervals) {
  HealthModel health({.probe_interval = 20ms, .max_lag = 1s});
  std::atomic<bool> release{false};
  ClusterProber prober(health, 20ms, {{"mute", [&release](std::chrono::milliseconds) {
                                         while (!release) std::this_thread::sleep_for(1ms);
                                         return common::Status::Ok();
                                       }}});
  const auto started = Clock::now();
  prober.Start();
  // Tracked from Start(): up for two intervals, then demoted without any probe outcome.
  EXPECT_TRUE(health.Snapshot(started + 20ms).Cluster("mute").up);
  auto later = health.Snapshot(started + 100ms).Cluster("mute");
  EXPECT_FALSE(later.up);
  EXPECT_THAT(later.why, HasSubstr("never answered a probe"));
  release = true;
  prober.Stop();
}

TEST(ClusterProber, StopsPromptlyWhenNothingIsProbing) {
  HealthModel health({});
  ClusterProber prober(health, std::chrono::hours(1),
                       {{"a", [](std::chrono::milliseconds) { return common::Status::Ok(); }}});
  prober.Start();
  ASSERT_TRUE(Await([&] { return prober.probes() == 1; }));
  prober.Stop();  // waits on the condition variable, not the hour
  EXPECT_EQ(prober.probes(), 1);
}

}  // namespace
}  // namespace rm::topology

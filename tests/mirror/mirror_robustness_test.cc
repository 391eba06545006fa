// kill -9 at any instant: nothing lost, nothing duplicated. Rounds: RM_KILL_ROUNDS (default 5;
// scripts/kill-test.sh runs 20).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "testbed/control_client.h"
#include "tests/support/kafka_helpers.h"
#include "tests/support/mirror_helpers.h"
#include "tests/support/testbed_fixture.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;

int Rounds() {
  const char* env = std::getenv("RM_KILL_ROUNDS");
  return env ? std::max(1, std::atoi(env)) : 5;
}

// 12 partitions, capped so no partition of either cluster passes the testbed's 5 MiB retention
// (~45k records of ~90 bytes with the provenance header) however long the rounds take on a slow
// machine. The rate is spread so the cap lasts about 10 s per kill round (at most 7.5k/s), so
// scripts/kill-test.sh's 20 rounds all run.
constexpr int kPartitions = 12;
BackgroundLoad::Options LoadOptions(int rounds) {
  BackgroundLoad::Options o;
  o.partitions = kPartitions;
  o.max_records = kPartitions * 40'000;
  const int64_t batches_per_s = 1000 / o.pause.count();
  o.batch_records = static_cast<size_t>(
      std::clamp<int64_t>(o.max_records / (int64_t{rounds} * 10 * batches_per_s), 24, 150));
  return o;
}

class MirrorRobustness : public TestbedTest {
 protected:
  MirrorSpec Spec() {
    MirrorSpec s;
    s.clusters = {{"us-east", Bootstrap("us-east")}, {"eu-west", Bootstrap("eu-west")}};
    s.flows = {{"us-east", "eu-west", {"load"}}};
    s.admin_port = -1;
    return s;
  }
  void ExpectExactCopy(int64_t produced) {
    ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.load", produced, 180s), produced);
    CopyCheck c = CheckExactCopy(Bootstrap("us-east"), "load", Bootstrap("eu-west"), "us-east.load",
                                 "us-east");
    EXPECT_EQ(c.source_records, static_cast<size_t>(produced));
    EXPECT_EQ(c.lost, 0u) << c.first_problem;
    EXPECT_EQ(c.duplicated, 0u) << c.first_problem;
    EXPECT_EQ(c.misplaced, 0u) << c.first_problem;
    EXPECT_EQ(c.mismatched, 0u) << c.first_problem;
    // Nothing but copies in the target: its size equals the source's.
    EXPECT_EQ(TotalHighWatermark(Bootstrap("eu-west"), "us-east.load"), produced);
  }
};

// Waits up to 60 s for `what` in the mirror's log; its position or npos.
size_t WaitLog(MirrorProcess& m, const std::string& what) {
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (size_t at = m.Log().find(what); at != std::string::npos) return at;
    std::this_thread::sleep_for(50ms);
  }
  return std::string::npos;
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// An instance paused (SIGSTOP: a GC pause, a frozen VM) with records in its producer loses its
// partitions to the other instance; when it continues, its producer sends them. The new owner
// must not have copied them again meanwhile, and the paused one must copy nothing new.
TEST_F(MirrorRobustness, PausedInstanceThatLostItsPartitionsDuplicatesNothingWhenItContinues) {
  tb().CreateTopic("us-east", "load", kPartitions);
  tb().CreateTopic("eu-west", "us-east.load", kPartitions);
  BackgroundLoad load(Bootstrap("us-east"), "load", LoadOptions(1));
  MirrorProcess a(Spec(), tmp_.path(), "a");
  MirrorProcess b(Spec(), tmp_.path(), "b");
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while ((a.Log().find("resumes at") == std::string::npos ||
          b.Log().find("resumes at") == std::string::npos) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_NE(a.Log().find("resumes at"), std::string::npos) << a.Log();
  ASSERT_NE(b.Log().find("resumes at"), std::string::npos) << b.Log();
  std::this_thread::sleep_for(2s);  // both copying, records in both producers
  const size_t assigned_before = Count(b.Log(), "partitions assigned");
  a.Signal(SIGSTOP);
  // The group gives a's partitions to b once a's session (kTestSessionTimeoutMs) expires.
  deadline = std::chrono::steady_clock::now() + 60s;
  while (Count(b.Log(), "partitions assigned") == assigned_before &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_GT(Count(b.Log(), "partitions assigned"), assigned_before) << b.Log();
  std::this_thread::sleep_for(300ms);
  a.Signal(SIGCONT);
  std::this_thread::sleep_for(8s);  // a rejoins; the partitions are shared again
  int64_t produced = load.Stop();
  ExpectExactCopy(produced);
  EXPECT_NE(b.Log().find("did not release it"), std::string::npos) << b.Log();
  EXPECT_EQ(a.Stop(), 0) << a.Log();
  EXPECT_EQ(b.Stop(), 0) << b.Log();
}

// Two deployments of one flow with different group ids would each own every partition. The
// second is refused (log, /healthz 503 naming the owner's group) and copies nothing while the
// first runs; once the first is gone for flow_lease_ms, the second takes over.
TEST_F(MirrorRobustness, SecondDeploymentOfAFlowWithAnotherGroupIsRefusedThenTakesOver) {
  tb().CreateTopic("us-east", "load", kPartitions);
  tb().CreateTopic("eu-west", "us-east.load", kPartitions);
  BackgroundLoad load(Bootstrap("us-east"), "load", LoadOptions(1));
  MirrorSpec first = Spec();
  first.extra_mirror_yaml = "  flow_lease_ms: 4000\n";
  MirrorSpec second = Spec();
  second.extra_mirror_yaml = "  flow_lease_ms: 4000\n  group_prefix: other-deployment\n";
  second.admin_port = 0;
  MirrorProcess a(first, tmp_.path(), "a");
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (a.Log().find("resumes at") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_NE(a.Log().find("resumes at"), std::string::npos) << a.Log();
  MirrorProcess b(second, tmp_.path(), "b");
  std::string health;
  deadline = std::chrono::steady_clock::now() + 60s;
  while (health.empty() && std::chrono::steady_clock::now() < deadline) {
    if (!b.AdminAddress().empty()) {
      auto h = testbed::ControlClient(b.AdminAddress()).Request("GET", "/healthz", "");
      if (h.ok() && h->first == 503) health = h->second;
    }
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_NE(health.find("is run by consumer group regionmirror.us-east->eu-west"),
            std::string::npos)
      << health << b.Log();
  std::this_thread::sleep_for(3s);  // both running; only a copies
  EXPECT_EQ(b.Log().find("resumes at"), std::string::npos) << b.Log();
  a.Kill();
  // b takes over once a's claims are older than the lease, and copies the rest exactly once.
  deadline = std::chrono::steady_clock::now() + 60s;
  while (b.Log().find("resumes at") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_NE(b.Log().find("resumes at"), std::string::npos) << b.Log();
  std::this_thread::sleep_for(2s);
  int64_t produced = load.Stop();
  ExpectExactCopy(produced);
  auto h = testbed::ControlClient(b.AdminAddress()).Request("GET", "/healthz", "");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->first, 200) << h->second;
  EXPECT_EQ(b.Stop(), 0) << b.Log();
}

TEST_F(MirrorRobustness, KillNineAtRandomMomentsLosesAndDuplicatesNothing) {
  tb().CreateTopic("us-east", "load", kPartitions);
  tb().CreateTopic("eu-west", "us-east.load", kPartitions);
  std::mt19937 rng(static_cast<unsigned>(std::time(nullptr)));
  const int rounds = Rounds();
  BackgroundLoad load(Bootstrap("us-east"), "load", LoadOptions(rounds));
  int64_t copied_before = 0;
  for (int round = 0; round < rounds; ++round) {
    if (load.exhausted()) {
      // Nothing new to copy mid-way: a kill now would test nothing more.
      fmt::print("round {}: the load reached its cap ({} records); no more rounds\n", round,
                 load.produced());
      ASSERT_GE(round, 3) << "too few kill rounds before the load's cap";
      break;
    }
    // A killed process delivers nothing later: the next one need not wait for the records its
    // predecessor reserved (takeover_wait_ms is for paused ones, tested below), and the rounds
    // stay within the load's cap.
    MirrorSpec spec = Spec();
    spec.extra_mirror_yaml = "  takeover_wait_ms: 500\n";
    MirrorProcess mirror(spec, tmp_.path(), fmt::format("round{}", round));
    // Kill while copying is under way: first wait until this instance copies something (the
    // group join after a kill takes seconds), then pick a random instant within the next 2 s,
    // when records are being consumed, produced and acknowledged.
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (TotalHighWatermark(Bootstrap("eu-west"), "us-east.load") <= copied_before &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(20ms);
    }
    auto wait = std::chrono::milliseconds(rng() % 2000);
    std::this_thread::sleep_for(wait);
    ASSERT_TRUE(mirror.running()) << mirror.Log();
    mirror.Kill();
    int64_t now = TotalHighWatermark(Bootstrap("eu-west"), "us-east.load");
    fmt::print("round {}: killed {} ms into copying; target has {} records (+{})\n", round,
               wait.count(), now, now - copied_before);
    EXPECT_GT(now, copied_before) << "round " << round << " copied nothing before the kill";
    copied_before = now;
  }
  int64_t produced = load.Stop();
  MirrorProcess final_mirror(Spec(), tmp_.path(), "final");
  ExpectExactCopy(produced);
  EXPECT_EQ(final_mirror.Stop(), 0);
}

TEST_F(MirrorRobustness, TwoInstancesInOneGroupOneKilledCopyEveryRecordExactlyOnce) {
  tb().CreateTopic("us-east", "load", kPartitions);
  tb().CreateTopic("eu-west", "us-east.load", kPartitions);
  BackgroundLoad load(Bootstrap("us-east"), "load", LoadOptions(1));
  MirrorProcess a(Spec(), tmp_.path(), "a");
  MirrorProcess b(Spec(), tmp_.path(), "b");
  // Let both join and share the partitions (on the mock a cooperative rebalance takes two
  // rounds of session.timeout.ms after the first join), then kill one mid-stream.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while ((a.Log().find("resumes at") == std::string::npos ||
          b.Log().find("resumes at") == std::string::npos) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_NE(a.Log().find("resumes at"), std::string::npos) << a.Log();
  ASSERT_NE(b.Log().find("resumes at"), std::string::npos) << b.Log();
  std::this_thread::sleep_for(2s);  // both copying
  a.Kill();
  std::this_thread::sleep_for(4s);
  int64_t produced = load.Stop();
  ExpectExactCopy(produced);
  EXPECT_EQ(b.Stop(), 0) << b.Log();
}

// A produce the target refuses for good (a non-retriable error) must not leave a gap: the
// failed records are copied again, and nothing after them reaches the target first.
TEST_F(MirrorRobustness, ProducesRefusedForGoodAreCopiedAgainNotSkipped) {
  constexpr int kRecords = 40'000;
  tb().CreateTopic("us-east", "load", 4);
  tb().CreateTopic("eu-west", "us-east.load", 4);
  ProduceWithOurClient(Bootstrap("us-east"), "load", MakeRecords(kRecords, 4));
  MirrorSpec spec = Spec();
  spec.admin_port = 0;
  MirrorProcess mirror(spec, tmp_.path(), "refused");
  // Refuse three produce requests once copying is under way.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (TotalHighWatermark(Bootstrap("eu-west"), "us-east.load") <= 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  testbed::ControlClient control(tb().ControlAddress());
  ASSERT_TRUE(control
                  .PushRequestErrors("eu-west", "Produce",
                                     {"INVALID_RECORD", "INVALID_RECORD", "INVALID_RECORD"})
                  .ok());
  ExpectExactCopy(kRecords);
  // The refusals were counted and named, not swallowed.
  auto metrics = testbed::ControlClient(mirror.AdminAddress()).Request("GET", "/metrics", "");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->second.find("rm_mirror_delivery_failures_total{flow=\"us-east->eu-west\","
                                 "topic=\"load\"}"),
            std::string::npos)
      << metrics->second;
  EXPECT_NE(mirror.Log().find("refused by the target"), std::string::npos) << mirror.Log();
  EXPECT_EQ(mirror.Stop(), 0) << mirror.Log();
}

// While the target keeps refusing, /healthz says so, naming topic, partition and offset; once
// it accepts again, the copy completes exactly.
TEST_F(MirrorRobustness, TargetThatKeepsRefusingDegradesHealthUntilItAccepts) {
  constexpr int kRecords = 2'000;
  tb().CreateTopic("us-east", "load", 1);
  tb().CreateTopic("eu-west", "us-east.load", 1);
  MirrorSpec spec = Spec();
  spec.admin_port = 0;
  MirrorProcess mirror(spec, tmp_.path(), "refusing");
  // The injected errors refuse every Produce request to eu-west, the mirror's claim of the flow
  // included (mirror/flow_lease.h): inject them once the flow runs, before there is anything
  // to copy.
  ASSERT_NE(WaitLog(mirror, "resumes at 0"), std::string::npos) << mirror.Log();
  testbed::ControlClient control(tb().ControlAddress());
  ASSERT_TRUE(
      control
          .PushRequestErrors("eu-west", "Produce", std::vector<std::string>(100, "INVALID_RECORD"))
          .ok());
  ProduceWithOurClient(Bootstrap("us-east"), "load", MakeRecords(kRecords, 1));
  std::string health;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!mirror.AdminAddress().empty()) {
      auto h = testbed::ControlClient(mirror.AdminAddress()).Request("GET", "/healthz", "");
      if (h.ok() && h->first == 503 && h->second.find("source offset 0") != std::string::npos) {
        health = h->second;
        break;
      }
    }
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_NE(health.find("load[0]"), std::string::npos) << health << mirror.Log();
  EXPECT_EQ(TotalHighWatermark(Bootstrap("eu-west"), "us-east.load"), 0);
  ASSERT_TRUE(
      control.Request("POST", "/v1/errors/clear", R"({"region":"eu-west","api":"Produce"})").ok());
  ExpectExactCopy(kRecords);
  EXPECT_EQ(mirror.Stop(), 0) << mirror.Log();
}

// A target that lost copies (an unclean leader election, a topic recreated there; here: the
// alias now points at a cluster holding only part of them) must get them again, although the
// offset map and the group's commits say they were copied.
TEST_F(MirrorRobustness, CopiesATargetLostAreCopiedAgainDespiteTheOffsetMapAndCommits) {
  tb_ = std::make_unique<ScopedTestbed>(
      std::vector<std::string>{"us-east", "eu-west", "eu-west-rebuilt"}, 1);
  tb().CreateTopic("us-east", "load", 2);
  tb().CreateTopic("eu-west", "us-east.load", 2);
  tb().CreateTopic("eu-west-rebuilt", "us-east.load", 2);
  constexpr int kRecords = 1'000;
  ProduceWithOurClient(Bootstrap("us-east"), "load", MakeRecords(kRecords, 2));
  MirrorSpec spec = Spec();
  spec.offsets_dir = (tmp_.path() / "offsets").string();
  spec.admin_port = 0;
  {
    MirrorProcess mirror(spec, tmp_.path(), "before");
    ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.load", kRecords, 60s), kRecords);
    ASSERT_EQ(mirror.Stop(), 0) << mirror.Log();
  }
  // The rebuilt target kept the first 100 copies of partition 1 and nothing of partition 0.
  std::vector<Record> kept;
  for (auto& r : ConsumeWholeTopic(Bootstrap("eu-west"), "us-east.load", 2)) {
    if (r.partition == 1 && r.offset < 100) kept.push_back(std::move(r));
  }
  ASSERT_EQ(kept.size(), 100u);
  ProduceWithOurClient(Bootstrap("eu-west-rebuilt"), "us-east.load", kept);
  spec.clusters["eu-west"] = Bootstrap("eu-west-rebuilt");
  MirrorProcess mirror(spec, tmp_.path(), "after");
  ASSERT_EQ(WaitForTotal(Bootstrap("eu-west-rebuilt"), "us-east.load", kRecords, 60s, 2s), kRecords)
      << mirror.Log();
  CopyCheck c = CheckExactCopy(Bootstrap("us-east"), "load", Bootstrap("eu-west-rebuilt"),
                               "us-east.load", "us-east");
  EXPECT_EQ(c.lost, 0u) << c.first_problem;
  EXPECT_EQ(c.duplicated, 0u) << c.first_problem;
  EXPECT_EQ(c.misplaced, 0u) << c.first_problem;
  EXPECT_NE(mirror.Log().find("the target lost records"), std::string::npos) << mirror.Log();
  auto metrics = testbed::ControlClient(mirror.AdminAddress()).Request("GET", "/metrics", "");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->second.find("kind=\"target_lost_data\""), std::string::npos)
      << metrics->second;
  EXPECT_EQ(mirror.Stop(), 0);
}

// The same without an offset map: the group's commit says the records were copied, but the
// target holds none of them and deleted none.
TEST_F(MirrorRobustness, CopiesAnEmptiedTargetLostAreCopiedAgainDespiteTheCommits) {
  tb_ = std::make_unique<ScopedTestbed>(
      std::vector<std::string>{"us-east", "eu-west", "eu-west-rebuilt"}, 1);
  tb().CreateTopic("us-east", "load", 2);
  tb().CreateTopic("eu-west", "us-east.load", 2);
  tb().CreateTopic("eu-west-rebuilt", "us-east.load", 2);
  constexpr int kRecords = 600;
  ProduceWithOurClient(Bootstrap("us-east"), "load", MakeRecords(kRecords, 2));
  MirrorSpec spec = Spec();
  {
    MirrorProcess mirror(spec, tmp_.path(), "before");
    ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.load", kRecords, 60s), kRecords);
    ASSERT_EQ(mirror.Stop(), 0) << mirror.Log();
  }
  spec.clusters["eu-west"] = Bootstrap("eu-west-rebuilt");
  MirrorProcess mirror(spec, tmp_.path(), "after");
  ASSERT_EQ(WaitForTotal(Bootstrap("eu-west-rebuilt"), "us-east.load", kRecords, 60s, 2s), kRecords)
      << mirror.Log();
  CopyCheck c = CheckExactCopy(Bootstrap("us-east"), "load", Bootstrap("eu-west-rebuilt"),
                               "us-east.load", "us-east");
  EXPECT_EQ(c.lost, 0u) << c.first_problem;
  EXPECT_EQ(c.duplicated, 0u) << c.first_problem;
  EXPECT_NE(mirror.Log().find("holds none of this flow's copies and deleted none"),
            std::string::npos)
      << mirror.Log();
  EXPECT_EQ(mirror.Stop(), 0);
}

// A source topic deleted and recreated starts its offsets again at 0, below what was copied
// (here: the alias now points at a cluster where "load" is younger). Its records are copied
// from its start, with an error log and a metric, instead of being skipped.
TEST_F(MirrorRobustness, RecreatedSourceTopicIsCopiedFromItsStartNotSkipped) {
  tb_ = std::make_unique<ScopedTestbed>(
      std::vector<std::string>{"us-east", "eu-west", "us-east-recreated"}, 1);
  tb().CreateTopic("us-east", "load", 1);
  tb().CreateTopic("eu-west", "us-east.load", 1);
  tb().CreateTopic("us-east-recreated", "load", 1);
  ProduceWithOurClient(Bootstrap("us-east"), "load", MakeRecords(500, 1));
  MirrorSpec spec = Spec();
  spec.offsets_dir = (tmp_.path() / "offsets").string();
  spec.admin_port = 0;
  {
    MirrorProcess mirror(spec, tmp_.path(), "before");
    ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.load", 500, 60s), 500);
    ASSERT_EQ(mirror.Stop(), 0) << mirror.Log();
  }
  std::vector<Record> fresh = MakeRecords(120, 1, 16, 1'800'000'000'000);
  for (auto& r : fresh) r.value = "new-" + *r.value;
  ProduceWithOurClient(Bootstrap("us-east-recreated"), "load", fresh);
  spec.clusters["us-east"] = Bootstrap("us-east-recreated");
  {
    MirrorProcess mirror(spec, tmp_.path(), "after");
    ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.load", 620, 60s, 2s), 620)
        << mirror.Log();
    EXPECT_NE(mirror.Log().find("the topic was deleted and recreated"), std::string::npos)
        << mirror.Log();
    auto metrics = testbed::ControlClient(mirror.AdminAddress()).Request("GET", "/metrics", "");
    ASSERT_TRUE(metrics.ok());
    EXPECT_NE(metrics->second.find("kind=\"source_recreated\""), std::string::npos)
        << metrics->second;
    ASSERT_EQ(mirror.Stop(), 0) << mirror.Log();
  }
  // The new records follow the old copies, in order, each once.
  auto target = ConsumeWholeTopic(Bootstrap("eu-west"), "us-east.load", 1);
  ASSERT_EQ(target.size(), 620u);
  for (size_t i = 0; i < 120; ++i) EXPECT_EQ(target[500 + i].value, fresh[i].value) << i;
  // A restart resumes after the new copies: nothing more is copied.
  MirrorProcess again(spec, tmp_.path(), "again");
  ASSERT_NE(WaitLog(again, "resumes at 120 (target tail)"), std::string::npos) << again.Log();
  EXPECT_EQ(TotalHighWatermark(Bootstrap("eu-west"), "us-east.load"), 620);
  EXPECT_EQ(again.Stop(), 0);
}

TEST_F(MirrorRobustness, RecordsLostToSourceRetentionAreReportedNotSilentlySkipped) {
  tb().CreateTopic("us-east", "load", 1);
  tb().CreateTopic("eu-west", "us-east.load", 1);
  ProduceWithOurClient(Bootstrap("us-east"), "load", MakeRecords(100, 1));
  {
    MirrorProcess mirror(Spec(), tmp_.path(), "before");
    ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.load", 100, 60s), 100);
    ASSERT_EQ(mirror.Stop(), 0);
  }
  // While the mirror is down, the source drops its oldest data (the testbed keeps ~5 MiB).
  for (int i = 0; i < 4; ++i) {
    ProduceWithOurClient(Bootstrap("us-east"), "load", MakeRecords(500, 1, 4096));
  }
  common::Consumer c({{"bootstrap.servers", Bootstrap("us-east")}}, nullptr, "wm");
  auto wm = c.QueryWatermarks("load", 0, 5s);
  ASSERT_TRUE(wm.ok());
  ASSERT_GT(wm->low, 100) << "the source kept everything; produce more to pass its retention";
  MirrorSpec spec = Spec();
  spec.admin_port = 0;
  MirrorProcess mirror(spec, tmp_.path(), "after");
  ASSERT_EQ(WaitForTotal(Bootstrap("eu-west"), "us-east.load", 100 + (wm->high - wm->low), 60s),
            100 + (wm->high - wm->low))
      << mirror.Log();
  std::string expected = fmt::format(
      "load[0] offsets 100..{} ({} records) were deleted by source "
      "retention before they were copied",
      wm->low - 1, wm->low - 100);
  EXPECT_NE(mirror.Log().find(expected), std::string::npos) << mirror.Log();
  auto metrics = testbed::ControlClient(mirror.AdminAddress()).Request("GET", "/metrics", "");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->second.find(fmt::format(
                "rm_mirror_records_skipped_total{{flow=\"us-east->eu-west\",topic=\"load\"}} {}",
                wm->low - 100)),
            std::string::npos)
      << metrics->second;
  EXPECT_EQ(mirror.Stop(), 0);
}

}  // namespace
}  // namespace rm::testing

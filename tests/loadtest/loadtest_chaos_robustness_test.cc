// --chaos end to end: the mirror is SIGKILLed and restarted while the load runs, and the
// verifier must still see every record exactly once and in order (DESIGN.md invariants 1, 2).
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gtest/gtest.h>

#include <atomic>

#include "loadtest/runner.h"
#include "tests/support/process.h"
#include "tests/util/test_util.h"

namespace rm::loadtest {
namespace {

using namespace std::chrono_literals;

TEST(LoadTestChaos, KillingTheMirrorMidRunLosesAndDuplicatesNothing) {
  rm::testing::TempDir tmp;
  LoadTestOptions o;
  o.workload.partitions_per_topic = 4;
  o.workload.message_size = 200;
  o.workload.producer_rate = 2000;
  o.duration_s = 5;
  o.warmup_s = 0;
  o.out_dir = tmp.path().string();
  o.mirror_binary = rm::testing::RegionmirrorPath();
  o.progress = nullptr;
  o.drain_timeout = 40s;
  o.chaos = true;
  o.chaos_min = o.chaos_max = 2500ms;  // one kill, about half way
  o.chaos_seed = 1;
  std::atomic<bool> stop{false};
  RunResult r = RunLoadTest(o, stop);
  ASSERT_EQ(r.chaos_events.size(), 1u) << r.chaos_events.dump();
  EXPECT_EQ(r.mirror["restarts"].get<int>(), 1);
  EXPECT_TRUE(r.ok()) << fmt::format("{}", fmt::join(r.problems, "; "));
  EXPECT_EQ(r.generator.sent, 10000);
  EXPECT_EQ(r.verification.received, 10000);
  EXPECT_EQ(r.verification.lost, 0);
  EXPECT_EQ(r.verification.duplicates, 0);
  EXPECT_EQ(r.verification.reordered, 0);
}

}  // namespace
}  // namespace rm::loadtest

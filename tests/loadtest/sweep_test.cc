#include "loadtest/sweep.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/result.h"

namespace rm::loadtest {
namespace {

using ::testing::HasSubstr;

std::string ErrorOf(const std::string& spec) {
  try {
    ParseSweepSpec(spec);
  } catch (const common::ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Sweep, ShortKeysNameTheMirrorsSettingsAndTheGridIsEveryCombination) {
  auto axes =
      ParseSweepSpec("linger.ms=1,5; fetch.wait.max.ms=2,10;max_inflight_per_partition=5000");
  ASSERT_EQ(axes.size(), 3u);
  EXPECT_EQ(axes[0].key, "mirror.producer.linger.ms");
  EXPECT_EQ(axes[1].key, "mirror.consumer.fetch.wait.max.ms");
  EXPECT_EQ(axes[2].key, "mirror.max_inflight_per_partition");
  auto grid = ExpandGrid(axes);
  ASSERT_EQ(grid.size(), 4u);
  EXPECT_EQ(SettingLabel(grid[3]),
            "linger.ms=5 fetch.wait.max.ms=10 max_inflight_per_partition=5000");
}

TEST(Sweep, ApplyingAPointSetsTheMirrorBlockTheRateAndTheHarnessClients) {
  LoadTestOptions base;
  base.workload.replication.mirror = YAML::Load("{producer: {acks: all}, commit_interval_ms: 700}");
  auto o = ApplySetting(base, {{"rate", "7000"},
                               {"mirror.producer.linger.ms", "20"},
                               {"mirror.max_inflight_total", "1000"},
                               {"producer.batch.size", "65536"}});
  EXPECT_DOUBLE_EQ(o.workload.producer_rate, 7000);
  EXPECT_EQ(o.workload.replication.producer.at("batch.size"), "65536");
  const YAML::Node& m = o.workload.replication.mirror;
  EXPECT_EQ(m["producer"]["linger.ms"].as<std::string>(), "20");
  EXPECT_EQ(m["producer"]["acks"].as<std::string>(), "all");  // the workload's kept
  EXPECT_EQ(m["max_inflight_total"].as<int>(), 1000);
  EXPECT_EQ(m["commit_interval_ms"].as<int>(), 700);
  // The base is untouched (points do not leak into each other).
  EXPECT_FALSE(base.workload.replication.mirror["producer"]["linger.ms"]);
  // The mirror generates its YAML from the block; the sweep's settings are in it.
  std::string yaml = MirrorYamlFor(o, "a:1", "b:2", "");
  EXPECT_THAT(yaml, HasSubstr("linger.ms: 20"));
  EXPECT_THAT(yaml, HasSubstr("max_inflight_total: 1000"));
}

TEST(Sweep, BadSpecsAreNamed) {
  EXPECT_THAT(ErrorOf("linger=1"), HasSubstr("unknown key 'linger'"));
  EXPECT_THAT(ErrorOf("linger.ms"), HasSubstr("'linger.ms' is not key=value"));
  EXPECT_THAT(ErrorOf("rate=fast"), HasSubstr("rate: 'fast' is not a positive number"));
  EXPECT_THAT(ErrorOf("linger.ms=;"), HasSubstr("has no values"));
  EXPECT_THAT(ErrorOf("linger.ms=1;linger.ms=2"), HasSubstr("appears twice"));
  EXPECT_THAT(ErrorOf(""), HasSubstr("no settings"));
}

RunResult FakeRun(double rate, double p99_ms, bool behind) {
  RunResult r;
  r.consume_rate = rate;
  r.from_intended_us.Record(static_cast<int64_t>(p99_ms * 1000), 100);
  r.fell_behind = behind;
  return r;
}

TEST(Sweep, RecommendsTheFastestSustainablePointUnderTheBound) {
  // rate=1000: fine; rate=2000: fine but p99 too high with linger 20; rate=4000 falls behind.
  auto axes = ParseSweepSpec("rate=1000,2000,4000;linger.ms=1,20");
  int calls = 0;
  auto run = [&calls](const LoadTestOptions& o) {
    ++calls;
    const double rate = o.workload.producer_rate;
    const bool long_linger =
        o.workload.replication.mirror["producer"]["linger.ms"].as<std::string>() == "20";
    // One noisy run per point: the median ignores it.
    const double noise = calls % 3 == 0 ? 5 : 1;
    return FakeRun(rate * 0.99, (long_linger ? 60 : 20) * noise, rate >= 4000);
  };
  SweepOutcome out = RunSweep(
      LoadTestOptions{}, axes, 3, 50, run, [] { return false; }, nullptr);
  EXPECT_EQ(calls, 18);
  ASSERT_EQ(out.points.size(), 6u);
  ASSERT_GE(out.recommended, 0);
  EXPECT_EQ(SettingLabel(out.points[out.recommended].setting), "rate=2000 linger.ms=1");
  EXPECT_DOUBLE_EQ(out.points[out.recommended].p99_ms, 20);
  EXPECT_FALSE(out.points[4].sustainable);  // rate=4000
  EXPECT_THAT(out.points[4].why_not[0], HasSubstr("fell behind"));
  EXPECT_THAT(MirrorSnippet(out.points[out.recommended].setting), HasSubstr("linger.ms: 1"));
  auto j = SweepJson(out, 50);
  EXPECT_EQ(j["recommendation"]["label"], "rate=2000 linger.ms=1");
  auto shown = ForReport(out);
  EXPECT_TRUE(shown[out.recommended].recommended);
}

TEST(Sweep, NothingIsRecommendedWhenNoPointMeetsTheBound) {
  auto axes = ParseSweepSpec("linger.ms=1,5");
  auto run = [](const LoadTestOptions&) { return FakeRun(1000, 500, false); };
  SweepOutcome out = RunSweep(
      LoadTestOptions{}, axes, 3, 100, run, [] { return false; }, nullptr);
  EXPECT_EQ(out.recommended, -1);
  EXPECT_FALSE(SweepJson(out, 100).contains("recommendation"));
}

}  // namespace
}  // namespace rm::loadtest

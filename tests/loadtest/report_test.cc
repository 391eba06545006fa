#include "loadtest/report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "loadtest/progress.h"

namespace rm::loadtest {
namespace {

using ::testing::HasSubstr;

RunResult SampleRun() {
  RunResult r;
  r.settings["workload"]["name"] = "sample <run>";
  for (int i = 1; i <= 5; ++i) {
    IntervalSample s;
    s.t_s = i;
    s.publish_rate = 1000 * i;
    s.consume_rate = 900 * i;
    s.backlog = 100 * i;
    s.p50_ms = 10;
    s.p99_ms = 20 + i;
    s.mirror_rate = 950 * i;
    s.mirror_lag = 50;
    r.intervals.push_back(s);
  }
  for (int i = 1; i <= 1000; ++i) r.from_intended_us.Record(i * 100);
  r.from_sent_us.Record(5000);
  r.publish_rate = 3000;
  r.generator.sent = 15000;
  r.verification.received = 15000;
  return r;
}

TEST(Report, JsonUsesOmbResultFieldNames) {
  nlohmann::json j = ReportJson(SampleRun());
  for (const char* k : {"publishRate", "consumeRate", "backlog", "endToEndLatency50pct",
                        "endToEndLatency99pct", "endToEndLatency999pct", "endToEndLatencyMax",
                        "aggregatedEndToEndLatencyAvg", "aggregatedEndToEndLatency50pct",
                        "aggregatedEndToEndLatency99pct", "aggregatedEndToEndLatency999pct",
                        "aggregatedEndToEndLatencyMax", "aggregatedEndToEndLatencyQuantiles"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_EQ(j["publishRate"].size(), 5u);
  EXPECT_DOUBLE_EQ(j["publishRate"][2].get<double>(), 3000);
  // 1000 samples of 0.1..100 ms: p99 is 99 ms (to the histogram's precision).
  EXPECT_NEAR(j["aggregatedEndToEndLatency99pct"].get<double>(), 99.0, 0.1);
  EXPECT_NEAR(j["aggregatedEndToEndLatencyMax"].get<double>(), 100.0, 1e-9);
  for (const char* k :
       {"settings", "intervals", "scheduleDelay", "verification", "mirror", "cpu"}) {
    EXPECT_TRUE(j.contains(k)) << k;
  }
  EXPECT_TRUE(j["verification"]["ok"].get<bool>());
  EXPECT_TRUE(j["ok"].get<bool>());
}

TEST(Report, HtmlIsSelfContainedWithTheCharts) {
  std::string html = ReportHtml(SampleRun(), {{"linger.ms=5", 5000, 20, true, true},
                                              {"linger.ms=50", 4000, 80, false, false}});
  for (const char* id : {"id=\"throughput\"", "id=\"latency-percentiles\"", "id=\"lag\"",
                         "id=\"latency-over-time\"", "id=\"sweep\""}) {
    EXPECT_THAT(html, HasSubstr(id));
  }
  EXPECT_THAT(html, HasSubstr("class=\"series\""));
  EXPECT_THAT(html, HasSubstr("class=\"point\""));
  EXPECT_THAT(html, HasSubstr("sample &lt;run&gt;"));  // escaped
  // Nothing fetched from elsewhere: no scripts, stylesheets or images by URL.
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("url("), std::string::npos);
}

TEST(Report, AFailedRunSaysWhy) {
  RunResult r = SampleRun();
  r.problems.push_back("verification failed: 3 lost");
  EXPECT_THAT(ReportHtml(r), HasSubstr("FAILED: verification failed: 3 lost"));
  EXPECT_THAT(SummaryText(r), HasSubstr("FAILED"));
  EXPECT_FALSE(ReportJson(r)["ok"].get<bool>());
}

TEST(Progress, TheLineShowsRateP99LagAndTheBar) {
  std::string line = Progress::Line({30, 60, 5000, 12.5, 42, false}, 10);
  EXPECT_THAT(line, HasSubstr("[#####.....]"));
  EXPECT_THAT(line, HasSubstr("30/60 s"));
  EXPECT_THAT(line, HasSubstr("5000 rec/s"));
  EXPECT_THAT(line, HasSubstr("p99     12.5 ms"));
  EXPECT_THAT(line, HasSubstr("lag       42"));
}

}  // namespace
}  // namespace rm::loadtest

// `regionmirror cdc cassandra run` against a testbed: a tailed 4.x segment ends up in Kafka as
// Debezium-style events (read back with our client and with kcat), /metrics and /healthz answer,
// SIGTERM exits 0, and bad configurations are refused naming file and field.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <regex>
#include <thread>

#include "tests/src-cdc/cassandra_capture_process_support.h"
#include "tests/support/testbed_fixture.h"
#include "tests/util/test_util.h"

namespace rm::cdc::cassandra {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::AdminAddress;
using testing::Curl;
using testing::WaitFor;

TEST(CassandraCaptureProcess, TailedSegmentArrivesInKafkaAndSigtermExitsCleanly) {
  rm::testing::TempDir tmp;
  const fs::path cdc_raw = tmp / "cdc_raw";
  fs::create_directories(cdc_raw);
  const auto fixture = testing::KillTestFixtures().back();  // 4.0.11, table Standard1
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  const std::string bootstrap = tb.Bootstrap("us-east");
  const std::string topic = "cass.Keyspace1.Standard1";
  tb.CreateTopic("us-east", topic, 3);
  const std::string config = (tmp / "cdc.yaml").string();
  rm::testing::WriteFile(config, testing::CaptureConfigYaml(tmp.path(), bootstrap, {fixture}, 0,
                                                            "move:" + (tmp / "done").string()));
  const std::string log = (tmp / "capture.log").string();
  const std::string file = fixture.files.front();
  const std::string bytes = rm::testing::ReadFile(testing::FixtureRoot() / fixture.dir / file);
  const auto ends = testing::SectionEnds(bytes);
  testing::WriteLiveSegment(cdc_raw, file, bytes, ends[ends.size() / 2], false);

  rm::testing::ChildProcess capture(
      {rm::testing::RegionmirrorPath(), "cdc", "cassandra", "run", "--config", config}, log,
      testing::CaptureEnv());
  ASSERT_TRUE(WaitFor([&] { return !AdminAddress(log).empty(); }, 20s))
      << rm::testing::ReadFile(log);
  const std::string admin = "http://" + AdminAddress(log);
  ASSERT_TRUE(WaitFor([&] {
    return Curl(admin + "/metrics").find("rm_cdc_cassandra_events_acked_total 0") ==
           std::string::npos;
  }));
  EXPECT_TRUE(fs::exists(cdc_raw / file)) << "not COMPLETED: must stay";
  testing::WriteLiveSegment(cdc_raw, file, bytes, ends.back(), true);
  ASSERT_TRUE(WaitFor([&] { return fs::exists(tmp / "done" / file); }, 30s))
      << rm::testing::ReadFile(log);

  const std::string metrics = Curl(admin + "/metrics");
  EXPECT_NE(metrics.find("rm_cdc_cassandra_segments_done_total 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("rm_cdc_cassandra_position_segment_id 1699285478684"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("rm_cdc_cassandra_lag_bytes 0"), std::string::npos) << metrics;
  const std::string health = Curl(admin + "/healthz");
  EXPECT_EQ(health.substr(health.size() - 3), "200") << health;

  capture.Signal(SIGTERM);
  auto rc = capture.Wait(30s);
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(*rc, 0) << rm::testing::ReadFile(log);

  const auto ours = testing::ReadTopic(bootstrap, topic, 3);
  const auto check = testing::CheckEvents(ours);
  EXPECT_EQ(check.cells, 355);
  EXPECT_EQ(check.positions, testing::ExpectedPositions(fixture));
  EXPECT_EQ(ours.size(), check.positions.size()) << "no re-sends without a crash";
  const auto v = nlohmann::json::parse(*ours.front().value);
  EXPECT_EQ(v["op"], "i");
  EXPECT_EQ(v["source"]["connector"], "cassandra");
  EXPECT_EQ(v["source"]["cluster"], "Test Cluster");
  EXPECT_EQ(v["source"]["file"], file);
  const auto key = nlohmann::json::parse(*ours.front().key);
  EXPECT_TRUE(key.contains("key") && key.contains("col")) << *ours.front().key;

  const auto kcat = testing::ReadTopicWithKcat(bootstrap, topic);
  EXPECT_EQ(testing::CheckEvents(kcat).positions, check.positions);
  EXPECT_EQ(testing::CheckEvents(kcat).hash, check.hash);
}

TEST(CassandraCaptureProcess, CheckAcceptsAGoodConfigAndBadOnesAreRefusedNamingTheField) {
  rm::testing::TempDir tmp;
  fs::create_directories(tmp / "cdc_raw");
  const auto fixtures = testing::KillTestFixtures();
  const std::string good = (tmp / "good.yaml").string();
  rm::testing::WriteFile(good, testing::CaptureConfigYaml(tmp.path(), "127.0.0.1:1", fixtures, -1));

  auto ok = rm::testing::RunCommand(
      {rm::testing::RegionmirrorPath(), "cdc", "cassandra", "run", "--config", good, "--check"},
      30s, testing::CaptureEnv());
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  EXPECT_NE(ok.output.find("4 captured tables"), std::string::npos) << ok.output;

  const std::string bad = (tmp / "bad.yaml").string();
  rm::testing::WriteFile(bad, "cassandra:\n  cdc_raw_dir: " + (tmp / "missing").string() +
                                  "\n  state_dir: " + (tmp / "state").string() +
                                  "\n  topic_prefix: cass\n  procesed: delete\n"
                                  "kafka:\n  bootstrap_servers: 127.0.0.1:1\n");
  auto refused = rm::testing::RunCommand(
      {rm::testing::RegionmirrorPath(), "cdc", "cassandra", "run", "--config", bad}, 30s);
  EXPECT_EQ(refused.exit_code, 1) << refused.output;
  EXPECT_NE(refused.output.find("bad.yaml:2: cassandra.cdc_raw_dir"), std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("bad.yaml:5: cassandra.procesed: unknown field"), std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("bad.yaml:1: cassandra.tables: required"), std::string::npos)
      << refused.output;
}

}  // namespace
}  // namespace rm::cdc::cassandra

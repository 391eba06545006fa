// kill -9 of `regionmirror cdc cassandra run` while one table is stopped by an incompatible
// change and its entries go to its spill (spill.h), then while the spill is produced after
// `accept-schema`: the other tables' segments are delivered and deleted while the table is
// stopped (cdc_raw empties, kills included), and in the end every change of every table is in
// Kafka, the stopped table's all in the accepted version, with no spill left.
//
// Why this can fail: a checkpoint saved before the spill holding the entries it passes was
// synced, a covered length out of step with the position, a torn frame of a killed append read
// back, or a spill removed before its replayed events were acknowledged loses the stopped
// table's changes (the segments holding them are deleted by then); a spill replayed from
// entries the checkpoint had not passed, or the other tables read again from the stop, shows
// as events beyond what the kills re-send.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <random>
#include <thread>

#include "tests/src-cdc/cassandra_capture_process_support.h"
#include "tests/support/testbed_fixture.h"
#include "tests/util/test_util.h"

namespace rm::cdc::cassandra {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using rm::testing::ChildProcess;
using testing::WaitFor;

struct Seen {
  std::set<std::pair<int64_t, int64_t>> positions;
  size_t records = 0;
  std::set<int> versions;
};

Seen Read(const std::string& bootstrap, const std::string& topic) {
  Seen out;
  for (const auto& r : testing::ReadTopic(bootstrap, topic, 2)) {
    if (!r.value) continue;
    const auto v = nlohmann::json::parse(*r.value);
    const auto& p = v.at("payload");
    out.positions.insert(
        {p["source"]["segment_id"].get<int64_t>(), p["source"]["pos"].get<int64_t>()});
    out.versions.insert(v["schema"]["fields"][1]["version"].get<int>());
    ++out.records;
  }
  return out;
}

TEST(CassandraSpillKill, AStoppedTablesSpillLosesNothingAcrossKillNineWhileTheOthersGoOn) {
  rm::testing::TempDir tmp;
  const fs::path cdc_raw = tmp / "cdc_raw";
  fs::create_directories(cdc_raw);
  const auto fixtures = testing::KillTestFixtures();
  const testing::FixtureTable t3029 = fixtures[1];  // goes on
  const testing::FixtureTable t3013 = fixtures[2];  // stopped
  const testing::FixtureTable t40 = fixtures[3];    // goes on
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  const std::string bootstrap = tb.Bootstrap("us-east");
  const std::string topic3013 = "cass.Keyspace1.Standard1_3013";
  const std::vector<std::string> others = {"cass.Keyspace1.Standard1_3029",
                                           "cass.Keyspace1.Standard1"};
  for (const std::string& t : others) tb.CreateTopic("us-east", t, 2);
  tb.CreateTopic("us-east", topic3013, 2);
  tb.CreateTopic("us-east", "cass.schema-history", 1);
  std::string yaml = testing::CaptureConfigYaml(tmp.path(), bootstrap, {t3029, t3013, t40}, 0);
  yaml.replace(yaml.find("cassandra:\n"), 11,
               "cassandra:\n  schema: {history: true, envelope: json_with_schema, "
               "accept_poll_ms: 100}\n");
  const std::string config = (tmp / "cdc.yaml").string();
  rm::testing::WriteFile(config, yaml);
  const std::string log = (tmp / "capture.log").string();
  const std::vector<std::string> argv = {
      rm::testing::RegionmirrorPath(), "cdc", "cassandra", "run", "--config", config};
  const std::string file40 = t40.files.front();
  const std::string bytes40 = rm::testing::ReadFile(testing::FixtureRoot() / t40.dir / file40);
  const int64_t id40 = SegmentIdFromFileName(file40).value();
  const auto place40 = [&](int64_t id) {
    const std::string bytes = id == id40 ? bytes40 : testing::WithSegmentId(bytes40, id);
    testing::WriteLiveSegment(cdc_raw, fmt::format("CommitLog-7-{}.log", id), bytes,
                              testing::SectionEnds(bytes).back(), true);
  };

  // Given a first run that recorded every table's shape (version 1)
  place40(id40);
  {
    ChildProcess capture(argv, log, testing::CaptureEnv());
    ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw); }, 30s)) << rm::testing::ReadFile(log);
    capture.Signal(SIGTERM);
    ASSERT_TRUE(capture.Wait(30s).has_value());
  }

  // When Standard1_3013.val is retyped blob -> text (incompatible) and segments of every table
  // arrive while the capture is killed with -9 again and again
  const std::string from = "\"Standard1_3013\" (key ascii, col ascii, val blob";
  yaml.replace(yaml.find(from), from.size(), "\"Standard1_3013\" (key ascii, col ascii, val text");
  rm::testing::WriteFile(config, yaml);
  std::mt19937 rng(::testing::UnitTest::GetInstance()->random_seed());
  std::atomic<bool> fed{false};
  std::thread feeder([&, seed = rng()] {
    std::mt19937 r(seed);
    const auto pause = [&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(100 + r() % 400));
    };
    testing::PlaceCompleteSegment(cdc_raw, t3013.dir, t3013.files[0]);
    pause();
    testing::PlaceCompleteSegment(cdc_raw, t3029.dir, t3029.files[0]);
    pause();
    testing::PlaceCompleteSegment(cdc_raw, t3013.dir, t3013.files[1]);
    pause();
    place40(id40 + 1);
    fed = true;
  });
  uintmax_t last_start = testing::LogSize(log);
  auto capture = std::make_unique<ChildProcess>(argv, log, testing::CaptureEnv());
  int kills = 0;
  const auto kill_rounds = [&](int rounds, const std::function<bool()>& more) {
    for (int i = 0; i < rounds || more(); ++i) {
      const auto until =
          std::chrono::steady_clock::now() + std::chrono::milliseconds(150 + rng() % 700);
      while (std::chrono::steady_clock::now() < until && capture->running()) {
        std::this_thread::sleep_for(10ms);
      }
      if (!capture->running()) return;
      capture->Kill();
      ++kills;
      last_start = testing::LogSize(log);
      capture = std::make_unique<ChildProcess>(argv, log, testing::CaptureEnv());
    }
  };
  kill_rounds(3, [&] { return !fed.load(); });
  feeder.join();
  ASSERT_TRUE(capture->running()) << rm::testing::ReadFile(log);

  // Then every segment is delivered and deleted while the table is still stopped
  ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw); }, 60s)) << rm::testing::ReadFile(log);
  const fs::path spill = tmp / "state" / "spill" / "Keyspace1.Standard1_3013.spill";
  EXPECT_TRUE(fs::exists(spill));
  EXPECT_TRUE(Read(bootstrap, topic3013).positions.empty());

  // When an operator accepts the shape and the capture is killed while it produces the spill
  auto accept = testing::AcceptSchema(config, "Keyspace1.Standard1_3013");
  ASSERT_EQ(accept.exit_code, 0) << accept.output;
  kill_rounds(3, [] { return false; });
  ASSERT_TRUE(capture->running()) << rm::testing::ReadFile(log);
  ASSERT_TRUE(WaitFor([&] { return !fs::exists(spill); }, 60s)) << rm::testing::ReadFile(log);
  testing::StopTheLastRunOnceDrained(*capture, log, cdc_raw, last_start);
  if (HasFatalFailure()) return;

  // Then every change of every table is there, the stopped table's all in version 2
  const Seen stopped = Read(bootstrap, topic3013);
  EXPECT_EQ(stopped.positions, testing::ExpectedPositions(t3013));
  EXPECT_EQ(stopped.versions, std::set<int>{2});
  auto expected40 = testing::ExpectedPositions(t40);
  for (const auto& [segment, pos] : testing::ExpectedPositions(t40)) {
    expected40.insert({id40 + 1, pos});
  }
  const Seen s3029 = Read(bootstrap, others[0]);
  const Seen s40 = Read(bootstrap, others[1]);
  EXPECT_EQ(s3029.positions, testing::ExpectedPositions(t3029));
  EXPECT_EQ(s40.positions, expected40);
  EXPECT_TRUE(fs::is_empty(tmp / "state" / "spill"));
  RecordProperty("kills", kills);
  std::printf("kills=%d stopped table: %zu events %zu records; others: %zu events %zu records\n",
              kills, stopped.positions.size(), stopped.records,
              s3029.positions.size() + s40.positions.size(), s3029.records + s40.records);
}

}  // namespace
}  // namespace rm::cdc::cassandra

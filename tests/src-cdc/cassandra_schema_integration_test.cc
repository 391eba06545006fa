// `regionmirror cdc cassandra run` with schema history and Connect schemas against a testbed:
// versions in the history topic, an incompatible CQL change that stops one table (/healthz 503
// naming it) while the other goes on (its segments cleaned up, the stopped table's entries
// spilled), `cdc cassandra accept-schema`, and the table's changes then arriving from the spill
// in the accepted version's shape, the other table's not again.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <regex>
#include <thread>

#include "src-cdc/schema_history.h"
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

// Unwraps {"schema", "payload"} records into the plain events CheckEvents reads.
std::vector<testing::StoredRecord> Payloads(const std::vector<testing::StoredRecord>& records) {
  std::vector<testing::StoredRecord> out;
  for (const auto& r : records) {
    if (!r.value) continue;
    const auto v = nlohmann::json::parse(*r.value);
    out.push_back({r.topic, r.key, v.at("payload").dump()});
  }
  return out;
}

std::set<std::pair<int64_t, int64_t>> Positions(const std::vector<testing::StoredRecord>& rs) {
  return testing::CheckEvents(rs).positions;
}

TEST(CassandraSchemaProcess, IncompatibleCqlChangeStopsOneTableUntilAcceptSchema) {
  rm::testing::TempDir tmp;
  const fs::path cdc_raw = tmp / "cdc_raw";
  fs::create_directories(cdc_raw);
  const auto fixtures = testing::KillTestFixtures();
  const testing::FixtureTable t3029 = fixtures[1];  // Standard1_3029
  const testing::FixtureTable t40 = fixtures[3];    // Standard1 (4.0.11, tailed)
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  const std::string bootstrap = tb.Bootstrap("us-east");
  const std::string history_topic = "cass.schema-history";
  const std::string topic40 = "cass.Keyspace1.Standard1";
  const std::string topic3029 = "cass.Keyspace1.Standard1_3029";
  tb.CreateTopic("us-east", topic40, 2);
  tb.CreateTopic("us-east", topic3029, 2);
  tb.CreateTopic("us-east", history_topic, 1);
  std::string yaml = testing::CaptureConfigYaml(tmp.path(), bootstrap, {t3029, t40}, 0);
  yaml.replace(yaml.find("cassandra:\n"), 11,
               "cassandra:\n  schema: {history: true, envelope: json_with_schema, "
               "accept_poll_ms: 100}\n");
  const std::string config = (tmp / "cdc.yaml").string();
  rm::testing::WriteFile(config, yaml);
  std::string log = (tmp / "capture1.log").string();
  const std::string file40 = t40.files.front();
  const std::string bytes40 = rm::testing::ReadFile(testing::FixtureRoot() / t40.dir / file40);
  // Standard1's second segment: the fixture as the next segment id, as Cassandra would write
  // it (it never writes two segments with one id; a file re-created under a delivered
  // segment's name, which may get its freed inode, is CassandraCaptureTest's
  // FileRecreatedUnderTheCheckpointedSegmentsNameIsReadInFull).
  const int64_t id40 = SegmentIdFromFileName(file40).value();
  const std::string next40 = fmt::format("CommitLog-7-{}.log", id40 + 1);
  const std::string next_bytes40 = testing::WithSegmentId(bytes40, id40 + 1);
  const auto place40 = [&](const std::string& name, const std::string& bytes) {
    testing::WriteLiveSegment(cdc_raw, name, bytes, testing::SectionEnds(bytes).back(), true);
  };
  const auto start = [&] {
    return std::make_unique<rm::testing::ChildProcess>(
        std::vector<std::string>{rm::testing::RegionmirrorPath(), "cdc", "cassandra", "run",
                                 "--config", config},
        log, testing::CaptureEnv());
  };
  const auto stop = [&](rm::testing::ChildProcess& p) {
    p.Signal(SIGTERM);
    auto rc = p.Wait(30s);
    ASSERT_TRUE(rc.has_value());
    EXPECT_EQ(*rc, 0) << rm::testing::ReadFile(log);
  };
  const auto history = [&] {
    common::KafkaProperties props{{"bootstrap.servers", bootstrap}};
    auto h = ReadSchemaHistory(props, history_topic, 30s);
    EXPECT_TRUE(h.ok()) << h.error().message;
    return h.ok() ? std::move(h).value() : SchemaHistory{};
  };

  // Given a first run that recorded both tables' shapes (version 1)
  place40(file40, bytes40);
  {
    auto capture = start();
    ASSERT_TRUE(WaitFor([&] { return !fs::exists(cdc_raw / file40); }, 30s))
        << rm::testing::ReadFile(log);
    stop(*capture);
  }
  SchemaHistory h1 = history();
  ASSERT_EQ(h1.Versions("Keyspace1.Standard1").size(), 1u);
  ASSERT_EQ(h1.Versions("Keyspace1.Standard1_3029").size(), 1u);

  // When Standard1_3029.val is retyped blob -> text in the CQL and new segments arrive
  const std::string from = "\"Standard1_3029\" (key ascii, col ascii, val blob";
  yaml.replace(yaml.find(from), from.size(), "\"Standard1_3029\" (key ascii, col ascii, val text");
  rm::testing::WriteFile(config, yaml);
  testing::PlaceCompleteSegment(cdc_raw, t3029.dir, t3029.files.front());
  place40(next40, next_bytes40);
  log = (tmp / "capture2.log").string();
  auto capture = start();
  ASSERT_TRUE(WaitFor([&] { return !AdminAddress(log).empty(); }, 20s));
  const std::string admin = "http://" + AdminAddress(log);

  // Then /healthz names the stopped table, column, rule and position, the other table goes on
  // (its new segment read in full), and nothing of Standard1_3029 is in Kafka.
  ASSERT_TRUE(WaitFor([&] {
    return Curl(admin + "/healthz").find("stopped at commit log position") != std::string::npos;
  })) << rm::testing::ReadFile(log);
  const std::string health = Curl(admin + "/healthz");
  EXPECT_EQ(health.substr(health.size() - 3), "503") << health;
  for (const char* part : {"table Keyspace1.Standard1_3029", "column val: rule type_change",
                           "cdc cassandra accept-schema --table Keyspace1.Standard1_3029"}) {
    EXPECT_NE(health.find(part), std::string::npos) << part << " in " << health;
  }
  auto expected40 = testing::ExpectedPositions(t40);
  for (const auto& [segment, pos] : testing::ExpectedPositions(t40)) {
    expected40.insert({id40 + 1, pos});
  }
  ASSERT_TRUE(WaitFor(
      [&] { return testing::ReadTopic(bootstrap, topic40, 2).size() >= expected40.size(); }, 30s))
      << testing::ReadTopic(bootstrap, topic40, 2).size() << " of " << expected40.size()
      << " events of Standard1; the capture's log:\n"
      << rm::testing::ReadFile(log);
  EXPECT_EQ(Positions(Payloads(testing::ReadTopic(bootstrap, topic40, 2))), expected40);
  EXPECT_TRUE(testing::ReadTopic(bootstrap, topic3029, 2).empty());
  // and the stopped table's segment is delivered and deleted all the same (its entries are in
  // its spill in state_dir), as the other table's are
  ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw); }, 30s)) << rm::testing::ReadFile(log);
  EXPECT_NE(Curl(admin + "/metrics")
                .find("rm_cdc_cassandra_spill_bytes{table=\"Keyspace1.Standard1_3029\"}"),
            std::string::npos);
  ASSERT_NE(history().Pending("Keyspace1.Standard1_3029"), nullptr);

  // When an operator accepts the new shape
  auto accept = testing::AcceptSchema(config, "Keyspace1.Standard1_3029");
  EXPECT_EQ(accept.exit_code, 0) << accept.output;
  EXPECT_NE(accept.output.find("accepted the shape of Keyspace1.Standard1_3029 at commit log "
                               "position"),
            std::string::npos)
      << accept.output;

  // Then its changes arrive from its spill, in version 2's shape, the spill is removed, and
  // the other table's events are not produced again
  const size_t count40 = testing::ReadTopic(bootstrap, topic40, 2).size();
  const fs::path spill = tmp / "state" / "spill" / "Keyspace1.Standard1_3029.spill";
  ASSERT_TRUE(WaitFor([&] { return !fs::exists(spill); }, 30s)) << rm::testing::ReadFile(log);
  const auto events3029 = testing::ReadTopic(bootstrap, topic3029, 2);
  EXPECT_EQ(Positions(Payloads(events3029)), testing::ExpectedPositions(t3029));
  EXPECT_EQ(testing::ReadTopic(bootstrap, topic40, 2).size(), count40);
  for (const auto& r : events3029) {
    if (!r.value) continue;
    const auto v = nlohmann::json::parse(*r.value);
    ASSERT_EQ(v["schema"]["fields"][1]["version"], 2) << *r.value;
  }
  const std::string healthy = Curl(admin + "/healthz");
  EXPECT_EQ(healthy.substr(healthy.size() - 3), "200") << healthy;
  stop(*capture);
  SchemaHistory h2 = history();
  ASSERT_EQ(h2.Versions("Keyspace1.Standard1_3029").size(), 2u);
  EXPECT_TRUE(h2.Versions("Keyspace1.Standard1_3029")[1].accepted);
  EXPECT_EQ(h2.Pending("Keyspace1.Standard1_3029"), nullptr);
  EXPECT_EQ(h2.Versions("Keyspace1.Standard1").size(), 1u);
}

}  // namespace
}  // namespace rm::cdc::cassandra

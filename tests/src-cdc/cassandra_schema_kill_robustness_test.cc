// kill -9 of `regionmirror cdc cassandra run` with schema history on, while segments holding
// ALTER TABLEs (system_schema mutations, hand-encoded as Cassandra writes them, spliced into a
// real fixture segment and in segments of their own) arrive in cdc_raw: after several rounds
// of kill and restart, the history topic holds exactly what an uninterrupted run writes (every
// key one value, however often it was written again) and every event in Kafka, re-sent ones
// included, has the columns and schema version the uninterrupted run gave it.
//
// Why this can fail: the ALTERs are read from the commit log only; the segment holding one is
// deleted once delivered. A restart that forgot the columns it learned (the state keeps them
// beside the position), replayed a version under a new number or position, or took its
// position from before an ALTER without reading it again would decode later entries in
// another shape (an event without the column, or a version that differs) or write a history
// key twice with different values. (Tried: without the learned columns in the state, a
// restart past the first ALTER writes a new version at its start position.)
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <thread>

#include "src-cdc/cassandra/capture.h"
#include "src-cdc/schema_history.h"
#include "tests/src-cdc/cassandra_capture_process_support.h"
#include "tests/src-cdc/cassandra_schema_mutation_support.h"
#include "tests/support/testbed_fixture.h"
#include "tests/util/test_util.h"

namespace rm::cdc::cassandra {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using rm::testing::ChildProcess;
using testing::StoredRecord;
using testing::WaitFor;

constexpr char kDir[] = "3.0.29-encrypted";
constexpr char kFixture[] = "CommitLog-6-1699279786262.log";
constexpr int64_t kId = 1699279786262;
constexpr int kPartitions = 2;
constexpr char kTopic[] = "cass.Keyspace1.Standard1";
constexpr char kHistory[] = "cass.schema-history";
// Segments after the spliced fixture, each adding one column.
constexpr int kAlteredSegments = 5;

TableId Standard1Id() {
  return *testing::Standard1Schema(kDir).FindTable("Keyspace1", "Standard1")->id;
}

std::string IntWrite(const std::string& key, const std::string& column, int32_t value) {
  return testing::Entry(testing::MutationOf({testing::DataUpdate(
      Standard1Id(), key, "name0", {{column, testing::Int32(value), /*fixed=*/true}})}));
}

std::string AddIntColumn(const std::string& column) {
  return testing::Entry(testing::MutationOf(
      {testing::ColumnsUpdate("Keyspace1", "Standard1", {{.name = column, .type = "int"}})}));
}

std::string ColumnName(int i) { return i == 0 ? "extra" : fmt::format("c{}", i); }

// The segments, in arrival order: the fixture with ALTER ADD extra mid-way and a write of it,
// then per segment writes of the newest column, an ALTER adding the next, writes of it.
std::vector<std::pair<std::string, std::string>> Segments() {
  std::vector<std::pair<std::string, std::string>> out;
  const std::string fixture = rm::testing::ReadFile(testing::FixtureRoot() / kDir / kFixture);
  size_t entries = 0;
  for (const auto& s : testing::PlainSections(fixture)) {
    entries += testing::SectionEntries(s).size();
  }
  uint32_t at = 0;
  out.push_back({kFixture, testing::SpliceSegment(
                               fixture, kId, entries / 2,
                               {AddIntColumn("extra"), IntWrite("k0", "extra", 42)}, &at)});
  for (int i = 1; i <= kAlteredSegments; ++i) {
    std::string section;
    for (int j = 0; j < 3; ++j) {
      section += IntWrite(fmt::format("k{}-{}", i, j), ColumnName(i - 1), i * 10 + j);
    }
    section += AddIntColumn(ColumnName(i));
    for (int j = 0; j < 3; ++j) {
      section += IntWrite(fmt::format("k{}-{}n", i, j), ColumnName(i), i * 100 + j);
    }
    out.push_back(
        {fmt::format("CommitLog-6-{}.log", kId + i), testing::BuildSegment(6, kId + i, {section})});
  }
  return out;
}

void Place(const fs::path& cdc_raw, const std::string& name, const std::string& bytes) {
  rm::testing::WriteFile(cdc_raw / (name + ".part"), bytes);
  fs::rename(cdc_raw / (name + ".part"), cdc_raw / name);
}

// An event as compared: its row and the version of its `after` schema.
struct Shaped {
  nlohmann::json after;
  int version = 0;
  bool operator==(const Shaped&) const = default;
};

std::pair<std::pair<int64_t, int64_t>, Shaped> Parse(const StoredRecord& r) {
  const auto v = nlohmann::json::parse(*r.value);
  const auto& payload = v.at("payload");
  Shaped s;
  s.after = payload.at("after");
  for (const auto& f : v.at("schema").at("fields")) {
    if (f.at("field") == "after") s.version = f.at("version").get<int>();
  }
  return {{payload.at("source").at("segment_id").get<int64_t>(),
           payload.at("source").at("pos").get<int64_t>()},
          std::move(s)};
}

std::string ConfigYaml(const fs::path& tmp, const std::string& bootstrap) {
  return fmt::format(R"(cassandra:
  cdc_raw_dir: {}
  state_dir: {}
  topic_prefix: cass
  cluster: Test Cluster
  poll_interval_ms: 20
  checkpoint_interval_ms: 50
  shutdown_timeout_ms: 5000
  schema:
    envelope: json_with_schema
    history: true
    accept_poll_ms: 200
  tables:
    cql: |
      {}
kafka:
  bootstrap_servers: "{}"
  # A linger keeps records unacknowledged for a while, so kills find some in flight.
  properties: {{compression.type: lz4, linger.ms: "200"}}
admin:
  port: -1
)",
                     (tmp / "cdc_raw").string(), (tmp / "state").string(),
                     testing::TablesCql({{kDir, "Standard1", {kFixture}}}), bootstrap);
}

TEST(CassandraSchemaKill, HistoryAndEventsAfterKillNineRoundsEqualAnUninterruptedRun) {
  const auto segments = Segments();
  rm::testing::TempDir tmp;

  // The uninterrupted run, in process.
  std::map<std::string, std::string> want_history;
  std::map<std::pair<int64_t, int64_t>, Shaped> want_events;
  {
    const fs::path cdc_raw = tmp / "reference" / "cdc_raw";
    fs::create_directories(cdc_raw);
    for (const auto& [name, bytes] : segments) Place(cdc_raw, name, bytes);
    CaptureConfig config = testing::FastCaptureConfig(cdc_raw, tmp / "reference" / "state");
    config.schema.history = true;
    config.schema.envelope = EnvelopeFormat::kJsonWithSchema;
    const Schema schema = testing::Standard1Schema(kDir);
    testing::MemorySink sink;
    {
      testing::RunningCapture run(config, schema, sink, nullptr,
                                  [&sink]() -> common::Result<SchemaHistory> {
                                    SchemaHistory h;
                                    for (const auto& r : sink.acked_records()) {
                                      if (r.topic != kHistory) continue;
                                      auto s = h.Apply(*r.key, r.value);
                                      if (!s.ok()) return s.error();
                                    }
                                    return h;
                                  });
      ASSERT_TRUE(WaitFor([&] { return fs::is_empty(cdc_raw); }));
      ASSERT_TRUE(run.Stop().ok());
    }
    for (const auto& r : sink.records()) {
      if (r.topic == kHistory) {
        ASSERT_TRUE(r.value.has_value());
        ASSERT_TRUE(want_history.emplace(*r.key, *r.value).second) << *r.key;
      } else if (r.topic == kTopic && r.value) {
        want_events.insert(Parse(r));
      }
    }
  }
  ASSERT_EQ(want_history.size(), 1u + kAlteredSegments + 1);  // version 1, then one per ALTER
  ASSERT_GT(want_events.size(), 6u * kAlteredSegments);

  // The killed runs.
  const fs::path cdc_raw = tmp / "cdc_raw";
  fs::create_directories(cdc_raw);
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  const std::string bootstrap = tb.Bootstrap("us-east");
  tb.CreateTopic("us-east", kTopic, kPartitions);
  tb.CreateTopic("us-east", kHistory, 1);
  const std::string config = (tmp / "cdc.yaml").string();
  rm::testing::WriteFile(config, ConfigYaml(tmp.path(), bootstrap));
  const std::string log = (tmp / "capture.log").string();
  const std::vector<std::string> argv = {
      rm::testing::RegionmirrorPath(), "cdc", "cassandra", "run", "--config", config};
  std::mt19937 rng(::testing::UnitTest::GetInstance()->random_seed());

  std::atomic<bool> fed{false};
  std::thread feeder([&, seed = rng()] {
    std::mt19937 r(seed);
    for (const auto& [name, bytes] : segments) {
      Place(cdc_raw, name, bytes);
      std::this_thread::sleep_for(std::chrono::milliseconds(100 + r() % 400));
    }
    fed = true;
  });
  uintmax_t last_start = testing::LogSize(log);
  auto capture = std::make_unique<ChildProcess>(argv, log);
  int kills = 0;
  while (!fed || kills < 4) {
    const auto until =
        std::chrono::steady_clock::now() + std::chrono::milliseconds(150 + rng() % 700);
    while (std::chrono::steady_clock::now() < until && capture->running()) {
      std::this_thread::sleep_for(10ms);
    }
    if (!capture->running()) break;
    capture->Kill();
    ++kills;
    last_start = testing::LogSize(log);
    capture = std::make_unique<ChildProcess>(argv, log);
  }
  feeder.join();
  ASSERT_TRUE(capture->running()) << "the capture exited by itself:\n"
                                  << rm::testing::ReadFile(log);
  RecordProperty("kills", kills);

  // The last run delivers the rest and stops cleanly on SIGTERM once it is up.
  testing::StopTheLastRunOnceDrained(*capture, log, cdc_raw, last_start);
  if (HasFatalFailure()) return;

  // Then the history replays identically: the same keys, each always with the same value
  std::map<std::string, std::set<std::string>> history;
  size_t history_records = 0;
  for (const auto& r : testing::ReadTopic(bootstrap, kHistory, 1)) {
    ASSERT_TRUE(r.key && r.value);
    history[*r.key].insert(*r.value);
    ++history_records;
  }
  ASSERT_EQ(history.size(), want_history.size());
  for (const auto& [key, values] : history) {
    ASSERT_TRUE(want_history.count(key)) << "unexpected history key " << key;
    EXPECT_EQ(values, std::set<std::string>{want_history.at(key)}) << key;
  }
  // And every event, re-sent ones included, has the uninterrupted run's columns and version
  std::set<std::pair<int64_t, int64_t>> seen;
  size_t records = 0;
  for (const auto& r : testing::ReadTopic(bootstrap, kTopic, kPartitions)) {
    if (!r.value) continue;
    auto [at, shaped] = Parse(r);
    ++records;
    seen.insert(at);
    auto want = want_events.find(at);
    ASSERT_NE(want, want_events.end()) << "unexpected event at " << at.first << ":" << at.second;
    EXPECT_EQ(shaped.version, want->second.version) << at.first << ":" << at.second;
    EXPECT_EQ(shaped.after, want->second.after) << at.first << ":" << at.second;
  }
  EXPECT_EQ(seen.size(), want_events.size()) << "events missing";
  RecordProperty("records", static_cast<int>(records));
  std::printf("kills=%d history records=%zu events=%zu re-sent=%zu\n", kills, history_records,
              seen.size(), records - seen.size());
}

}  // namespace
}  // namespace rm::cdc::cassandra

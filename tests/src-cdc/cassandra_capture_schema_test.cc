// CassandraCapture with schema evolution and transforms, on a fake cdc_raw with an in-memory sink
// whose records on the history topic are the history the capture reads back: versions before
// the events, JsonConverter envelopes with schemas, a table stopped by an incompatible CQL change
// while the others go on (checkpoint held, segments kept) until accepted, and transforms whose
// records are acknowledged before any position is checkpointed.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "src-cdc/cassandra/capture.h"
#include "src-cdc/schema_history.h"
#include "src-cdc/transforms/config.h"
#include "tests/src-cdc/cassandra_capture_support.h"

namespace rm::cdc::cassandra {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::FixtureRoot;
using testing::MemorySink;
using testing::ReadHashFile;
using testing::StoredRecord;
using testing::WaitFor;

constexpr char k30Dir[] = "3.0.13-encrypted";
constexpr char k30Files[2][32] = {"CommitLog-6-1699284515156.log", "CommitLog-6-1699284515157.log"};
constexpr char k3029Dir[] = "3.0.29-encrypted";
constexpr char k3029File[] = "CommitLog-6-1699279786262.log";
constexpr char k40Dir[] = "4.0.11-encrypted";
constexpr char k40File[] = "CommitLog-7-1699285478684.log";
constexpr char kHistory[] = "cass.schema-history";

std::string Table(const std::string& name, const std::string& dir, const std::string& val_type) {
  return "CREATE TABLE \"Keyspace1\".\"" + name + "\" (key ascii, col ascii, val " + val_type +
         ", val0 blob, PRIMARY KEY (key, col)) WITH ID = " +
         ReadHashFile(FixtureRoot() / dir).at("cfid") + ";\n";
}

Schema SchemaOf(const std::string& cql) {
  auto s = Schema::FromCql(cql);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return std::move(s).value();
}

// The (segment_id, pos) of every event of `topic`, with or without schemas around it.
std::set<std::pair<int64_t, int64_t>> Positions(const std::vector<StoredRecord>& records,
                                                const std::string& topic) {
  std::set<std::pair<int64_t, int64_t>> out;
  for (const auto& r : records) {
    if (r.topic != topic || !r.value) continue;
    auto v = nlohmann::json::parse(*r.value);
    if (v.contains("payload")) v = v["payload"];
    out.insert({v["source"]["segment_id"].get<int64_t>(), v["source"]["pos"].get<int64_t>()});
  }
  return out;
}

std::set<std::pair<int64_t, int64_t>> AllPositions(const std::string& dir, const std::string& file,
                                                   const Schema& schema) {
  ReaderOptions options;
  options.schema = &schema;
  std::set<std::pair<int64_t, int64_t>> out;
  for (const Mutation& m : testing::ReadAllMutations(
           rm::testing::ReadFile(FixtureRoot() / dir / file), options, nullptr, file)) {
    out.insert({m.position.segment_id, m.position.offset});
  }
  return out;
}

// The schema history of a run: what `sink` acknowledged on the history topic, then `extra` (an
// operator's records).
CassandraCapture::HistoryReader HistoryOf(
    const MemorySink& sink,
    const std::vector<std::pair<std::string, std::optional<std::string>>>* extra = nullptr,
    std::mutex* extra_mu = nullptr) {
  return [&sink, extra, extra_mu]() -> common::Result<SchemaHistory> {
    SchemaHistory h;
    for (const auto& r : sink.acked_records()) {
      if (r.topic != kHistory) continue;
      auto st = h.Apply(*r.key, r.value ? std::optional<std::string_view>(*r.value) : std::nullopt);
      if (!st.ok()) return st.error();
    }
    if (extra != nullptr) {
      std::lock_guard lock(*extra_mu);
      for (const auto& [k, v] : *extra) {
        auto st = h.Apply(k, v ? std::optional<std::string_view>(*v) : std::nullopt);
        if (!st.ok()) return st.error();
      }
    }
    return h;
  };
}

// A capture with the history of `sink` (and `extra`).
class Running : public testing::RunningCapture {
 public:
  Running(CaptureConfig config, const Schema& schema, MemorySink& sink,
          const std::vector<std::pair<std::string, std::optional<std::string>>>* extra = nullptr,
          std::mutex* extra_mu = nullptr)
      : RunningCapture(std::move(config), schema, sink, nullptr, HistoryOf(sink, extra, extra_mu)) {
  }
};

class CassandraCaptureSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cdc_raw_ = tmp_ / "cdc_raw";
    fs::create_directories(cdc_raw_);
  }

  CaptureConfig Config() {
    CaptureConfig c = testing::FastCaptureConfig(cdc_raw_, tmp_ / "state");
    c.schema.history = true;
    c.schema.accept_poll = 20ms;
    return c;
  }

  void Copy(const std::string& dir, const std::string& file) {
    fs::copy_file(FixtureRoot() / dir / file, cdc_raw_ / file);
    fs::permissions(cdc_raw_ / file, fs::perms::owner_write, fs::perm_options::add);
  }
  void Write40() {
    const std::string bytes = rm::testing::ReadFile(FixtureRoot() / k40Dir / k40File);
    testing::WriteLiveSegment(cdc_raw_, k40File, bytes, testing::SectionEnds(bytes).back(), true);
  }
  bool Empty() const { return fs::is_empty(cdc_raw_); }

  transforms::TransformsConfig Transforms(const std::string& yaml) {
    std::vector<std::string> problems;
    auto t = transforms::ReadTransforms(YAML::Load(yaml), "cassandra", "test.yaml",
                                        {"Keyspace1.Standard1"}, problems);
    EXPECT_TRUE(problems.empty()) << problems.front();
    return t;
  }

  rm::testing::TempDir tmp_;
  fs::path cdc_raw_;
};

TEST_F(CassandraCaptureSchemaTest, WritesEachTablesVersionBeforeItsEventsWhichCarrySchemas) {
  // Given the 3.0.29 segment and a pipeline with history and the envelope with schemas
  const Schema schema = SchemaOf(Table("Standard1", k3029Dir, "blob"));
  CaptureConfig config = Config();
  config.schema.envelope = EnvelopeFormat::kJsonWithSchema;
  MemorySink sink;
  Copy(k3029Dir, k3029File);
  {
    Running run(config, schema, sink);
    ASSERT_TRUE(WaitFor([&] { return Empty(); }));
    ASSERT_TRUE(run.Stop().ok());
  }

  // Then the first record is version 1 from the segment's start, and every event is a
  // JsonConverter envelope whose after struct is that version.
  const auto records = sink.records();
  ASSERT_GT(records.size(), 1u);
  EXPECT_EQ(records[0].topic, kHistory);
  EXPECT_EQ(*records[0].key, R"({"table":"Keyspace1.Standard1","version":1})");
  EXPECT_NE(records[0].value->find(R"("position":"1699279786262:0")"), std::string::npos);
  size_t events = 0;
  for (size_t i = 1; i < records.size(); ++i) {
    if (!records[i].value) continue;
    ++events;
    const auto v = nlohmann::json::parse(*records[i].value);
    ASSERT_TRUE(v.contains("schema") && v.contains("payload")) << *records[i].value;
    EXPECT_EQ(v["schema"]["name"], "cass.Keyspace1.Standard1.Envelope");
    EXPECT_EQ(v["schema"]["fields"][1]["version"], 1);
    EXPECT_EQ(v["payload"]["source"]["connector"], "cassandra");
    const auto k = nlohmann::json::parse(*records[i].key);
    EXPECT_EQ(k["schema"]["name"], "cass.Keyspace1.Standard1.Key");
  }
  EXPECT_EQ(Positions(records, "cass.Keyspace1.Standard1"),
            AllPositions(k3029Dir, k3029File, schema));
  EXPECT_GT(events, 0u);

  // And a restart with the same CQL writes no new version.
  const size_t before = sink.size();
  Copy(k3029Dir, k3029File);
  Running again(config, schema, sink);
  ASSERT_TRUE(WaitFor([&] { return Empty(); }));
  ASSERT_TRUE(again.Stop().ok());
  for (size_t i = before; i < sink.size(); ++i) EXPECT_NE(sink.records()[i].topic, kHistory);
}

TEST_F(CassandraCaptureSchemaTest, AVersionLostBeforeItsAckIsWrittenAgainWithTheSameBytes) {
  // Given a run whose records Kafka never acknowledged (a crash before the acks)
  const Schema schema = SchemaOf(Table("Standard1", k3029Dir, "blob"));
  MemorySink lost(MemorySink::Mode::kManual);
  Copy(k3029Dir, k3029File);
  {
    Running run(Config(), schema, lost);
    ASSERT_TRUE(WaitFor([&] { return lost.size() > 1; }));
    ASSERT_TRUE(run.Stop().ok());
    EXPECT_FALSE(run.capture().checkpointed().has_value());
  }
  // When the capture runs again (its history has nothing of the first run)
  MemorySink sink;
  Running run(Config(), schema, sink);
  ASSERT_TRUE(WaitFor([&] { return Empty(); }));
  ASSERT_TRUE(run.Stop().ok());
  // Then it writes the same version record, byte for byte, from the same position
  ASSERT_EQ(lost.records()[0].topic, kHistory);
  EXPECT_EQ(sink.records()[0].topic, kHistory);
  EXPECT_EQ(sink.records()[0].key, lost.records()[0].key);
  EXPECT_EQ(sink.records()[0].value, lost.records()[0].value);
}

TEST_F(CassandraCaptureSchemaTest, AnIncompatibleChangeStopsOnlyThatTableUntilAccepted) {
  // Given a first run that recorded both tables' shapes
  const std::string other = Table("Standard1_40", k40Dir, "blob");
  const Schema v1 = SchemaOf(Table("Standard1", k30Dir, "blob") + other);
  MemorySink sink;
  Write40();
  {
    Running run(Config(), v1, sink);
    ASSERT_TRUE(WaitFor([&] { return Empty(); }));
    ASSERT_TRUE(run.Stop().ok());
  }
  auto held = testing::LoadState(tmp_ / "state");
  ASSERT_TRUE(held.ok() && held->resume);

  // When the CQL retypes Standard1.val (blob -> text, incompatible) and new segments arrive
  const Schema v2 = SchemaOf(Table("Standard1", k30Dir, "text") + other);
  for (const char* f : k30Files) Copy(k30Dir, f);
  Write40();
  const size_t start = sink.size();
  std::vector<std::pair<std::string, std::optional<std::string>>> operator_records;
  std::mutex operator_mu;
  const auto since_start = [&] {
    const auto all = sink.records();
    return std::vector<StoredRecord>(all.begin() + static_cast<long>(start), all.end());
  };
  auto run = std::make_unique<Running>(Config(), v2, sink, &operator_records, &operator_mu);
  ASSERT_TRUE(WaitFor([&] {
    return Positions(since_start(), "cass.Keyspace1.Standard1_40") ==
           AllPositions(k40Dir, k40File, v2);
  }));

  // Then Standard1 stops (named with column, rule and position in /healthz) and emits nothing,
  // the other table goes on, and the checkpoint and the segments stay where the run started.
  const std::string health = run->capture().Health();
  for (const char* part :
       {"table Keyspace1.Standard1 stopped at commit log position", "column val: rule type_change",
        "cdc cassandra accept-schema --table Keyspace1.Standard1"}) {
    EXPECT_NE(health.find(part), std::string::npos) << part << " in " << health;
  }
  EXPECT_TRUE(Positions(since_start(), "cass.Keyspace1.Standard1").empty());
  std::this_thread::sleep_for(100ms);  // several checkpoint intervals
  EXPECT_EQ(run->capture().checkpointed(), held->resume->position);
  for (const char* f : k30Files) EXPECT_TRUE(fs::exists(cdc_raw_ / f));

  // When an operator accepts the shape, the run ends and a new one reads again from there
  SchemaHistory h;
  for (const auto& r : sink.acked_records()) {
    if (r.topic == kHistory) {
      ASSERT_TRUE(
          h.Apply(*r.key, r.value ? std::optional<std::string_view>(*r.value) : std::nullopt).ok());
    }
  }
  ASSERT_NE(h.Pending("Keyspace1.Standard1"), nullptr);
  {
    std::lock_guard lock(operator_mu);
    operator_records.push_back(EncodeAcceptRecord(*h.Pending("Keyspace1.Standard1")));
  }
  ASSERT_TRUE(WaitFor([&] { return run->done(); }));
  const common::Status ended = run->Stop();
  ASSERT_FALSE(ended.ok());
  EXPECT_EQ(ended.error().code, "cassandra.schema_accepted");
  run.reset();
  Running next(Config(), v2, sink, &operator_records, &operator_mu);
  ASSERT_TRUE(WaitFor([&] { return Empty(); }));
  ASSERT_TRUE(next.Stop().ok());
  EXPECT_TRUE(next.capture().Health().empty());

  // Then every Standard1 change is there, after version 2 (accepted) in the history
  std::set<std::pair<int64_t, int64_t>> expected;
  for (const char* f : k30Files) {
    for (const auto& p : AllPositions(k30Dir, f, v2)) expected.insert(p);
  }
  EXPECT_EQ(Positions(sink.records(), "cass.Keyspace1.Standard1"), expected);
  SchemaHistory after;
  for (const auto& r : sink.acked_records()) {
    if (r.topic == kHistory) {
      ASSERT_TRUE(
          after.Apply(*r.key, r.value ? std::optional<std::string_view>(*r.value) : std::nullopt)
              .ok());
    }
  }
  ASSERT_EQ(after.Versions("Keyspace1.Standard1").size(), 2u);
  EXPECT_TRUE(after.Versions("Keyspace1.Standard1")[1].accepted);
  EXPECT_EQ(after.Versions("Keyspace1.Standard1")[1].position,
            h.Pending("Keyspace1.Standard1")->position);
  EXPECT_EQ(after.Pending("Keyspace1.Standard1"), nullptr);
  EXPECT_EQ(after.Versions("Keyspace1.Standard1_40").size(), 1u);
}

TEST_F(CassandraCaptureSchemaTest, TransformedEventsAreCheckpointedOnlyOnceKafkaAckedThem) {
  // Given a chain adding a tenant and removing val0, and a sink that holds its acks
  const Schema schema = SchemaOf(Table("Standard1", k3029Dir, "blob"));
  CaptureConfig config = Config();
  config.schema.history = false;
  config.transforms = Transforms(R"(
transforms:
  - {name: tenant, type: InsertField, static.field: tenant_id, static.value: acme}
  - {name: pii, type: ReplaceField, exclude: [val0]}
)");
  MemorySink sink(MemorySink::Mode::kManual);
  Copy(k3029Dir, k3029File);
  const auto expected = AllPositions(k3029Dir, k3029File, schema);
  Running run(config, schema, sink);
  ASSERT_TRUE(
      WaitFor([&] { return Positions(sink.records(), "cass.Keyspace1.Standard1") == expected; }));

  // Then nothing is checkpointed or deleted before the acks
  std::this_thread::sleep_for(100ms);  // several checkpoint intervals
  EXPECT_FALSE(run.capture().checkpointed().has_value());
  EXPECT_FALSE(Empty());
  for (const auto& r : sink.records()) {
    if (!r.value) continue;
    const auto v = nlohmann::json::parse(*r.value);
    EXPECT_EQ(v["after"]["tenant_id"], "acme");
    EXPECT_FALSE(v["after"].contains("val0"));
  }
  // When Kafka acknowledges them, the segment's end is checkpointed and the segment deleted
  sink.AckAll();
  ASSERT_TRUE(WaitFor([&] { return Empty(); }));
  ASSERT_TRUE(run.capture().checkpointed().has_value());
  EXPECT_EQ(run.capture().checkpointed()->segment_id, 1699279786262);
  ASSERT_TRUE(run.Stop().ok());
}

TEST_F(CassandraCaptureSchemaTest, AFailingTransformStopsBeforeItsMutationOrDeadLettersIt) {
  const Schema schema = SchemaOf(Table("Standard1", k3029Dir, "blob"));
  CaptureConfig config = Config();
  config.schema.history = false;
  const std::string chain = R"(
transforms:
  - {name: numbers, type: Cast, spec: "val:int32"}
)";
  config.transforms = Transforms(chain);
  Copy(k3029Dir, k3029File);
  {
    // errors.tolerance: none: the capture stops at the first event, nothing produced or saved
    MemorySink sink;
    Running run(config, schema, sink);
    ASSERT_TRUE(WaitFor([&] { return run.done(); }));
    const common::Status st = run.Stop();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, "transform.failed");
    EXPECT_NE(st.error().message.find("transform 'numbers' (Cast) failed on Keyspace1.Standard1 "
                                      "at file CommitLog-6-1699279786262.log pos"),
              std::string::npos)
        << st.error().message;
    // Events before it (rows without val) may be out; the failing one is not, and the
    // checkpoint is not past it.
    const std::string& msg = st.error().message;
    const int64_t pos = std::stoll(msg.substr(msg.find(" pos ") + 5));
    EXPECT_EQ(Positions(sink.records(), "cass.Keyspace1.Standard1").count({1699279786262, pos}),
              0u);
    if (auto cp = run.capture().checkpointed()) {
      EXPECT_LE(cp->offset, pos);
    }
    EXPECT_NE(run.capture().Health().find("transform 'numbers'"), std::string::npos);
  }
  // errors.tolerance: all: every event goes untransformed to the dead-letter topic
  config.transforms = Transforms(chain +
                                 "errors.tolerance: all\n"
                                 "errors.deadletterqueue.topic.name: cass.dlq\n");
  MemorySink sink;
  Running run(config, schema, sink);
  ASSERT_TRUE(WaitFor([&] { return Empty(); }));
  ASSERT_TRUE(run.Stop().ok());
  // Events whose val did not convert are there untransformed; the others (val null) as usual.
  const auto dead = Positions(sink.records(), "cass.dlq");
  EXPECT_FALSE(dead.empty());
  auto all = Positions(sink.records(), "cass.Keyspace1.Standard1");
  all.insert(dead.begin(), dead.end());
  EXPECT_EQ(all, AllPositions(k3029Dir, k3029File, schema));
  size_t dead_records = 0;
  for (const auto& r : sink.records()) {
    if (r.topic != "cass.dlq") continue;
    ++dead_records;
    EXPECT_TRUE(nlohmann::json::parse(*r.value)["after"]["val"]["value"].is_string());
  }
  EXPECT_EQ(run.capture().transforms()->CountsFor("Keyspace1.Standard1", "numbers").dead_lettered,
            dead_records);
}

}  // namespace
}  // namespace rm::cdc::cassandra

// CassandraCapture with schema evolution and transforms, on a fake cdc_raw with an in-memory sink
// whose records on the history topic are the history the capture reads back: versions before
// the events, JsonConverter envelopes with schemas, a table stopped by an incompatible CQL change
// while the others go on (checkpoint and cleanup included, its entries spilled) until accepted,
// then its spill produced once in the new shape, and transforms whose
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

// The (segment_id, pos) of every event of `topic` (with or without schemas around it), in
// produce order, repeats included.
std::vector<std::pair<int64_t, int64_t>> PositionList(const std::vector<StoredRecord>& records,
                                                      const std::string& topic) {
  std::vector<std::pair<int64_t, int64_t>> out;
  for (const auto& r : records) {
    if (r.topic != topic || !r.value) continue;
    auto v = nlohmann::json::parse(*r.value);
    if (v.contains("payload")) v = v["payload"];
    out.push_back({v["source"]["segment_id"].get<int64_t>(), v["source"]["pos"].get<int64_t>()});
  }
  return out;
}

// The same as a set.
std::set<std::pair<int64_t, int64_t>> Positions(const std::vector<StoredRecord>& records,
                                                const std::string& topic) {
  const auto list = PositionList(records, topic);
  return {list.begin(), list.end()};
}

// The records `sink` holds from the `from`-th on.
std::vector<StoredRecord> Since(const MemorySink& sink, size_t from) {
  const auto all = sink.records();
  return std::vector<StoredRecord>(all.begin() + static_cast<long>(from), all.end());
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

// The history `sink` acknowledged.
SchemaHistory AckedHistory(const MemorySink& sink) {
  auto h = HistoryOf(sink)();
  EXPECT_TRUE(h.ok()) << h.error().message;
  return h.ok() ? std::move(h).value() : SchemaHistory{};
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

  // Standard1 with val blob (v1) or text (v2: incompatible), and Standard1_40.
  static Schema Versioned(const char* val_type) {
    return SchemaOf(Table("Standard1", k30Dir, val_type) + Table("Standard1_40", k40Dir, "blob"));
  }
  fs::path SpillFile() const { return tmp_ / "state" / "spill" / "Keyspace1.Standard1.spill"; }

  // A first run records both shapes (v1) and reads the 4.0 segments; then the 3.0 segments of
  // Standard1 arrive.
  void RecordV1ThenBring30Segments(MemorySink& sink) {
    const Schema v1 = Versioned("blob");
    Write40();
    {
      Running run(Config(), v1, sink);
      ASSERT_TRUE(WaitFor([&] { return Empty(); }));
      ASSERT_TRUE(run.Stop().ok());
    }
    for (const char* f : k30Files) Copy(k30Dir, f);
  }

  // A first run records both shapes (v1); then the 3.0 segments of Standard1 arrive and a run
  // with v2 stops it and spills its entries while Standard1_40 goes on and cdc_raw empties.
  // Leaves the history's pending record in `pending`.
  void StopStandard1(MemorySink& sink, SchemaPending* pending) {
    ASSERT_NO_FATAL_FAILURE(RecordV1ThenBring30Segments(sink));
    const Schema v2 = Versioned("text");
    {
      Running run(Config(), v2, sink);
      ASSERT_TRUE(WaitFor([&] { return Empty(); })) << run.capture().Health();
      ASSERT_TRUE(run.Stop().ok());
    }
    // Everything read is checkpointed: the whole spill is covered.
    auto state = testing::LoadState(tmp_ / "state");
    ASSERT_TRUE(state.ok());
    ASSERT_EQ(state->spills.count("Keyspace1.Standard1"), 1u);
    ASSERT_EQ(state->spills.at("Keyspace1.Standard1"), fs::file_size(SpillFile()));
    const SchemaHistory h = AckedHistory(sink);
    ASSERT_NE(h.Pending("Keyspace1.Standard1"), nullptr);
    *pending = *h.Pending("Keyspace1.Standard1");
  }

  // Standard1's event positions as a run without history over the 3.0 segments gives them.
  std::vector<std::pair<int64_t, int64_t>> Reference() {
    rm::testing::TempDir other;
    fs::create_directories(other / "cdc_raw");
    for (const char* f : k30Files) fs::copy_file(FixtureRoot() / k30Dir / f, other / "cdc_raw" / f);
    MemorySink plain;
    const Schema v2 = Versioned("text");
    testing::RunningCapture ref(testing::FastCaptureConfig(other / "cdc_raw", other / "state"), v2,
                                plain);
    EXPECT_TRUE(WaitFor([&] { return fs::is_empty(other / "cdc_raw"); }));
    EXPECT_TRUE(ref.Stop().ok());
    return PositionList(plain.records(), "cass.Keyspace1.Standard1");
  }

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
  const auto since = [&](size_t from) {
    const auto all = sink.records();
    return std::vector<StoredRecord>(all.begin() + static_cast<long>(from), all.end());
  };
  auto run = std::make_unique<Running>(Config(), v2, sink, &operator_records, &operator_mu);

  // Then Standard1 stops (named with column, rule and position in /healthz) and emits nothing,
  // while the other table goes on: its events, the checkpoint past the stop, and every segment
  // delivered and deleted (Standard1's entries are in its spill).
  ASSERT_TRUE(WaitFor([&] {
    return Positions(since(start), "cass.Keyspace1.Standard1_40") ==
               AllPositions(k40Dir, k40File, v2) &&
           Empty();
  })) << run->capture().Health();
  const std::string health = run->capture().Health();
  for (const char* part :
       {"table Keyspace1.Standard1 stopped at commit log position", "column val: rule type_change",
        "cdc cassandra accept-schema --table Keyspace1.Standard1"}) {
    EXPECT_NE(health.find(part), std::string::npos) << part << " in " << health;
  }
  EXPECT_EQ(health.find("checkpoint is held"), std::string::npos) << health;
  EXPECT_TRUE(Positions(since(start), "cass.Keyspace1.Standard1").empty());
  const fs::path spill = tmp_ / "state" / "spill" / "Keyspace1.Standard1.spill";
  ASSERT_TRUE(fs::exists(spill));
  EXPECT_EQ(run->capture().probe().spill_bytes("Keyspace1.Standard1"),
            static_cast<double>(fs::file_size(spill)));

  // When an operator accepts the shape, the run ends and a new one produces the spill
  const SchemaHistory h = AckedHistory(sink);
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
  const size_t accepted = sink.size();
  {
    Running next(Config(), v2, sink, &operator_records, &operator_mu);
    ASSERT_TRUE(WaitFor([&] { return !fs::exists(spill); }));
    ASSERT_TRUE(next.Stop().ok());
    EXPECT_TRUE(next.capture().Health().empty()) << next.capture().Health();
  }

  // Then every Standard1 change comes out once, in commit log order, as an uninterrupted run
  // with the new CQL gives them; the other table's are not produced again; the spill is gone.
  std::vector<std::pair<int64_t, int64_t>> reference;
  {
    rm::testing::TempDir other_tmp;
    fs::create_directories(other_tmp / "cdc_raw");
    for (const char* f : k30Files) {
      fs::copy_file(FixtureRoot() / k30Dir / f, other_tmp / "cdc_raw" / f);
    }
    MemorySink plain;
    CaptureConfig c = testing::FastCaptureConfig(other_tmp / "cdc_raw", other_tmp / "state");
    testing::RunningCapture ref(c, v2, plain);
    ASSERT_TRUE(WaitFor([&] { return fs::is_empty(other_tmp / "cdc_raw"); }));
    ASSERT_TRUE(ref.Stop().ok());
    reference = PositionList(plain.records(), "cass.Keyspace1.Standard1");
  }
  ASSERT_FALSE(reference.empty());
  EXPECT_EQ(PositionList(since(start), "cass.Keyspace1.Standard1"), reference);
  EXPECT_TRUE(Positions(since(accepted), "cass.Keyspace1.Standard1_40").empty());
  auto after_state = testing::LoadState(tmp_ / "state");
  ASSERT_TRUE(after_state.ok());
  EXPECT_TRUE(after_state->spills.empty());
  const SchemaHistory after = AckedHistory(sink);
  ASSERT_EQ(after.Versions("Keyspace1.Standard1").size(), 2u);
  EXPECT_TRUE(after.Versions("Keyspace1.Standard1")[1].accepted);
  EXPECT_EQ(after.Versions("Keyspace1.Standard1")[1].position,
            h.Pending("Keyspace1.Standard1")->position);
  EXPECT_EQ(after.Pending("Keyspace1.Standard1"), nullptr);
  EXPECT_EQ(after.Versions("Keyspace1.Standard1_40").size(), 1u);
}

TEST_F(CassandraCaptureSchemaTest, ASpillSurvivesATornTailAStoppedReplayAndAnOrphanedFile) {
  MemorySink sink;
  SchemaPending pending;
  ASSERT_NO_FATAL_FAILURE(StopStandard1(sink, &pending));
  const Schema v2 = Versioned("text");
  const uint64_t covered = fs::file_size(SpillFile());

  // Given a crash in the middle of an append (half a frame past the covered length)
  const std::string torn = rm::testing::ReadFile(SpillFile());
  rm::testing::WriteFile(SpillFile(), torn + torn.substr(8, 13));
  // Then a restart drops it and the table stays stopped, its spill intact
  {
    Running run(Config(), v2, sink);
    ASSERT_TRUE(WaitFor([&] {
      return run.capture().Health().find("table Keyspace1.Standard1 stopped") != std::string::npos;
    }));
    ASSERT_TRUE(run.Stop().ok());
    EXPECT_EQ(run.capture().Health().find("spill"), std::string::npos) << run.capture().Health();
  }
  // (what follows the covered bytes was written after the checkpoint: none of the torn frame)
  const std::string spilled = rm::testing::ReadFile(SpillFile());
  auto state = testing::LoadState(tmp_ / "state");
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->spills.at("Keyspace1.Standard1"), covered);
  EXPECT_EQ(spilled.substr(0, covered), torn.substr(0, covered));
  {
    auto reopened = TableSpill::Open(SpillFile(), spilled.size());
    EXPECT_TRUE(reopened.ok()) << reopened.error().message;
  }

  // When the shape is accepted but the run producing the spill stops before Kafka acked it
  std::vector<std::pair<std::string, std::optional<std::string>>> ops{EncodeAcceptRecord(pending)};
  std::mutex ops_mu;
  const auto reference = Reference();
  ASSERT_FALSE(reference.empty());
  const size_t first = sink.size();
  sink.WithholdAfter(first);
  {
    Running run(Config(), v2, sink, &ops, &ops_mu);
    ASSERT_TRUE(WaitFor([&] {
      return PositionList(Since(sink, first), "cass.Keyspace1.Standard1").size() ==
             reference.size();
    }));
    ASSERT_TRUE(run.Stop().ok());
    // (released while the capture's metrics, which its ack callbacks count in, still exist)
    sink.ReleaseWithheld();
  }
  // Then the spill is kept and the next run produces it again, whole, then removes it
  ASSERT_TRUE(fs::exists(SpillFile()));
  const size_t second = sink.size();
  {
    Running run(Config(), v2, sink, &ops, &ops_mu);
    ASSERT_TRUE(WaitFor([&] { return !fs::exists(SpillFile()); })) << run.capture().Health();
    ASSERT_TRUE(run.Stop().ok());
    EXPECT_TRUE(run.capture().Health().empty()) << run.capture().Health();
  }
  const auto records = sink.records();
  EXPECT_EQ(PositionList(std::vector<StoredRecord>(records.begin() + second, records.end()),
                         "cass.Keyspace1.Standard1"),
            reference);

  // When the spill file outlives the state's record (a crash between the two), nothing of it
  // is produced again and it is deleted
  rm::testing::WriteFile(SpillFile(), spilled);
  const size_t third = sink.size();
  {
    Running run(Config(), v2, sink, &ops, &ops_mu);
    ASSERT_TRUE(WaitFor([&] { return !fs::exists(SpillFile()); }));
    ASSERT_TRUE(run.Stop().ok());
  }
  const auto last = sink.records();
  EXPECT_TRUE(PositionList(std::vector<StoredRecord>(last.begin() + third, last.end()),
                           "cass.Keyspace1.Standard1")
                  .empty());
}

TEST_F(CassandraCaptureSchemaTest,
       ACorruptSpillBlocksItsTableAndHoldsTheCheckpointNamingTheOffset) {
  MemorySink sink;
  SchemaPending pending;
  ASSERT_NO_FATAL_FAILURE(StopStandard1(sink, &pending));
  std::string bytes = rm::testing::ReadFile(SpillFile());
  const size_t at = bytes.size() / 2;
  bytes[at] ^= 0x55;  // inside some frame of the covered part
  rm::testing::WriteFile(SpillFile(), bytes);
  auto before = testing::LoadState(tmp_ / "state");
  ASSERT_TRUE(before.ok() && before->resume);

  // When the capture restarts and a new segment of the other table arrives
  const Schema v2 = Versioned("text");
  const size_t start = sink.size();
  Running run(Config(), v2, sink);
  Write40();
  // Then the other table's events come, but the health names the spill and a frame offset, the
  // checkpoint stays, and the segment and the spill are kept
  ASSERT_TRUE(WaitFor([&] {
    return Positions(Since(sink, start), "cass.Keyspace1.Standard1_40") ==
           AllPositions(k40Dir, k40File, v2);
  }));
  std::this_thread::sleep_for(100ms);  // several checkpoint intervals
  const std::string health = run.capture().Health();
  for (const std::string& part : {"table Keyspace1.Standard1 is not captured: spill " +
                                      SpillFile().string() + ": corrupt frame at offset ",
                                  std::string("the checkpoint is held")}) {
    EXPECT_NE(health.find(part), std::string::npos) << part << " in " << health;
  }
  EXPECT_EQ(run.capture().checkpointed(), before->resume->position);
  EXPECT_TRUE(fs::exists(cdc_raw_ / k40File));
  EXPECT_EQ(rm::testing::ReadFile(SpillFile()), bytes);
  EXPECT_GE(run.capture().probe().errors("spill"), 1u);
  ASSERT_TRUE(run.Stop().ok());
}

TEST_F(CassandraCaptureSchemaTest, ASpillCountsOnlyAsFarAsTheCheckpointPassedIt) {
  // Given Standard1 stopped, and a run in which the other table's events wait for acks while
  // Standard1's entries read after them are spilled
  MemorySink sink;
  const Schema v1 = Versioned("blob");
  const Schema v2 = Versioned("text");
  Write40();
  {
    Running run(Config(), v1, sink);
    ASSERT_TRUE(WaitFor([&] { return Empty(); }));
    ASSERT_TRUE(run.Stop().ok());
  }
  Write40();
  const size_t start = sink.size();
  {
    Running run(Config(), v2, sink);
    ASSERT_TRUE(WaitFor([&] { return Empty(); }));
    sink.SetAutoAck(false);
    const std::string bytes = rm::testing::ReadFile(FixtureRoot() / k40Dir / k40File);
    const int64_t next = SegmentIdFromFileName(k40File).value() + 1;
    const std::string next40 = testing::WithSegmentId(bytes, next);
    testing::WriteLiveSegment(cdc_raw_, fmt::format("CommitLog-7-{}.log", next), next40,
                              testing::SectionEnds(next40).back(), true);
    const size_t before = sink.size();
    ASSERT_TRUE(WaitFor([&] {
      return Positions(Since(sink, before), "cass.Keyspace1.Standard1_40").size() ==
             AllPositions(k40Dir, k40File, v2).size();
    }));
    for (const char* f : k30Files) Copy(k30Dir, f);
    ASSERT_TRUE(
        WaitFor([&] { return run.capture().probe().spill_bytes("Keyspace1.Standard1") > 100000; }));
    ASSERT_TRUE(run.Stop().ok());
    sink.AckAll();
    sink.SetAutoAck(true);
  }
  // When its shape is accepted, its changes come out once each, in order: the spilled entries
  // the checkpoint had not passed come from the segments, not from the spill as well
  std::vector<std::pair<std::string, std::optional<std::string>>> ops{
      EncodeAcceptRecord(*AckedHistory(sink).Pending("Keyspace1.Standard1"))};
  std::mutex ops_mu;
  {
    Running run(Config(), v2, sink, &ops, &ops_mu);
    ASSERT_TRUE(WaitFor([&] { return Empty() && !fs::exists(SpillFile()); }))
        << run.capture().Health();
    ASSERT_TRUE(run.Stop().ok());
  }
  EXPECT_EQ(PositionList(Since(sink, start), "cass.Keyspace1.Standard1"), Reference());
}

TEST_F(CassandraCaptureSchemaTest, ASpillAtItsLimitHoldsTheCheckpointFromThereAndLosesNothing) {
  // Given spills capped below the table's entries
  MemorySink sink;
  ASSERT_NO_FATAL_FAILURE(RecordV1ThenBring30Segments(sink));
  CaptureConfig capped = Config();
  capped.max_spill_bytes = 20000;
  const Schema v2 = Versioned("text");
  std::vector<std::pair<std::string, std::optional<std::string>>> ops;
  std::mutex ops_mu;
  const size_t start = sink.size();
  auto run = std::make_unique<Running>(capped, v2, sink, &ops, &ops_mu);
  // Then once full the checkpoint is held (healthz says so) and the segments from there stay
  ASSERT_TRUE(WaitFor([&] {
    return run->capture().Health().find("reached max_spill_bytes (20000 bytes)") !=
           std::string::npos;
  })) << run->capture().Health();
  std::this_thread::sleep_for(100ms);
  EXPECT_FALSE(Empty());
  EXPECT_LE(fs::file_size(SpillFile()), 20000u);

  // When accepted, every change of the table comes out once, in order
  const SchemaHistory h = AckedHistory(sink);
  ASSERT_NE(h.Pending("Keyspace1.Standard1"), nullptr);
  {
    std::lock_guard lock(ops_mu);
    ops.push_back(EncodeAcceptRecord(*h.Pending("Keyspace1.Standard1")));
  }
  ASSERT_TRUE(WaitFor([&] { return run->done(); }));
  run.reset();
  Running next(capped, v2, sink, &ops, &ops_mu);
  ASSERT_TRUE(WaitFor([&] { return Empty() && !fs::exists(SpillFile()); }));
  ASSERT_TRUE(next.Stop().ok());
  const auto records = sink.records();
  EXPECT_EQ(PositionList(std::vector<StoredRecord>(records.begin() + start, records.end()),
                         "cass.Keyspace1.Standard1"),
            Reference());
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

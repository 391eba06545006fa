// CassandraCapture with ALTER TABLEs read from the commit log: Cassandra 3.0.29's fixture segment
// rebuilt with a system_schema mutation spliced in at a known offset, then a write using the
// new column. The history's version starts at exactly that offset, events before it carry the
// old shape and events after it the new one; an incompatible change stops the table there; a
// replay writes the history again identically and a restart with the old CQL keeps the new shape;
// a schema mutation the reader cannot use is skipped with a warning.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "src-cdc/cassandra/capture.h"
#include "src-cdc/schema_history.h"
#include "tests/src-cdc/cassandra_capture_support.h"
#include "tests/src-cdc/cassandra_schema_mutation_support.h"

namespace rm::cdc::cassandra {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::ColumnRow;
using testing::FixtureRoot;
using testing::MemorySink;
using testing::StoredRecord;
using testing::WaitFor;

constexpr char kDir[] = "3.0.29-encrypted";
constexpr char kFixture[] = "CommitLog-6-1699279786262.log";
constexpr int64_t kId = 1699279786262;
constexpr char kHistory[] = "cass.schema-history";
constexpr char kTopic[] = "cass.Keyspace1.Standard1";
constexpr char kTable[] = "Keyspace1.Standard1";

Schema Standard1() { return testing::Standard1Schema(kDir); }

TableId Standard1Id() { return *Standard1().FindTable("Keyspace1", "Standard1")->id; }

// A write of Standard1 that sets `extra` (int), a column the CQL does not declare.
std::string ExtraWrite(int32_t value) {
  return testing::Entry(testing::MutationOf({testing::DataUpdate(
      Standard1Id(), "k-extra", "name0", {{"extra", testing::Int32(value), /*fixed=*/true}})}));
}

// A write of Standard1 that sets only val (a column the CQL declares).
std::string ValWrite(const std::string& key) {
  return testing::Entry(testing::MutationOf(
      {testing::DataUpdate(Standard1Id(), key, "name0", {{"val", "late", /*fixed=*/false}})}));
}

// DROP TABLE "Keyspace1"."Standard1": its tables row and every columns row deleted.
std::string DropEntry() {
  std::vector<ColumnRow> columns;
  for (const char* c : {"key", "col", "val", "val0"}) {
    columns.push_back({.name = c, .deleted = true});
  }
  return testing::Entry(
      testing::MutationOf({testing::TablesRowDeletion("Keyspace1", "Standard1"),
                           testing::ColumnsUpdate("Keyspace1", "Standard1", columns)}));
}

std::string AlterEntry(const std::vector<ColumnRow>& rows) {
  return testing::Entry(
      testing::MutationOf({testing::ColumnsUpdate("Keyspace1", "Standard1", rows)}));
}

// The spliced fixture: `inserted` after half of its entries (the table's CREATE and some of its
// writes come before). Returns the offset of the first inserted entry.
uint32_t WriteSpliced(const fs::path& cdc_raw, const std::vector<std::string>& inserted,
                      std::string* bytes = nullptr) {
  const std::string fixture = rm::testing::ReadFile(FixtureRoot() / kDir / kFixture);
  size_t entries = 0;
  for (const auto& s : testing::PlainSections(fixture)) {
    entries += testing::SectionEntries(s).size();
  }
  uint32_t at = 0;
  const std::string segment = testing::SpliceSegment(fixture, kId, entries / 2, inserted, &at);
  rm::testing::WriteFile(cdc_raw / kFixture, segment);
  if (bytes != nullptr) *bytes = segment;
  return at;
}

// The offsets of Standard1's writes in `segment`, decoded with `extra` declared.
std::set<int64_t> WritePositions(const std::string& segment) {
  auto schema = Schema::FromCql(
      "CREATE TABLE \"Keyspace1\".\"Standard1\" (key ascii, col ascii, val blob, val0 blob, "
      "extra int, PRIMARY KEY (key, col)) WITH ID = " +
      Standard1Id().ToString());
  EXPECT_TRUE(schema.ok());
  ReaderOptions options;
  options.schema = &schema.value();
  std::set<int64_t> out;
  for (const Mutation& m : testing::ReadAllMutations(segment, options, nullptr, kFixture)) {
    out.insert(m.position.offset);
  }
  return out;
}

struct Event {
  int64_t segment = 0;
  int64_t pos = 0;
  int version = 0;  // of the after struct's Connect schema
  nlohmann::json after;
  size_t index = 0;  // in the sink's records
};

std::vector<Event> EventsOf(const std::vector<StoredRecord>& records, size_t from = 0) {
  std::vector<Event> out;
  for (size_t i = from; i < records.size(); ++i) {
    const StoredRecord& r = records[i];
    if (r.topic != kTopic || !r.value) continue;
    const auto v = nlohmann::json::parse(*r.value);
    Event e;
    e.index = i;
    const auto& payload = v.contains("payload") ? v["payload"] : v;
    e.segment = payload["source"]["segment_id"].get<int64_t>();
    e.pos = payload["source"]["pos"].get<int64_t>();
    e.after = payload["after"];
    if (v.contains("schema")) {
      for (const auto& f : v["schema"]["fields"]) {
        if (f["field"] == "after") e.version = f["version"].get<int>();
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

SchemaHistory HistoryIn(const std::vector<StoredRecord>& records) {
  SchemaHistory h;
  for (const auto& r : records) {
    if (r.topic != kHistory) continue;
    EXPECT_TRUE(
        h.Apply(*r.key, r.value ? std::optional<std::string_view>(*r.value) : std::nullopt).ok());
  }
  return h;
}

size_t HistoryRecords(const std::vector<StoredRecord>& records, size_t from = 0) {
  size_t n = 0;
  for (size_t i = from; i < records.size(); ++i) n += records[i].topic == kHistory ? 1 : 0;
  return n;
}

class CassandraCaptureSchemaMutationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cdc_raw_ = tmp_ / "cdc_raw";
    fs::create_directories(cdc_raw_);
  }

  CaptureConfig Config() {
    CaptureConfig c = testing::FastCaptureConfig(cdc_raw_, tmp_ / "state");
    c.schema.history = true;
    c.schema.envelope = EnvelopeFormat::kJsonWithSchema;
    c.schema.accept_poll = 20ms;
    return c;
  }

  // A capture reading the history `sink` acknowledged.
  class Running : public testing::RunningCapture {
   public:
    Running(CaptureConfig config, const Schema& schema, MemorySink& sink)
        : RunningCapture(std::move(config), schema, sink, nullptr,
                         [&sink]() -> common::Result<SchemaHistory> {
                           return HistoryIn(sink.acked_records());
                         }) {}
  };

  bool Empty() const { return fs::is_empty(cdc_raw_); }

  rm::testing::TempDir tmp_;
  fs::path cdc_raw_;
};

TEST_F(CassandraCaptureSchemaMutationTest, AnAddedColumnIsANewVersionFromItsSchemaMutation) {
  // Given a segment where ALTER TABLE ADD extra int was written mid-way, then a write of extra
  std::string segment;
  const uint32_t at = WriteSpliced(
      cdc_raw_, {AlterEntry({{.name = "extra", .type = "int"}}), ExtraWrite(42)}, &segment);
  const Schema schema = Standard1();  // the CQL knows nothing of extra
  MemorySink sink;
  {
    Running run(Config(), schema, sink);
    ASSERT_TRUE(WaitFor([&] { return Empty(); }));
    ASSERT_TRUE(run.Stop().ok());
    EXPECT_EQ(run.capture().probe().errors("schema"), 0u);
    EXPECT_EQ(run.capture().probe().errors("segment"), 0u);
  }

  // Then the history has version 2 from exactly the schema mutation's position
  const auto records = sink.records();
  const SchemaHistory h = HistoryIn(records);
  const auto& versions = h.Versions(kTable);
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].position, fmt::format("{}:0", kId));
  EXPECT_EQ(versions[1].position, fmt::format("{}:{}", kId, at));
  ASSERT_NE(versions[1].shape.Find("extra"), nullptr);
  EXPECT_EQ(versions[1].shape.Find("extra")->type, "int");
  EXPECT_EQ(versions[1].shape.columns.size(), versions[0].shape.columns.size() + 1);
  size_t version2_index = 0;
  for (size_t i = 0; i < records.size(); ++i) {
    if (records[i].topic == kHistory &&
        records[i].key->find(R"("version":2)") != std::string::npos) {
      version2_index = i;
    }
  }
  ASSERT_GT(version2_index, 0u);

  // And every write is an event: those before it in version 1 (no extra), those after in
  // version 2, written after the version record
  const auto events = EventsOf(records);
  std::set<int64_t> positions;
  size_t before = 0, after = 0;
  for (const Event& e : events) {
    positions.insert(e.pos);
    if (e.pos < at) {
      ++before;
      EXPECT_EQ(e.version, 1) << e.pos;
      EXPECT_FALSE(e.after.contains("extra")) << e.pos;
      EXPECT_LT(e.index, version2_index);
    } else {
      ++after;
      EXPECT_EQ(e.version, 2) << e.pos;
      EXPECT_TRUE(e.after.contains("extra")) << e.pos;
      EXPECT_GT(e.index, version2_index);
    }
  }
  EXPECT_GT(before, 0u);
  EXPECT_GT(after, 1u);
  EXPECT_EQ(positions, WritePositions(segment));
  const auto extra = std::find_if(events.begin(), events.end(), [](const Event& e) {
    return e.after.contains("extra") && e.after.at("extra").is_object() &&
           !e.after.at("extra").at("value").is_null();
  });
  ASSERT_NE(extra, events.end());
  EXPECT_EQ(extra->after.at("extra").at("value"), 42);
  EXPECT_GT(extra->pos, at);
}

TEST_F(CassandraCaptureSchemaMutationTest, ADroppedColumnStopsTheTableAtItsSchemaMutation) {
  // Given ALTER TABLE DROP val0 mid-way (incompatible: consumers lose the field)
  std::string segment;
  // and two writes after it that do not set val0 (every fixture write does)
  const uint32_t at = WriteSpliced(
      cdc_raw_, {AlterEntry({{.name = "val0", .deleted = true}}), ValWrite("k1"), ValWrite("k2")},
      &segment);
  std::set<int64_t> expected;
  for (int64_t p : WritePositions(segment)) {
    if (p < at) expected.insert(p);
  }
  ASSERT_FALSE(expected.empty());
  const Schema schema = Standard1();
  MemorySink sink;
  auto running = std::make_unique<Running>(Config(), schema, sink);
  Running& run = *running;

  // Then every write before it is produced and the table stops exactly there
  const std::string stopped =
      fmt::format("table Keyspace1.Standard1 stopped at commit log position {}:{}", kId, at);
  ASSERT_TRUE(WaitFor([&] {
    std::set<int64_t> seen;
    for (const Event& e : EventsOf(sink.records())) seen.insert(e.pos);
    return seen == expected && run.capture().Health().find(stopped) != std::string::npos;
  })) << run.capture().Health();
  EXPECT_NE(run.capture().Health().find("column val0: rule drop_column"), std::string::npos);
  std::this_thread::sleep_for(100ms);  // several polls and checkpoint intervals
  for (const Event& e : EventsOf(sink.records())) EXPECT_LT(e.pos, at);
  const SchemaHistory h = HistoryIn(sink.records());
  ASSERT_NE(h.Pending(kTable), nullptr);
  EXPECT_EQ(h.Pending(kTable)->position, fmt::format("{}:{}", kId, at));
  EXPECT_EQ(h.Versions(kTable).size(), 1u);
  // The checkpoint passes it all the same and the segment is delivered and deleted: the
  // table's writes after the drop are in its spill.
  ASSERT_TRUE(WaitFor([&] { return Empty(); })) << run.capture().Health();
  ASSERT_TRUE(run.capture().checkpointed());
  EXPECT_TRUE((CommitLogPosition{kId, at}) < *run.capture().checkpointed());
  ASSERT_TRUE(run.Stop().ok());
  running.reset();

  // When an operator accepts the new shape (a restart in between changes nothing)
  {
    Running again(Config(), schema, sink);
    ASSERT_TRUE(
        WaitFor([&] { return again.capture().Health().find(stopped) != std::string::npos; }));
    ASSERT_TRUE(again.Stop().ok());
  }
  const size_t before = sink.size();
  auto [key, value] = EncodeAcceptRecord(*HistoryIn(sink.records()).Pending(kTable));
  ASSERT_TRUE(sink.Produce(kHistory, key, value, [](common::Status) {}).ok());
  Running accepted(Config(), schema, sink);
  ASSERT_TRUE(WaitFor([&] {
    return !fs::exists(tmp_ / "state" / "spill" / "Keyspace1.Standard1.spill");
  })) << accepted.capture().Health();
  ASSERT_TRUE(accepted.Stop().ok());

  // Then its writes from the drop on come out once each, in order, in version 2 (no val0)
  // (the positions the reader decodes with val0 gone: those writing val0 do not decode)
  auto dropped = Schema::FromCql(
      "CREATE TABLE \"Keyspace1\".\"Standard1\" (key ascii, col ascii, val blob, "
      "PRIMARY KEY (key, col)) WITH ID = " +
      Standard1Id().ToString());
  ASSERT_TRUE(dropped.ok());
  ReaderOptions options;
  options.schema = &dropped.value();
  std::set<int64_t> after;
  for (const Mutation& m : testing::ReadAllMutations(segment, options, nullptr, kFixture)) {
    if (m.position.offset > at) after.insert(m.position.offset);
  }
  ASSERT_GE(after.size(), 2u);
  const std::vector<Event> events = EventsOf(sink.records(), before);
  std::set<int64_t> seen;
  std::set<std::pair<int64_t, std::string>> keyed;
  int64_t last = 0;
  for (const Event& e : events) {
    EXPECT_EQ(e.segment, kId);
    EXPECT_EQ(e.version, 2) << e.pos;
    EXPECT_FALSE(e.after.contains("val0")) << e.after.dump();
    EXPECT_GE(e.pos, last) << "out of order";
    last = e.pos;
    seen.insert(e.pos);
    EXPECT_TRUE(keyed.insert({e.pos, e.after.dump()}).second) << "produced twice: " << e.pos;
  }
  EXPECT_EQ(seen, after);
  const SchemaHistory h2 = HistoryIn(sink.records());
  ASSERT_EQ(h2.Versions(kTable).size(), 2u);
  EXPECT_TRUE(h2.Versions(kTable)[1].accepted);
  EXPECT_EQ(h2.Versions(kTable)[1].position, fmt::format("{}:{}", kId, at));
  EXPECT_EQ(h2.Pending(kTable), nullptr);
}

TEST_F(CassandraCaptureSchemaMutationTest, AReplayWritesNothingNewAndTheOldCqlKeepsTheNewShape) {
  // Given a run that recorded the ALTER at its position
  const uint32_t at =
      WriteSpliced(cdc_raw_, {AlterEntry({{.name = "extra", .type = "int"}}), ExtraWrite(42)});
  const Schema schema = Standard1();
  MemorySink sink;
  {
    Running run(Config(), schema, sink);
    ASSERT_TRUE(WaitFor([&] { return Empty(); }));
    ASSERT_TRUE(run.Stop().ok());
  }
  std::map<int64_t, int> first;
  for (const Event& e : EventsOf(sink.records())) first[e.pos] = e.version;
  ASSERT_EQ(HistoryIn(sink.records()).Versions(kTable).size(), 2u);

  // When a capture that lost its state (kill -9 before any checkpoint) reads it all again
  WriteSpliced(cdc_raw_, {AlterEntry({{.name = "extra", .type = "int"}}), ExtraWrite(42)});
  CaptureConfig lost = Config();
  lost.state_dir = tmp_ / "state-lost";
  size_t from = sink.size();
  {
    Running run(lost, schema, sink);
    ASSERT_TRUE(WaitFor([&] { return Empty(); }));
    ASSERT_TRUE(run.Stop().ok());
  }
  // Then it writes no history record and its events carry the same versions
  EXPECT_EQ(HistoryRecords(sink.records(), from), 0u);
  std::map<int64_t, int> again;
  for (const Event& e : EventsOf(sink.records(), from)) again[e.pos] = e.version;
  EXPECT_EQ(again, first);

  // When the first capture restarts past the ALTER with its CQL unchanged and extra is written
  rm::testing::WriteFile(cdc_raw_ / fmt::format("CommitLog-6-{}.log", kId + 1),
                         testing::BuildSegment(6, kId + 1, {ExtraWrite(7)}));
  from = sink.size();
  {
    Running run(Config(), schema, sink);
    ASSERT_TRUE(WaitFor([&] { return Empty(); }));
    ASSERT_TRUE(run.Stop().ok());
    EXPECT_EQ(run.capture().probe().errors("segment"), 0u);
  }
  // Then it decodes with version 2 from the history: no new version, the write is there
  EXPECT_EQ(HistoryRecords(sink.records(), from), 0u);
  const auto events = EventsOf(sink.records(), from);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].segment, kId + 1);
  EXPECT_EQ(events[0].version, 2);
  EXPECT_EQ(events[0].after.at("extra").at("value"), 7);
  EXPECT_GT(at, 0u);
}

TEST_F(CassandraCaptureSchemaMutationTest, AnUnusableSchemaMutationIsSkippedWithAWarning) {
  // Given an ALTER adding a column of a user-defined type (the reader cannot decode it)
  std::string segment;
  WriteSpliced(cdc_raw_, {AlterEntry({{.name = "addr", .type = "frozen<address>"}})}, &segment);
  const Schema schema = Standard1();
  MemorySink sink;
  Running run(Config(), schema, sink);
  ASSERT_TRUE(WaitFor([&] { return Empty(); }));
  ASSERT_TRUE(run.Stop().ok());
  // Then it is counted, the table keeps version 1 and every write is there
  EXPECT_EQ(run.capture().probe().errors("schema"), 1u);
  EXPECT_EQ(HistoryIn(sink.records()).Versions(kTable).size(), 1u);
  std::set<int64_t> positions;
  for (const Event& e : EventsOf(sink.records())) {
    positions.insert(e.pos);
    EXPECT_EQ(e.version, 1);
  }
  EXPECT_EQ(positions, WritePositions(segment));
}

TEST_F(CassandraCaptureSchemaMutationTest, WithoutHistoryTheAddedColumnIsDecodedAndEmitted) {
  WriteSpliced(cdc_raw_, {AlterEntry({{.name = "extra", .type = "int"}}), ExtraWrite(42)});
  CaptureConfig config = Config();
  config.schema.history = false;
  config.schema.envelope = EnvelopeFormat::kPlain;
  const Schema schema = Standard1();
  MemorySink sink;
  Running run(config, schema, sink);
  ASSERT_TRUE(WaitFor([&] { return Empty(); }));
  ASSERT_TRUE(run.Stop().ok());
  EXPECT_EQ(run.capture().probe().errors("segment"), 0u);
  size_t with_value = 0;
  for (const Event& e : EventsOf(sink.records())) {
    if (e.after.contains("extra") && e.after.at("extra").is_object()) {
      EXPECT_EQ(e.after.at("extra").at("value"), 42);
      ++with_value;
    }
  }
  EXPECT_EQ(with_value, 1u);
}

TEST_F(CassandraCaptureSchemaMutationTest,
       WithoutHistoryARestartedCaptureDecodesExactlyAsAnUninterruptedOne) {
  // Given the ALTER mid-way in a first segment, and a second segment writing the new column
  CaptureConfig config = Config();
  config.schema.history = false;
  config.schema.envelope = EnvelopeFormat::kPlain;
  const Schema schema = Standard1();  // the CQL knows nothing of extra
  const fs::path second = cdc_raw_ / fmt::format("CommitLog-6-{}.log", kId + 1);
  const std::string second_bytes = testing::BuildSegment(6, kId + 1, {ExtraWrite(7)});
  const auto events_by_position = [](const std::vector<StoredRecord>& records) {
    std::map<std::pair<int64_t, int64_t>, nlohmann::json> out;
    for (const Event& e : EventsOf(records)) out[{e.segment, e.pos}] = e.after;
    return out;
  };

  // When one capture reads both
  WriteSpliced(cdc_raw_, {AlterEntry({{.name = "extra", .type = "int"}}), ExtraWrite(42)});
  rm::testing::WriteFile(second, second_bytes);
  MemorySink uninterrupted;
  {
    Running run(config, schema, uninterrupted);
    ASSERT_TRUE(WaitFor([&] { return Empty(); }));
    ASSERT_TRUE(run.Stop().ok());
  }
  // And another reads the first, stops (its segment, holding the ALTER, is deleted), and is
  // restarted when the second arrives
  config.state_dir = tmp_ / "state-restarted";
  WriteSpliced(cdc_raw_, {AlterEntry({{.name = "extra", .type = "int"}}), ExtraWrite(42)});
  MemorySink restarted;
  {
    Running run(config, schema, restarted);
    ASSERT_TRUE(WaitFor([&] { return Empty(); }));
    ASSERT_TRUE(run.Stop().ok());
  }
  rm::testing::WriteFile(second, second_bytes);
  {
    Running run(config, schema, restarted);
    ASSERT_TRUE(WaitFor([&] { return Empty(); }));
    ASSERT_TRUE(run.Stop().ok());
    EXPECT_EQ(run.capture().probe().errors("segment"), 0u);
    EXPECT_EQ(run.capture().probe().errors("event"), 0u);
  }

  // Then both produced the same events, the restarted one's write of extra with its value
  const auto expected = events_by_position(uninterrupted.records());
  const auto got = events_by_position(restarted.records());
  EXPECT_EQ(got, expected);
  bool found = false;
  for (const auto& [at, after] : got) {
    if (at.first != kId + 1) continue;
    found = true;
    ASSERT_TRUE(after.contains("extra")) << after.dump();
    EXPECT_EQ(after.at("extra").at("value"), 7);
  }
  EXPECT_TRUE(found);
}

TEST_F(CassandraCaptureSchemaMutationTest, ADroppedTableIsClosedAtItsDropAndNothingLaterIsDecoded) {
  // Given DROP TABLE mid-way, then a write racing with it (same table id, after the drop)
  std::string segment;
  const uint32_t at = WriteSpliced(cdc_raw_, {DropEntry(), ValWrite("k-late")}, &segment);
  std::set<int64_t> expected;
  for (int64_t p : WritePositions(segment)) {
    if (p < at) expected.insert(p);
  }
  ASSERT_FALSE(expected.empty());
  ASSERT_GT(WritePositions(segment).size(), expected.size() + 1);  // writes after the drop
  const Schema schema = Standard1();
  MemorySink sink;
  const std::string dropped =
      fmt::format("table Keyspace1.Standard1 was dropped at commit log position {}:{}", kId, at);
  {
    Running run(Config(), schema, sink);
    // Then the capture goes on: the segment is read to its end and delivered
    ASSERT_TRUE(WaitFor([&] { return Empty(); }));
    // And Health() says it was dropped, where, and it is counted
    EXPECT_NE(run.capture().Health().find(dropped), std::string::npos) << run.capture().Health();
    ASSERT_TRUE(run.Stop().ok());
    EXPECT_EQ(run.capture().probe().errors("table_dropped"), 1u);
    EXPECT_EQ(run.capture().probe().errors("segment"), 0u);
    EXPECT_EQ(run.capture().probe().errors("schema"), 0u);
  }
  // And only the writes before the drop are events, none in a stale shape after it
  std::set<int64_t> positions;
  for (const Event& e : EventsOf(sink.records())) positions.insert(e.pos);
  EXPECT_EQ(positions, expected);
  // And the history is closed at exactly the drop's position
  const SchemaHistory h = HistoryIn(sink.records());
  const auto& versions = h.Versions(kTable);
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_FALSE(versions[0].dropped);
  EXPECT_TRUE(versions[1].dropped);
  EXPECT_EQ(versions[1].position, fmt::format("{}:{}", kId, at));
  EXPECT_EQ(versions[1].shape, versions[0].shape);

  // When the capture restarts (the segment with the drop is gone) and the table's id writes
  // again
  rm::testing::WriteFile(cdc_raw_ / fmt::format("CommitLog-6-{}.log", kId + 1),
                         testing::BuildSegment(6, kId + 1, {ValWrite("k-later")}));
  const size_t from = sink.size();
  {
    Running run(Config(), schema, sink);
    ASSERT_TRUE(WaitFor([&] { return Empty(); }));
    // Then it still knows the table dropped: no event, no new history record, same health
    EXPECT_NE(run.capture().Health().find(dropped), std::string::npos) << run.capture().Health();
    ASSERT_TRUE(run.Stop().ok());
    EXPECT_EQ(run.capture().probe().errors("segment"), 0u);
  }
  EXPECT_TRUE(EventsOf(sink.records(), from).empty());
  EXPECT_EQ(HistoryRecords(sink.records(), from), 0u);
}

}  // namespace
}  // namespace rm::cdc::cassandra

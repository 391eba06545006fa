// Schema evolution in the running Postgres capture: ALTER TABLE mid-stream under load, with
// schema history and the JsonConverter envelope with schemas. Compatible changes give new
// versions and every event carries the shape it was written in; incompatible ones stop only
// their table, hold the slot, and resume after an acceptance with nothing of the table lost.
#include <gtest/gtest.h>

#include <set>

#include "src-cdc/postgres/schema_guard.h"
#include "src-cdc/schema_history.h"
#include "tests/src-cdc/postgres_test_support.h"

namespace rm::cdc::postgres::test {
namespace {

constexpr const char* kHistoryTopic = "pg.schema-history";

// The history as a rebuilt capture would read it: the sink's history records in order.
SchemaHistory HistoryIn(const MemorySink& sink) {
  SchemaHistory h;
  for (const auto& r : sink.records()) {
    if (r.topic != kHistoryTopic) continue;
    auto st = h.Apply(*r.key, r.value ? std::optional<std::string_view>(*r.value) : std::nullopt);
    EXPECT_TRUE(st.ok()) << st.error().message;
  }
  return h;
}

// One change event of a table: its schema version and the field names of its schema and of
// its row image.
struct Seen {
  size_t index = 0;
  int version = 0;
  std::vector<std::string> schema_fields;
  std::vector<std::string> row_fields;
  Json after;
};

std::vector<Seen> EventsOf(const std::vector<SinkRecord>& records, const std::string& topic) {
  std::vector<Seen> out;
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    if (r.topic != topic || !r.value) continue;
    Json v = Json::parse(*r.value);
    Seen s;
    s.index = i;
    const Json& value_schema = v["schema"]["fields"][1];
    s.version = value_schema.value("version", 0);
    for (const auto& f : value_schema["fields"]) s.schema_fields.push_back(f["field"]);
    const Json& row =
        v["payload"]["after"].is_null() ? v["payload"]["before"] : v["payload"]["after"];
    for (const auto& [k, _] : row.items()) s.row_fields.push_back(k);
    s.after = v["payload"]["after"];
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<std::string> ColumnNames(const TableShape& shape) {
  std::vector<std::string> out;
  for (const auto& c : shape.columns) out.push_back(c.name);
  return out;
}

// Inserts into the given tables, one transaction each, until stopped.
class Load {
 public:
  Load(const rm::testing::PostgresServer& pg, std::vector<std::string> statements)
      : thread_([this, &pg, statements = std::move(statements)] {
          while (!stop_) {
            for (const auto& s : statements) pg.Exec(s);
            ++rounds_;
          }
        }) {}
  ~Load() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Waits for `n` more rounds of inserts.
  bool WaitRounds(int n) {
    int target = rounds_ + n;
    return WaitFor([&] { return rounds_ >= target; });
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> rounds_{0};
  std::thread thread_;
};

PostgresCdcConfig SchemaConfigFor(const rm::testing::PostgresServer& pg) {
  auto cfg = TestConfig(pg, {"t1", "t2"});
  cfg.capture.schema.history = true;
  cfg.capture.schema.envelope = EnvelopeFormat::kJsonWithSchema;
  cfg.capture.schema.accept_poll = std::chrono::milliseconds(100);
  return cfg;
}

// A capture whose history reader reads the sink's history records (as the CLI reads the topic).
std::unique_ptr<CaptureRunner> StartCapture(const PostgresCdcConfig& cfg,
                                            const rm::testing::PostgresServer& pg,
                                            MemorySink& sink) {
  return std::make_unique<CaptureRunner>(
      cfg.capture, ParamsFor(pg), sink, [&sink](PostgresCapture& c) {
        c.SetSchemaHistoryReader(
            [&sink]() -> common::Result<SchemaHistory> { return HistoryIn(sink); });
      });
}

size_t CountTopic(const MemorySink& sink, const std::string& topic) {
  size_t n = 0;
  for (const auto& r : sink.records()) n += r.topic == topic && r.value ? 1 : 0;
  return n;
}

// Every event's row has exactly the fields of its schema, and the schema of version v has
// exactly the columns the history recorded for v; versions never go back within a run.
void ExpectEventsMatchTheirVersions(const std::vector<Seen>& events, const SchemaHistory& h,
                                    const std::string& table) {
  int last = 0;
  for (const auto& e : events) {
    ASSERT_GT(e.version, 0) << "event " << e.index << " has no schema version";
    EXPECT_EQ(e.row_fields, e.schema_fields) << "event " << e.index;
    const auto& versions = h.Versions(table);
    ASSERT_GE(versions.size(), static_cast<size_t>(e.version));
    EXPECT_EQ(e.schema_fields, ColumnNames(versions[e.version - 1].shape)) << "event " << e.index;
    EXPECT_GE(e.version, last) << "event " << e.index;
    last = e.version;
  }
}

TEST(PostgresSchemaEvolution, CompatibleChangesUnderLoadGiveNewVersionsAndEveryEventItsShape) {
  rm::testing::PostgresServer pg;
  pg.Exec(
      "CREATE TABLE t1 (id serial PRIMARY KEY, v text DEFAULT 'x', n int DEFAULT 1);"
      "CREATE TABLE t2 (id serial PRIMARY KEY, v text DEFAULT 'y');"
      "INSERT INTO t1 DEFAULT VALUES; INSERT INTO t2 DEFAULT VALUES");
  auto cfg = SchemaConfigFor(pg);
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());
  MemorySink sink;
  auto run = StartCapture(cfg, pg, sink);
  ASSERT_TRUE(WaitFor([&] { return run->probe().streaming() || run->done(); }));
  ASSERT_FALSE(run->done()) << run->Stop().error().message;
  {
    Load load(pg, {"INSERT INTO t1 DEFAULT VALUES", "INSERT INTO t2 DEFAULT VALUES"});
    ASSERT_TRUE(load.WaitRounds(20));
    pg.Exec("ALTER TABLE t1 ADD COLUMN a text");  // nullable
    ASSERT_TRUE(load.WaitRounds(20));
    pg.Exec("ALTER TABLE t1 ADD COLUMN b int NOT NULL DEFAULT 7");
    ASSERT_TRUE(load.WaitRounds(20));
    pg.Exec("ALTER TABLE t1 ALTER COLUMN n TYPE bigint");  // widening
    ASSERT_TRUE(load.WaitRounds(20));
  }
  ASSERT_TRUE(WaitCaughtUp(pg));
  EXPECT_EQ(run->capture().schema_problem(), "");
  ASSERT_TRUE(run->Stop().ok());

  SchemaHistory h = HistoryIn(sink);
  const auto& v1 = h.Versions("public.t1");
  ASSERT_EQ(v1.size(), 4u);
  EXPECT_EQ(ColumnNames(v1[3].shape), (std::vector<std::string>{"id", "v", "n", "a", "b"}));
  EXPECT_EQ(v1[3].shape.Find("n")->type, "bigint");
  EXPECT_FALSE(v1[2].shape.Find("b")->optional);
  EXPECT_EQ(h.Versions("public.t2").size(), 1u);
  for (size_t i = 1; i < v1.size(); ++i) {
    EXPECT_GT(v1[i].position_value, v1[i - 1].position_value);
  }

  auto records = sink.records();
  auto t1 = EventsOf(records, "pg.public.t1");
  ExpectEventsMatchTheirVersions(t1, h, "public.t1");
  std::set<int> seen_versions;
  for (const auto& e : t1) seen_versions.insert(e.version);
  EXPECT_EQ(seen_versions, (std::set<int>{1, 2, 3, 4}));
  // The widened column is still a JSON integer, and the column with a default has its value.
  EXPECT_TRUE(t1.back().after["n"].is_number_integer());
  EXPECT_EQ(t1.back().after["b"], 7);
  auto t2 = EventsOf(records, "pg.public.t2");
  ExpectEventsMatchTheirVersions(t2, h, "public.t2");
  // Every row of t1 reached the sink.
  std::set<int64_t> ids;
  for (const auto& e : t1) ids.insert(e.after["id"].get<int64_t>());
  EXPECT_EQ(ids.size(), std::stoul(pg.QueryValue("SELECT count(*) FROM t1")));
}

// Runs `alter` under load and checks that t1 stops (and only t1), that nothing of t1 is
// emitted while stopped, that the slot holds, and that an acceptance resumes t1 from where it
// stopped with nothing lost.
void StopAndAccept(const rm::testing::PostgresServer& pg, MemorySink& sink, CaptureRunner& run,
                   const std::string& alter, const std::string& rule, int expect_version) {
  SCOPED_TRACE(alter);
  Load load(pg, {"INSERT INTO t1 DEFAULT VALUES", "INSERT INTO t2 DEFAULT VALUES"});
  ASSERT_TRUE(load.WaitRounds(10));
  pg.Exec(alter);
  ASSERT_TRUE(WaitFor([&] { return !run.capture().schema_problem().empty() || run.done(); }));
  const std::string problem = run.capture().schema_problem();
  EXPECT_NE(problem.find("public.t1"), std::string::npos) << problem;
  EXPECT_NE(problem.find("rule " + rule), std::string::npos) << problem;
  EXPECT_NE(problem.find("LSN"), std::string::npos) << problem;
  const size_t stopped_at = sink.size();
  const size_t t2_before = CountTopic(sink, "pg.public.t2");
  ASSERT_TRUE(load.WaitRounds(20));
  ASSERT_TRUE(WaitFor([&] { return CountTopic(sink, "pg.public.t2") >= t2_before + 20; }));
  // t2 went on; nothing of t1 was emitted; the slot holds its position.
  auto records = sink.records();
  for (size_t i = stopped_at; i < records.size(); ++i) {
    EXPECT_NE(records[i].topic, "pg.public.t1") << "record " << i << " after the stop";
  }
  const std::string held = SlotConfirmedLsn(pg);
  ASSERT_TRUE(load.WaitRounds(10));
  ASSERT_TRUE(WaitFor([&] { return CountTopic(sink, "pg.public.t2") >= t2_before + 30; }));
  EXPECT_EQ(SlotConfirmedLsn(pg), held);
  EXPECT_EQ(pg.QueryValue("SELECT '" + held + "'::pg_lsn < pg_current_wal_insert_lsn()"), "t");

  // The operator's acceptance (what `accept-schema` writes) resumes t1 in its new shape.
  SchemaHistory h = HistoryIn(sink);
  ASSERT_NE(h.Pending("public.t1"), nullptr);
  auto [k, v] = EncodeAcceptRecord(*h.Pending("public.t1"));
  ASSERT_TRUE(sink.Produce(kHistoryTopic, k, v, [](common::Status) {}).ok());
  ASSERT_TRUE(WaitFor([&] { return run.capture().schema_problem().empty() || run.done(); }));
  load.Stop();
  ASSERT_TRUE(WaitCaughtUp(pg));
  ASSERT_FALSE(run.done());
  h = HistoryIn(sink);
  ASSERT_EQ(h.Latest("public.t1")->version, expect_version);
  EXPECT_TRUE(h.Latest("public.t1")->accepted);
  EXPECT_EQ(h.Pending("public.t1"), nullptr);
  records = sink.records();
  auto t1 = EventsOf(records, "pg.public.t1");
  // Within each run (the stream restarted at the acceptance) versions only go up and every
  // event matches its version's columns.
  for (const auto& e : t1) {
    EXPECT_EQ(e.row_fields, e.schema_fields) << "event " << e.index;
    EXPECT_EQ(e.schema_fields, ColumnNames(h.Versions("public.t1")[e.version - 1].shape));
  }
  EXPECT_EQ(t1.back().version, expect_version);
  std::set<int64_t> ids;
  for (const auto& e : t1) ids.insert(e.after["id"].get<int64_t>());
  EXPECT_EQ(ids.size(), std::stoul(pg.QueryValue("SELECT count(*) FROM t1")));
}

TEST(PostgresSchemaEvolution, IncompatibleChangesStopOnlyTheirTableUntilAccepted) {
  rm::testing::PostgresServer pg;
  pg.Exec(
      "CREATE TABLE t1 (id serial PRIMARY KEY, v text DEFAULT 'x', n int DEFAULT 1, "
      "c int DEFAULT 2);"
      "CREATE TABLE t2 (id serial PRIMARY KEY, v text DEFAULT 'y');"
      "INSERT INTO t1 DEFAULT VALUES; INSERT INTO t2 DEFAULT VALUES");
  auto cfg = SchemaConfigFor(pg);
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());
  MemorySink sink;
  auto run = StartCapture(cfg, pg, sink);
  ASSERT_TRUE(WaitFor([&] { return run->probe().streaming() || run->done(); }));
  ASSERT_FALSE(run->done()) << run->Stop().error().message;
  StopAndAccept(pg, sink, *run, "ALTER TABLE t1 DROP COLUMN n", "drop_column", 2);
  StopAndAccept(pg, sink, *run, "ALTER TABLE t1 RENAME COLUMN v TO w", "rename_column", 3);
  StopAndAccept(pg, sink, *run, "ALTER TABLE t1 ALTER COLUMN c TYPE text", "type_change", 4);
  auto t1 = EventsOf(sink.records(), "pg.public.t1");
  EXPECT_TRUE(t1.back().after["c"].is_string());
  EXPECT_EQ(HistoryIn(sink).Versions("public.t2").size(), 1u);
  ASSERT_TRUE(run->Stop().ok());
}

}  // namespace
}  // namespace rm::cdc::postgres::test

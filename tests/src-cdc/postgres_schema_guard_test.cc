// Schema history records, the compatibility rules on shapes, the guard's decisions (new
// version, replay, stop, acceptance) and the JsonConverter envelope with schemas.
#include <gtest/gtest.h>

#include <map>

#include "common/metrics.h"
#include "src-cdc/connect_envelope.h"
#include "src-cdc/postgres/capture_metrics.h"
#include "src-cdc/postgres/config.h"
#include "src-cdc/postgres/migration_check.h"
#include "src-cdc/postgres/schema_guard.h"
#include "src-cdc/schema_history.h"

namespace rm::cdc::postgres {
namespace {

ColumnShape Col(std::string name, std::string type, int attnum, bool optional = true,
                bool key = false, bool has_default = false) {
  ColumnShape c;
  c.name = std::move(name);
  c.type = std::move(type);
  c.attnum = attnum;
  c.optional = optional;
  c.key = key;
  c.has_default = has_default;
  return c;
}

TableShape Base() {
  return TableShape{{Col("id", "integer", 1, false, true), Col("v", "text", 2),
                     Col("n", "integer", 3), Col("s", "character varying(20)", 4)}};
}

std::vector<std::string> Rules(const TableShape& after) {
  std::vector<std::string> out;
  for (const auto& v : CompareShapes(Base(), after)) out.push_back(v.column + ":" + v.rule);
  return out;
}

TEST(SchemaRules, AddingANullableColumnOrOneWithADefaultIsCompatible) {
  TableShape a = Base();
  a.columns.push_back(Col("extra", "text", 5));
  EXPECT_TRUE(Rules(a).empty());
  TableShape b = Base();
  b.columns.push_back(Col("flag", "boolean", 5, false, false, true));
  EXPECT_TRUE(Rules(b).empty());
}

TEST(SchemaRules, AddingARequiredColumnWithoutDefaultIsNot) {
  TableShape a = Base();
  a.columns.push_back(Col("flag", "boolean", 5, false));
  EXPECT_EQ(Rules(a), std::vector<std::string>{"flag:add_required_column"});
}

TEST(SchemaRules, MakingAColumnRequiredIsNot) {
  TableShape a = Base();
  a.columns[1].optional = false;
  EXPECT_EQ(Rules(a), std::vector<std::string>{"v:set_not_null"});
}

TEST(SchemaRules, DroppingAColumnOrAKeyColumnIsNot) {
  TableShape a = Base();
  a.columns.erase(a.columns.begin() + 2);
  EXPECT_EQ(Rules(a), std::vector<std::string>{"n:drop_column"});
  TableShape b = Base();
  b.columns.erase(b.columns.begin());
  EXPECT_EQ(Rules(b), std::vector<std::string>{"id:drop_key_column"});
}

TEST(SchemaRules, ARenameIsToldFromADropByTheAttnum) {
  TableShape a = Base();
  a.columns[2].name = "amount";
  EXPECT_EQ(Rules(a), std::vector<std::string>{"n:rename_column"});
}

TEST(SchemaRules, TypeChangesFollowTheMigrationCheckersRule) {
  TableShape widen = Base();
  widen.columns[2].type = "bigint";
  widen.columns[3].type = "text";
  EXPECT_TRUE(Rules(widen).empty());
  TableShape narrow = Base();
  narrow.columns[3].type = "character varying(10)";
  EXPECT_EQ(Rules(narrow), std::vector<std::string>{"s:type_change"});
  TableShape encoding = Base();
  encoding.columns[2].type = "text";
  EXPECT_EQ(Rules(encoding), std::vector<std::string>{"n:type_change"});
  // The checker gives the same verdicts on the same types.
  EXPECT_FALSE(ColumnTypeChangeProblem("integer", "bigint"));
  EXPECT_TRUE(ColumnTypeChangeProblem("character varying(20)", "character varying(10)"));
  EXPECT_TRUE(ColumnTypeChangeProblem("integer", "text"));
}

TEST(SchemaRules, RetypingOrAddingKeyColumnsChangesTheKey) {
  TableShape a = Base();
  a.columns[0].type = "bigint";
  EXPECT_EQ(Rules(a), std::vector<std::string>{"id:key_change"});
  TableShape b = Base();
  b.columns[1].key = true;
  EXPECT_EQ(Rules(b), std::vector<std::string>{"v:key_change"});
}

TEST(SchemaHistory, RecordsRoundTripAndLaterRecordsOfAKeyWin) {
  SchemaVersion v1{"public.t", 1, "0/100", 256, false, Base()};
  TableShape s2 = Base();
  s2.columns.push_back(Col("extra", "text", 5));
  SchemaVersion v2{"public.t", 2, "0/200", 512, false, s2};
  SchemaHistory h;
  for (const auto& v : {v2, v1}) {
    auto [k, val] = EncodeVersionRecord(v);
    ASSERT_TRUE(h.Apply(k, val).ok());
  }
  ASSERT_EQ(h.Versions("public.t").size(), 2u);
  EXPECT_EQ(h.Latest("public.t")->version, 2);
  EXPECT_EQ(h.At("public.t", 300)->version, 1);
  EXPECT_EQ(h.At("public.t", 512)->version, 2);
  EXPECT_EQ(h.At("public.t", 10), nullptr);
  EXPECT_EQ(h.Latest("public.t")->shape, s2);

  SchemaPending p{"public.t", "0/300", 768, Base(), "stopped"};
  auto [pk, pv] = EncodePendingRecord(p);
  ASSERT_TRUE(h.Apply(pk, pv).ok());
  ASSERT_NE(h.Pending("public.t"), nullptr);
  EXPECT_EQ(h.Pending("public.t")->error, "stopped");
  ASSERT_TRUE(h.Apply(pk, std::nullopt).ok());
  EXPECT_EQ(h.Pending("public.t"), nullptr);
  EXPECT_FALSE(h.Apply("{\"table\":\"x\"}", "{}").ok());
  EXPECT_FALSE(h.Apply("not json", "{}").ok());
}

// A catalog whose answers the test sets, and a table as Relation messages describe it.
class FakeShapeCatalog : public ShapeCatalog {
 public:
  common::Result<std::vector<ColumnFacts>> Columns(uint32_t) override { return facts; }
  common::Result<std::string> TypeName(uint32_t oid, int32_t) override {
    static const std::map<uint32_t, std::string> kNames = {
        {23, "integer"}, {20, "bigint"}, {25, "text"}, {1184, "timestamp with time zone"}};
    return kNames.at(oid);
  }
  std::vector<ColumnFacts> facts;
};

struct GuardTest : ::testing::Test {
  void SetTable(
      const std::vector<std::tuple<std::string, uint32_t, std::string, bool, bool>>& cols) {
    table = TableSchema{};
    table.oid = 1234;
    table.name = TableName{"public", "t"};
    catalog.facts.clear();
    int attnum = 0;
    for (const auto& [name, oid, type, not_null, has_default] : cols) {
      table.columns.push_back({name, oid, -1});
      catalog.facts.push_back({name, ++attnum, type, not_null, has_default});
    }
    table.key_columns = {0};
  }
  std::unique_ptr<SchemaGuard> MakeGuard(SchemaHistory h) {
    return std::make_unique<SchemaGuard>(SchemaGuardOptions{true, true, "pg", "pg.schema-history"},
                                         std::move(h), types, catalog, status);
  }
  // Applies the records a decision asked for to `h` (what reading the topic back gives).
  static void Store(const SchemaGuard::Decision& d, SchemaHistory& h) {
    for (const auto& [k, v] : d.records) {
      ASSERT_TRUE(h.Apply(k, v ? std::optional<std::string_view>(*v) : std::nullopt).ok());
    }
  }

  TypeRegistry types;
  FakeShapeCatalog catalog;
  TableSchema table;
  std::shared_ptr<SchemaStatus> status = std::make_shared<SchemaStatus>();
};

TEST_F(GuardTest, VersionsNewShapesAndReplaysThemWithoutWriting) {
  SchemaHistory topic;  // what the history topic holds
  auto guard = MakeGuard(topic);
  SetTable({{"id", 23, "integer", true, false}, {"v", 25, "text", false, false}});
  auto d1 = guard->Observe(table, Lsn(100));
  ASSERT_TRUE(d1.ok());
  EXPECT_EQ(d1->outcome, SchemaGuard::Outcome::kNewVersion);
  Store(*d1, topic);
  EXPECT_EQ(guard->Version("pg.public.t"), 1);
  auto same = guard->Observe(table, Lsn(150));
  EXPECT_EQ(same->outcome, SchemaGuard::Outcome::kUnchanged);
  EXPECT_TRUE(same->records.empty());

  SetTable({{"id", 23, "integer", true, false},
            {"v", 25, "text", false, false},
            {"extra", 25, "text", false, false}});
  auto d2 = guard->Observe(table, Lsn(200));
  ASSERT_EQ(d2->outcome, SchemaGuard::Outcome::kNewVersion);
  Store(*d2, topic);
  EXPECT_EQ(guard->Version("pg.public.t"), 2);
  auto schemas = guard->Schemas("pg.public.t");
  ASSERT_NE(schemas, nullptr);
  EXPECT_NE(schemas->value.find("\"field\":\"extra\""), std::string::npos);

  // A rebuilt capture reads the topic and replays from before version 2: the old columns
  // at 150 get version 1 and the new ones at 200 version 2, and nothing is written again,
  // even though the catalog now answers with the newest columns.
  auto replay = MakeGuard(topic);
  SetTable({{"id", 23, "integer", true, false}, {"v", 25, "text", false, false}});
  TableSchema old_table = table;
  SetTable({{"id", 23, "integer", true, false},
            {"v", 25, "text", false, false},
            {"extra", 25, "text", false, false}});
  auto r1 = replay->Observe(old_table, Lsn(150));
  EXPECT_EQ(r1->outcome, SchemaGuard::Outcome::kUnchanged);
  EXPECT_TRUE(r1->records.empty());
  EXPECT_EQ(replay->Version("pg.public.t"), 1);
  auto r2 = replay->Observe(table, Lsn(200));
  EXPECT_TRUE(r2->records.empty());
  EXPECT_EQ(replay->Version("pg.public.t"), 2);
  EXPECT_EQ(replay->Schemas("pg.public.t")->value, schemas->value);
}

TEST_F(GuardTest, AMessageOlderThanTheCatalogKeepsTheShapeTheHistoryHas) {
  // A capture restarted behind an ALTER reads Relation messages from before it while the
  // catalog already shows the table after it (here: column v dropped, n retyped).
  SchemaHistory topic;
  auto guard = MakeGuard(topic);
  SetTable({{"id", 23, "integer", true, false},
            {"v", 25, "text", false, false},
            {"n", 23, "integer", false, false}});
  TableSchema old_table = table;
  Store(*guard->Observe(table, Lsn(100)), topic);
  catalog.facts = {{"id", 1, "integer", true, false}, {"n", 3, "bigint", false, false}};
  auto restarted = MakeGuard(topic);
  auto d = restarted->Observe(old_table, Lsn(300));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->outcome, SchemaGuard::Outcome::kUnchanged);
  EXPECT_TRUE(d->records.empty());
  EXPECT_EQ(restarted->Version("pg.public.t"), 1);
}

TEST_F(GuardTest, AnIncompatibleChangeStopsTheTableUntilItsShapeIsAccepted) {
  SchemaHistory topic;
  auto guard = MakeGuard(topic);
  SetTable({{"id", 23, "integer", true, false}, {"v", 25, "text", false, false}});
  Store(*guard->Observe(table, Lsn(100)), topic);
  SetTable({{"id", 23, "integer", true, false}, {"v", 25, "text", true, false}});
  auto d = guard->Observe(table, Lsn(0x2A0));
  ASSERT_EQ(d->outcome, SchemaGuard::Outcome::kStopped);
  EXPECT_TRUE(guard->Stopped("pg.public.t"));
  for (const auto& part : {"public.t", "column v", "set_not_null", "0/2A0", "accept-schema"}) {
    EXPECT_NE(d->error.find(part), std::string::npos) << part << " in " << d->error;
  }
  EXPECT_EQ(status->Get(), d->error);
  Store(*d, topic);
  ASSERT_NE(topic.Pending("public.t"), nullptr);

  // A restart (kill -9) stops at the same place and writes the same pending record.
  auto again = MakeGuard(topic);
  auto d_again = again->Observe(table, Lsn(0x2A0));
  EXPECT_EQ(d_again->outcome, SchemaGuard::Outcome::kStopped);
  EXPECT_EQ(d_again->records, d->records);
  EXPECT_FALSE(again->Accepted(topic));

  // accept-schema writes the acceptance; the stopped guard notices, the next one records
  // version 2 (accepted) and clears the pending record.
  auto [ak, av] = EncodeAcceptRecord(*topic.Pending("public.t"));
  ASSERT_TRUE(topic.Apply(ak, av).ok());
  EXPECT_TRUE(again->Accepted(topic));
  auto resumed = MakeGuard(topic);
  auto d2 = resumed->Observe(table, Lsn(0x2A0));
  ASSERT_EQ(d2->outcome, SchemaGuard::Outcome::kNewVersion);
  Store(*d2, topic);
  EXPECT_TRUE(topic.Latest("public.t")->accepted);
  EXPECT_EQ(topic.Latest("public.t")->version, 2);
  EXPECT_EQ(topic.Latest("public.t")->position, "0/2A0");
  EXPECT_EQ(topic.Pending("public.t"), nullptr);
  EXPECT_FALSE(resumed->Stopped("pg.public.t"));
  EXPECT_EQ(status->Get(), "");
}

// rm_cdc_table_stopped{slot,table,reason} is 1 while the table is stopped and disappears once
// the acceptance let it stream again; rm_cdc_schema_incompatible_changes_total counts the
// change once, also when a restart meets it again.
TEST_F(GuardTest, StoppedTableMetricAppearsAndClearsAfterAcceptance) {
  prometheus::Registry registry;
  CaptureMetrics metrics(registry, std::make_shared<CaptureProbe>(), "s1");
  metrics.WatchSchema(status);
  const std::string stopped_series =
      R"(rm_cdc_table_stopped{reason="drop_column,set_not_null",slot="s1",table="public.t"} 1)";
  const std::string counted_once =
      R"(rm_cdc_schema_incompatible_changes_total{slot="s1",table="public.t"} 1)";
  auto page = [&] {
    metrics.Update();
    return common::RenderMetrics(registry);
  };

  SchemaHistory topic;
  auto guard = MakeGuard(topic);
  SetTable({{"id", 23, "integer", true, false},
            {"v", 25, "text", false, false},
            {"w", 25, "text", false, false}});
  Store(*guard->Observe(table, Lsn(100)), topic);
  EXPECT_EQ(page().find("rm_cdc_table_stopped{"), std::string::npos);
  EXPECT_EQ(page().find("rm_cdc_schema_incompatible_changes_total{"), std::string::npos);

  SetTable({{"id", 23, "integer", true, false}, {"v", 25, "text", true, false}});
  auto d = guard->Observe(table, Lsn(0x2A0));
  ASSERT_EQ(d->outcome, SchemaGuard::Outcome::kStopped);
  Store(*d, topic);
  EXPECT_NE(page().find(stopped_series), std::string::npos) << page();
  EXPECT_NE(page().find(counted_once), std::string::npos) << page();

  auto again = MakeGuard(topic);
  ASSERT_EQ(again->Observe(table, Lsn(0x2A0))->outcome, SchemaGuard::Outcome::kStopped);
  EXPECT_NE(page().find(stopped_series), std::string::npos) << page();
  EXPECT_NE(page().find(counted_once), std::string::npos) << page();

  auto [ak, av] = EncodeAcceptRecord(*topic.Pending("public.t"));
  ASSERT_TRUE(topic.Apply(ak, av).ok());
  auto resumed = MakeGuard(topic);
  ASSERT_EQ(resumed->Observe(table, Lsn(0x2A0))->outcome, SchemaGuard::Outcome::kNewVersion);
  EXPECT_EQ(page().find("rm_cdc_table_stopped{"), std::string::npos) << page();
  EXPECT_NE(page().find(counted_once), std::string::npos) << page();
}

TEST(ConnectEnvelope, DebeziumTypesAndNamesForPostgresColumns) {
  TypeRegistry types;
  auto name = [&](uint32_t oid, int32_t mod = -1) {
    Json j = ConnectFieldSchema(types, oid, mod);
    return j["type"].get<std::string>() +
           (j.contains("name") ? " " + j["name"].get<std::string>() : std::string());
  };
  EXPECT_EQ(name(21), "int16");
  EXPECT_EQ(name(23), "int32");
  EXPECT_EQ(name(20), "int64");
  EXPECT_EQ(name(700), "float");
  EXPECT_EQ(name(701), "double");
  EXPECT_EQ(name(16), "boolean");
  EXPECT_EQ(name(1700), "string");
  EXPECT_EQ(name(17), "bytes");
  EXPECT_EQ(name(3802), "string io.debezium.data.Json");
  EXPECT_EQ(name(2950), "string io.debezium.data.Uuid");
  EXPECT_EQ(name(1082), "int32 io.debezium.time.Date");
  EXPECT_EQ(name(1083, 3), "int32 io.debezium.time.Time");
  EXPECT_EQ(name(1083), "int64 io.debezium.time.MicroTime");
  EXPECT_EQ(name(1114, 3), "int64 io.debezium.time.Timestamp");
  EXPECT_EQ(name(1114), "int64 io.debezium.time.MicroTimestamp");
  EXPECT_EQ(name(1184), "string io.debezium.time.ZonedTimestamp");
  EXPECT_EQ(name(1266), "string io.debezium.time.ZonedTime");
  EXPECT_EQ(name(1186), "int64 io.debezium.time.MicroDuration");
  Json arr = ConnectFieldSchema(types, 1007, -1);
  EXPECT_EQ(arr["type"], "array");
  EXPECT_EQ(arr["items"]["type"], "int32");
}

TEST(ConnectEnvelope, EventsWithSchemasWrapThePlainPayload) {
  TypeRegistry types;
  TableSchema t;
  t.name = TableName{"public", "t"};
  t.columns = {{"id", 23, -1}, {"at", 1184, -1}};
  t.key_columns = {0};
  TableShape shape = BuildShape(
      t, {"integer", "timestamp with time zone"},
      {{"id", 1, "integer", true, false}, {"at", 2, "timestamp with time zone", false, false}},
      types);
  ChangeEvent e;
  e.topic = "pg.public.t";
  e.op = Operation::kCreate;
  e.key = Json{{"id", 7}};
  e.after = Json{{"id", 7}, {"at", "2024-03-01T12:30:00Z"}};
  e.source.connector = "postgresql";
  const std::string plain_value = EncodeValue(e);
  const std::string plain_key = *EncodeKey(e);
  e.schemas = BuildConnectSchemas(e.topic, shape, 3, PostgresSourceSchema());
  Json value = Json::parse(EncodeValue(e));
  EXPECT_EQ(value["payload"].dump(), Json::parse(plain_value).dump());
  const Json& schema = value["schema"];
  EXPECT_EQ(schema["name"], "pg.public.t.Envelope");
  EXPECT_EQ(schema["fields"][0]["field"], "before");
  EXPECT_EQ(schema["fields"][1]["name"], "pg.public.t.Value");
  EXPECT_EQ(schema["fields"][1]["version"], 3);
  EXPECT_EQ(schema["fields"][1]["fields"][0]["type"], "int32");
  EXPECT_EQ(schema["fields"][1]["fields"][0]["optional"], false);
  EXPECT_EQ(schema["fields"][1]["fields"][1]["name"], "io.debezium.time.ZonedTimestamp");
  EXPECT_EQ(schema["fields"][1]["fields"][1]["optional"], true);
  EXPECT_EQ(schema["fields"][2]["name"], "io.debezium.connector.postgresql.Source");
  Json key = Json::parse(*EncodeKey(e));
  EXPECT_EQ(key["payload"].dump(), Json::parse(plain_key).dump());
  EXPECT_EQ(key["schema"]["name"], "pg.public.t.Key");
  EXPECT_EQ(key["schema"]["fields"].size(), 1u);
}

TEST(PostgresConfigSchema, EnvelopeAndHistoryAreChosenPerPipeline) {
  const std::string base =
      "postgres:\n  connection: {dbname: app, user: u}\n  tables: [t]\n  topic_prefix: pg\n";
  auto plain = ParsePostgresCdcConfig(base, "a.yaml");
  EXPECT_EQ(plain.capture.schema.envelope, EnvelopeFormat::kPlain);
  EXPECT_FALSE(plain.capture.schema.history);
  EXPECT_EQ(plain.capture.HistoryTopic(), "pg.schema-history");
  auto with = ParsePostgresCdcConfig(
      base + "  schema: {envelope: json_with_schema, history: true, history_topic: h}\n", "b.yaml");
  EXPECT_EQ(with.capture.schema.envelope, EnvelopeFormat::kJsonWithSchema);
  EXPECT_TRUE(with.capture.schema.history);
  EXPECT_EQ(with.capture.HistoryTopic(), "h");
  try {
    ParsePostgresCdcConfig(base + "  schema: {envelope: avro}\n", "c.yaml");
    FAIL() << "expected ConfigError";
  } catch (const common::ConfigError& e) {
    EXPECT_NE(
        std::string(e.what()).find("c.yaml:5: postgres.schema.envelope: must be one of plain, "
                                   "json_with_schema (got \"avro\")"),
        std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace rm::cdc::postgres

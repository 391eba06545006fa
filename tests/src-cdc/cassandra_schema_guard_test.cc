// The Cassandra capture's shapes (from CQL), its compatibility rules, the guard's decisions
// (first version, unchanged, new version, stop naming table/column/rule/position, acceptance),
// its Connect schemas after Debezium's Cassandra connector, and the `schema:`/`transforms:`
// configuration keys.
#include "src-cdc/cassandra/schema_guard.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "common/config_reader.h"
#include "src-cdc/cassandra/capture_config.h"
#include "src-cdc/schema_evolution.h"
#include "src-cdc/schema_history.h"
#include "tests/util/test_util.h"

namespace rm::cdc::cassandra {
namespace {

constexpr char kId[] = "5a1c395e-b41f-11e5-9f22-ba0be0483c18";

TableSchema Table(const std::string& columns, const std::string& options = "") {
  auto t = ParseCreateTable("CREATE TABLE shop.orders (" + columns + ") WITH ID = " + kId +
                            (options.empty() ? "" : " AND " + options));
  EXPECT_TRUE(t.ok()) << t.error().message;
  return std::move(t).value();
}

const std::string kBase = "id int, sku text, total bigint, note ascii, PRIMARY KEY (id, sku)";

std::vector<std::string> Rules(const std::string& before, const std::string& after) {
  std::vector<std::string> out;
  for (const auto& v : CompareShapes(ShapeOf(Table(before)), ShapeOf(Table(after)),
                                     [](const ColumnShape&o, const ColumnShape&n) {
                                       return CqlTypeChangeProblem(o.type, n.type);
                                     })) {
    out.push_back(v.column + ":" + v.rule);
  }
  return out;
}

TEST(CassandraShape, GivesEachColumnItsTypeRoleAndKeyFlagInDeclarationOrder) {
  const TableShape s =
      ShapeOf(Table("id int, sku text, total bigint, tag text static, PRIMARY KEY (id, sku)",
                    "CLUSTERING ORDER BY (sku DESC)"));
  ASSERT_EQ(s.columns.size(), 4u);
  EXPECT_EQ(s.columns[0].type, "int (partition key 1)");
  EXPECT_EQ(s.columns[1].type, "text (clustering 1, desc)");
  EXPECT_EQ(s.columns[2].type, "bigint");
  EXPECT_EQ(s.columns[3].type, "text (static)");
  EXPECT_TRUE(s.columns[0].key && s.columns[1].key);
  EXPECT_FALSE(s.columns[2].key || s.columns[3].key);
  EXPECT_FALSE(s.columns[0].optional);
  EXPECT_TRUE(s.columns[2].optional);
  // The after struct's field: Debezium's cell struct.
  EXPECT_EQ(s.columns[2].connect["name"], "cell_value_total");
  EXPECT_EQ(s.columns[2].connect["fields"][0]["type"], "int64");
  EXPECT_EQ(s.columns[2].connect["fields"][1]["field"], "deletion_ts");
  EXPECT_EQ(s.columns[2].connect["fields"][2]["field"], "set");
}

TEST(CassandraRules, AddingARegularOrStaticColumnIsCompatible) {
  EXPECT_TRUE(Rules(kBase,
                    "id int, sku text, total bigint, note ascii, extra list<text>, "
                    "PRIMARY KEY (id, sku)")
                  .empty());
  EXPECT_TRUE(Rules(kBase,
                    "id int, sku text, total bigint, note ascii, s int static, "
                    "PRIMARY KEY (id, sku)")
                  .empty());
}

TEST(CassandraRules, WideningATypeIsCompatibleNarrowingOrChangingItIsNot) {
  EXPECT_TRUE(
      Rules(kBase, "id int, sku text, total varint, note text, PRIMARY KEY (id, sku)").empty());
  EXPECT_EQ(Rules(kBase, "id int, sku text, total int, note ascii, PRIMARY KEY (id, sku)"),
            std::vector<std::string>{"total:type_change"});
  EXPECT_EQ(Rules(kBase, "id int, sku text, total bigint, note blob, PRIMARY KEY (id, sku)"),
            std::vector<std::string>{"note:type_change"});
}

TEST(CassandraRules, DroppingAColumnOrChangingTheKeyIsNot) {
  EXPECT_EQ(Rules(kBase, "id int, sku text, total bigint, PRIMARY KEY (id, sku)"),
            std::vector<std::string>{"note:drop_column"});
  EXPECT_EQ(Rules(kBase, "id int, sku ascii, total bigint, note ascii, PRIMARY KEY (id, sku)"),
            std::vector<std::string>{"sku:key_change"});
  EXPECT_EQ(Rules(kBase, "id int, total bigint, note ascii, PRIMARY KEY (id)"),
            std::vector<std::string>{"sku:drop_key_column"});
  // sku moves from clustering to the partition key: its role (and the Kafka key) changes.
  EXPECT_EQ(Rules(kBase, "id int, sku text, total bigint, note ascii, PRIMARY KEY ((id, sku))"),
            std::vector<std::string>{"sku:key_change"});
  EXPECT_EQ(Rules(kBase,
                  "id int, sku text, total bigint static, note ascii, PRIMARY KEY (id, "
                  "sku)"),
            std::vector<std::string>{"total:type_change"});
}

class CassandraGuardTest : public ::testing::Test {
 protected:
  std::unique_ptr<SchemaGuard> MakeGuard(bool connect_schemas = false) {
    SchemaHistory copy;
    for (const auto& [k, v] : written_) {
      EXPECT_TRUE(copy.Apply(k, v ? std::optional<std::string_view>(*v) : std::nullopt).ok());
    }
    return std::make_unique<SchemaGuard>(SchemaGuardOptions{true, connect_schemas, "cass"},
                                         std::move(copy), status_);
  }
  SchemaGuard::Decision Observe(SchemaGuard& g, const std::string& columns, int64_t segment,
                                uint32_t offset) {
    auto d = g.Observe(Table(columns), CommitLogPosition{segment, offset});
    for (auto& r : d.records) written_.push_back(r);
    return d;
  }

  std::vector<SchemaEvolution::Record> written_;  // the history topic, in order
  std::shared_ptr<SchemaStatus> status_ = std::make_shared<SchemaStatus>();
};

TEST_F(CassandraGuardTest, RecordsAVersionPerShapeWithTheCommitLogPositionItAppliesFrom) {
  auto guard = MakeGuard();
  auto d1 = Observe(*guard, kBase, 1700000000000, 0);
  EXPECT_EQ(d1.outcome, SchemaGuard::Outcome::kNewVersion);
  ASSERT_EQ(d1.records.size(), 1u);
  EXPECT_EQ(d1.records[0].first, R"({"table":"shop.orders","version":1})");
  EXPECT_NE(d1.records[0].second->find(R"("position":"1700000000000:0")"), std::string::npos);
  EXPECT_EQ(guard->Version("cass.shop.orders"), 1);

  // A restart with the same CQL writes nothing; one with an added column is version 2.
  auto again = MakeGuard();
  EXPECT_EQ(Observe(*again, kBase, 1700000000000, 4096).outcome, SchemaGuard::Outcome::kUnchanged);
  auto added = MakeGuard();
  auto d2 = Observe(*added,
                    "id int, sku text, total bigint, note ascii, extra text, PRIMARY KEY "
                    "(id, sku)",
                    1700000000001, 512);
  EXPECT_EQ(d2.outcome, SchemaGuard::Outcome::kNewVersion);
  EXPECT_EQ(added->Version("cass.shop.orders"), 2);
  EXPECT_EQ(written_.size(), 2u);

  // Read back, the history has both versions with their positions.
  SchemaHistory h;
  for (const auto& [k, v] : written_) ASSERT_TRUE(h.Apply(k, *v).ok());
  ASSERT_EQ(h.Versions("shop.orders").size(), 2u);
  EXPECT_EQ(h.Versions("shop.orders")[1].position, "1700000000001:512");
  EXPECT_NE(h.Versions("shop.orders")[1].shape.Find("extra"), nullptr);
  EXPECT_TRUE(status_->Get().empty());
}

TEST_F(CassandraGuardTest, AnIncompatibleChangeStopsTheTableNamingColumnRuleAndPosition) {
  Observe(*MakeGuard(), kBase, 1700000000000, 0);
  auto guard = MakeGuard();
  auto d =
      Observe(*guard, "id int, sku text, total int, PRIMARY KEY (id, sku)", 1700000000002, 1024);
  ASSERT_EQ(d.outcome, SchemaGuard::Outcome::kStopped);
  EXPECT_TRUE(guard->Stopped("cass.shop.orders"));
  for (const char* part : {"table shop.orders stopped at commit log position 1700000000002:1024",
                           "column total: rule type_change", "column note: rule drop_column",
                           "regionmirror cdc cassandra accept-schema --table shop.orders"}) {
    EXPECT_NE(d.error.find(part), std::string::npos) << part << " in " << d.error;
  }
  EXPECT_EQ(status_->Get(), d.error);
  ASSERT_EQ(d.records.size(), 1u);
  EXPECT_EQ(d.records[0].first, PendingRecordKey("shop.orders"));

  // Accepted by an operator: the next capture records it as version 2 and clears the pending.
  SchemaHistory h;
  for (const auto& [k, v] : written_) ASSERT_TRUE(h.Apply(k, *v).ok());
  ASSERT_NE(h.Pending("shop.orders"), nullptr);
  EXPECT_FALSE(guard->Accepted(h));
  written_.push_back(EncodeAcceptRecord(*h.Pending("shop.orders")));
  SchemaHistory fresh;
  for (const auto& [k, v] : written_) ASSERT_TRUE(fresh.Apply(k, *v).ok());
  EXPECT_TRUE(guard->Accepted(fresh));

  auto next = MakeGuard();
  auto accepted =
      Observe(*next, "id int, sku text, total int, PRIMARY KEY (id, sku)", 1700000000002, 1024);
  EXPECT_EQ(accepted.outcome, SchemaGuard::Outcome::kNewVersion);
  EXPECT_FALSE(next->Stopped("cass.shop.orders"));
  ASSERT_EQ(accepted.records.size(), 2u);
  EXPECT_NE(accepted.records[0].second->find(R"("accepted":true)"), std::string::npos);
  EXPECT_EQ(accepted.records[1].first, PendingRecordKey("shop.orders"));
  EXPECT_FALSE(accepted.records[1].second.has_value());
}

TEST_F(CassandraGuardTest, ConnectSchemasFollowDebeziumsCassandraConnector) {
  auto guard = MakeGuard(/*connect_schemas=*/true);
  Observe(*guard, kBase + ", d date, u timeuuid, m map<text, int>", 1700000000000, 0);
  auto schemas = guard->Schemas("cass.shop.orders");
  ASSERT_NE(schemas, nullptr);
  const Json key = Json::parse(schemas->key);
  EXPECT_EQ(key["name"], "cass.shop.orders.Key");
  ASSERT_EQ(key["fields"].size(), 2u);
  EXPECT_EQ(key["fields"][0], Json::parse(R"({"type":"int32","optional":false,"field":"id"})"));
  EXPECT_EQ(key["fields"][1], Json::parse(R"({"type":"string","optional":true,"field":"sku"})"));

  const Json value = Json::parse(schemas->value);
  EXPECT_EQ(value["name"], "cass.shop.orders.Envelope");
  const Json& after = value["fields"][1];
  EXPECT_EQ(after["field"], "after");
  EXPECT_EQ(after["version"], 1);  // the history version
  std::map<std::string, Json> fields;
  for (const auto& f : after["fields"]) fields[f["field"]] = f;
  EXPECT_EQ(fields["total"]["name"], "cell_value_total");
  EXPECT_EQ(fields["d"]["fields"][0]["name"], "io.debezium.time.Date");
  EXPECT_EQ(fields["u"]["fields"][0]["name"], "io.debezium.data.Uuid");
  EXPECT_EQ(fields["m"]["fields"][0]["type"], "map");
  EXPECT_EQ(fields["_range_start"]["name"], "_range_start");
  EXPECT_EQ(value["fields"][2]["name"], "io.debezium.connector.cassandra.Source");
}

TEST(CassandraConfig, ReadsTheSchemaBlockAndTransformsAndRefusesSchemasWithTransforms) {
  rm::testing::TempDir tmp;
  std::filesystem::create_directories(tmp / "raw");
  const std::string head = "cassandra:\n  cdc_raw_dir: " + (tmp / "raw").string() +
                           "\n  state_dir: " + (tmp / "state").string() +
                           "\n  topic_prefix: cass\n  tables:\n    cql: \"CREATE TABLE "
                           "shop.orders (id int PRIMARY KEY, v text) WITH ID = " +
                           kId + " AND cdc = true\"\n";
  const std::string tail = "kafka: {bootstrap_servers: 'localhost:9092'}\n";
  auto cfg = ParseCassandraCdcConfig(head +
                                         "  schema: {envelope: json_with_schema, history: true, "
                                         "accept_poll_ms: 50}\n" +
                                         tail,
                                     "c.yaml");
  EXPECT_EQ(cfg.capture.schema.envelope, EnvelopeFormat::kJsonWithSchema);
  EXPECT_TRUE(cfg.capture.schema.history);
  EXPECT_EQ(cfg.capture.schema.accept_poll.count(), 50);
  EXPECT_EQ(cfg.capture.HistoryTopic(), "cass.schema-history");

  auto with = ParseCassandraCdcConfig(
      head +
          "  transforms:\n    - {name: tenant, type: InsertField, static.field: t, "
          "static.value: acme, tables: [shop.orders]}\n" +
          tail,
      "c.yaml");
  ASSERT_EQ(with.capture.transforms.steps.size(), 1u);

  try {
    ParseCassandraCdcConfig(head +
                                "  schema: {envelope: json_with_schema}\n  transforms:\n    - "
                                "{name: x, type: Filter, predicate: {op: [d]}}\n    - "
                                "{name: y, type: Filter, predicate: {op: [d]}, tables: "
                                "[shop.other]}\n" +
                                tail,
                            "c.yaml");
    FAIL() << "accepted";
  } catch (const common::ConfigError& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("cassandra.schema.envelope: json_with_schema cannot be combined"),
              std::string::npos)
        << what;
    EXPECT_NE(what.find("shop.other"), std::string::npos) << what;
  }
}

}  // namespace
}  // namespace rm::cdc::cassandra

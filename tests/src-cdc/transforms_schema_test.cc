// The Connect schemas of transformed events (envelope json_with_schema): each transform maps
// the schema as its Kafka Connect SMT does, and through the pipeline the schema written with an
// event always describes that event's payload (field names in order, types, optionality).
#include <gtest/gtest.h>
#include <prometheus/registry.h>
#include <yaml-cpp/yaml.h>

#include "src-cdc/connect_envelope.h"
#include "src-cdc/transforms/builtin.h"
#include "src-cdc/transforms/config.h"
#include "src-cdc/transforms/pipeline.h"
#include "tests/src-cdc/connect_schema_support.h"
#include "tests/support/cdc_events.h"

namespace rm::cdc::transforms {
namespace {

using rm::cdc::test::Misfit;

ColumnShape Column(std::string name, Json connect, bool optional, bool key = false) {
  ColumnShape c;
  c.name = std::move(name);
  c.connect = std::move(connect);
  c.optional = optional;
  c.key = key;
  return c;
}

// public.orders(id int PRIMARY KEY, customer text, amount numeric, paid timestamptz)
// One instance, as the capture shares one per table version.
std::shared_ptr<const ConnectSchemas> Captured() {
  static const std::shared_ptr<const ConnectSchemas> schemas = [] {
    TableShape shape;
    shape.columns = {Column("id", Json{{"type", "int32"}, {"optional", false}}, false, true),
                     Column("customer", Json{{"type", "string"}, {"optional", true}}, true),
                     Column("amount", Json{{"type", "string"}, {"optional", true}}, true),
                     Column("paid",
                            Json{{"type", "string"},
                                 {"optional", true},
                                 {"name", "io.debezium.time.ZonedTimestamp"},
                                 {"version", 1}},
                            true)};
    return BuildConnectSchemas("pg1.public.orders", shape, 3, PostgresSourceSchema());
  }();
  return schemas;
}

ChangeEvent Event(Operation op, std::optional<Json> before, std::optional<Json> after) {
  ChangeEvent e = rm::testing::PostgresOrdersEvent(op, std::move(before), std::move(after));
  e.schemas = Captured();
  return e;
}

Json OrderRow(Json customer = "acme") {
  Json j = Json::object();
  j["id"] = 7;
  j["customer"] = std::move(customer);
  j["amount"] = "12";
  j["paid"] = "2024-01-01T00:00:00Z";
  return j;
}
ChangeEvent Insert() { return Event(Operation::kCreate, std::nullopt, OrderRow()); }
ChangeEvent Delete() { return Event(Operation::kDelete, OrderRow(), std::nullopt); }

// The event as the serializer writes it fits its schemas (value and key).
void ExpectFits(const ChangeEvent& e) {
  auto recs = EncodeRecords(e, true);
  ASSERT_FALSE(recs.empty());
  if (recs.front().value) {
    Json v = Json::parse(*recs.front().value);
    ASSERT_TRUE(v.contains("schema")) << v.dump();
    EXPECT_EQ(Misfit(v["schema"], v["payload"]), "") << v.dump();
  }
  if (recs.front().key && e.schemas && !e.schemas->key.empty()) {
    Json k = Json::parse(*recs.front().key);
    EXPECT_EQ(Misfit(k["schema"], k["payload"]), "") << k.dump();
  }
}

RecordSchema Parse(const ConnectSchemas& s) {
  RecordSchema r;
  if (!s.key.empty()) r.key = Json::parse(s.key);
  r.value = Json::parse(s.value);
  return r;
}

std::vector<std::string> FieldNames(const Json& struct_schema) {
  std::vector<std::string> names;
  for (const auto& f : struct_schema["fields"]) names.push_back(f["field"]);
  return names;
}

// Maps the captured schema with `t`, applies `t` to `e` and checks the two agree.
RecordSchema MapAndApply(const Transform& t, ChangeEvent& e) {
  RecordSchema s = Parse(*e.schemas);
  EXPECT_TRUE(t.MapSchema(s).ok());
  EXPECT_EQ(*t.Apply(e), Verdict::kKeep);
  auto mapped = std::make_shared<ConnectSchemas>();
  if (!s.key.is_null()) mapped->key = s.key.dump();
  mapped->value = s.value.dump();
  e.schemas = mapped;
  ExpectFits(e);
  return s;
}

TEST(TransformSchemas, TheCapturedEnvelopeFitsItsSchema) {
  ExpectFits(Insert());
  ExpectFits(Delete());
}

TEST(TransformSchemas, ExtractNewRecordStateYieldsTheRowSchemaWithOpAndDeleted) {
  ExtractNewRecordState t(
      {.deletes = DeleteHandling::kRewrite, .add_fields = {"op", "lsn", "table"}});
  ChangeEvent e = Insert();
  RecordSchema s = MapAndApply(t, e);
  EXPECT_TRUE(s.flattened);
  EXPECT_EQ(s.value["name"], "pg1.public.orders.Value");
  EXPECT_EQ(s.value["version"], 3);
  EXPECT_EQ(FieldNames(s.value),
            (std::vector<std::string>{"id", "customer", "amount", "paid", "__deleted", "__op",
                                      "__lsn", "__table"}));
  EXPECT_EQ(s.value["fields"][4].dump(),
            R"({"type":"string","optional":true,"field":"__deleted"})");
  EXPECT_EQ(s.value["fields"][6]["type"], "int64");
  EXPECT_EQ(s.value["fields"][6]["optional"], true);
  EXPECT_EQ(s.value["fields"][3]["name"], "io.debezium.time.ZonedTimestamp");
  ChangeEvent d = Delete();
  MapAndApply(t, d);
  EXPECT_EQ((*d.after)["__deleted"], "true");
}

TEST(TransformSchemas, ReplaceFieldDropsAndRenamesInBothImagesKeepingTypesAndOrder) {
  ReplaceField t({.exclude = {"amount"}, .renames = {{"customer", "client"}}});
  ChangeEvent e = Event(Operation::kUpdate, OrderRow("old"), OrderRow());
  RecordSchema s = MapAndApply(t, e);
  for (const char* image : {"before", "after"}) {
    const Json* row = SchemaField(s.value, image);
    ASSERT_NE(row, nullptr);
    EXPECT_EQ(FieldNames(*row), (std::vector<std::string>{"id", "client", "paid"})) << image;
    EXPECT_EQ((*row)["fields"][2]["name"], "io.debezium.time.ZonedTimestamp");
  }
  ReplaceField include({.include = {"id", "paid"}});
  ChangeEvent i = Insert();
  RecordSchema si = MapAndApply(include, i);
  EXPECT_EQ(FieldNames(*SchemaField(si.value, "after")), (std::vector<std::string>{"id", "paid"}));
}

TEST(TransformSchemas, InsertFieldAddsOptionalFieldsOfTheirTypes) {
  InsertField t({.static_field = "tenant",
                 .static_value = "acme",
                 .topic_field = "topic",
                 .timestamp_field = "committed",
                 .offset_field = "position"});
  ChangeEvent e = Insert();
  RecordSchema s = MapAndApply(t, e);
  const Json& after = *SchemaField(s.value, "after");
  EXPECT_EQ(FieldNames(after),
            (std::vector<std::string>{"id", "customer", "amount", "paid", "tenant", "topic",
                                      "committed", "position"}));
  EXPECT_EQ(after["fields"][4].dump(), R"({"type":"string","optional":true,"field":"tenant"})");
  EXPECT_EQ(after["fields"][6].dump(),
            R"({"type":"int64","name":"org.apache.kafka.connect.data.Timestamp","version":1,)"
            R"("optional":true,"field":"committed"})");
  EXPECT_EQ(after["fields"][7].dump(), R"({"type":"int64","optional":true,"field":"position"})");
  // Replacing an existing field keeps its place, as the payload does.
  InsertField over({.static_field = "customer", .static_value = "x"});
  ChangeEvent o = Insert();
  RecordSchema so = MapAndApply(over, o);
  EXPECT_EQ(FieldNames(*SchemaField(so.value, "after")),
            (std::vector<std::string>{"id", "customer", "amount", "paid"}));
}

TEST(TransformSchemas, CastChangesTheTypeKeepsOptionalityAndDropsTheLogicalName) {
  Cast t({.spec = {{"amount", CastType::kInt32},
                   {"id", CastType::kFloat64},
                   {"paid", CastType::kString},
                   {"customer", CastType::kString}}});
  ChangeEvent e = Event(Operation::kUpdate, OrderRow(), OrderRow());
  RecordSchema s = MapAndApply(t, e);
  const Json& after = *SchemaField(s.value, "after");
  EXPECT_EQ(after["fields"][2].dump(), R"({"type":"int32","optional":true,"field":"amount"})");
  EXPECT_EQ(after["fields"][0].dump(), R"({"type":"double","optional":false,"field":"id"})");
  EXPECT_EQ(after["fields"][3].dump(), R"({"type":"string","optional":true,"field":"paid"})");
  Cast f32({.spec = {{"amount", CastType::kFloat32}}});
  ChangeEvent g = Insert();
  RecordSchema sf = MapAndApply(f32, g);
  EXPECT_EQ((*SchemaField(*SchemaField(sf.value, "after"), "amount"))["type"], "float");
}

TEST(TransformSchemas, ValueToKeyMakesAnUnnamedKeyStructOfTheFields) {
  ExtractNewRecordState unwrap({});
  InsertField tenant({.static_field = "tenant", .static_value = "acme"});
  ValueToKey t({.fields = {"tenant", "id"}});
  ChangeEvent e = Insert();
  RecordSchema s = Parse(*e.schemas);
  ASSERT_TRUE(unwrap.MapSchema(s).ok());
  ASSERT_TRUE(tenant.MapSchema(s).ok());
  ASSERT_TRUE(t.MapSchema(s).ok());
  EXPECT_EQ(s.key.dump(),
            R"({"type":"struct","fields":[{"type":"string","optional":true,"field":"tenant"},)"
            R"({"type":"int32","optional":false,"field":"id"}],"optional":false})");
  // Before the unwrap the fields come from the `after` struct.
  ChangeEvent d = Delete();
  RecordSchema k = MapAndApply(ValueToKey({.fields = {"customer", "id"}}), d);
  EXPECT_EQ(FieldNames(k.key), (std::vector<std::string>{"customer", "id"}));
  RecordSchema missing = Parse(*Insert().schemas);
  auto st = ValueToKey({.fields = {"nope"}}).MapSchema(missing);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().message, "key field 'nope' is not in the row's schema");
}

// ---- Through the pipeline

TransformsConfig Load(const std::string& yaml) {
  std::vector<std::string> problems;
  YAML::Node root = YAML::Load(yaml);
  TransformsConfig cfg =
      ReadTransforms(root["postgres"], "postgres", "cdc.yaml", {"public.orders"}, problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  return cfg;
}

TEST(TransformSchemas, PipelineSchemasDescribeEachEventAfterTheStepsThatAppliedToIt) {
  TransformsConfig cfg = Load(R"y(
postgres:
  transforms:
    - {name: unwrap, type: ExtractNewRecordState, delete.tombstone.handling.mode: rewrite,
       add.fields: op}
    - {name: pii, type: ReplaceField, exclude: [customer], predicate: {op: [u]}}
    - {name: amounts, type: Cast, spec: "amount:int64"}
    - {name: tenant, type: InsertField, static.field: tenant, static.value: acme}
    - {name: key, type: ValueToKey, fields: [tenant, id]}
    - {name: route, type: RegexRouter, regex: "pg1\\.public\\.(.*)", replacement: "acme.$1"}
)y");
  prometheus::Registry registry;
  TransformPipeline pipeline(cfg, {{"public.orders", "pg1.public.orders"}}, registry);

  ChangeEvent insert = Insert();
  ASSERT_EQ(*pipeline.Apply(insert), TransformPipeline::Outcome::kEmit);
  ExpectFits(insert);
  RecordSchema si = Parse(*insert.schemas);
  EXPECT_EQ(FieldNames(si.value), (std::vector<std::string>{"id", "customer", "amount", "paid",
                                                            "__deleted", "__op", "tenant"}));
  EXPECT_EQ(si.value["fields"][2]["type"], "int64");
  EXPECT_EQ(FieldNames(si.key), (std::vector<std::string>{"tenant", "id"}));
  EXPECT_EQ(insert.topic, "acme.orders");

  // The predicate applies the ReplaceField to updates only: their schema has no customer.
  ChangeEvent update = Event(Operation::kUpdate, OrderRow("old"), OrderRow());
  ASSERT_EQ(*pipeline.Apply(update), TransformPipeline::Outcome::kEmit);
  ExpectFits(update);
  EXPECT_EQ(FieldNames(Parse(*update.schemas).value),
            (std::vector<std::string>{"id", "amount", "paid", "__deleted", "__op", "tenant"}));

  ChangeEvent del = Delete();
  ASSERT_EQ(*pipeline.Apply(del), TransformPipeline::Outcome::kEmit);
  ExpectFits(del);

  // One mapping per (table version, steps applied): the next insert shares the schemas.
  ChangeEvent again = Insert();
  ASSERT_EQ(*pipeline.Apply(again), TransformPipeline::Outcome::kEmit);
  EXPECT_EQ(again.schemas.get(), insert.schemas.get());
  EXPECT_EQ(del.schemas.get(), insert.schemas.get());
  EXPECT_NE(update.schemas.get(), insert.schemas.get());
}

// A payload field the captured schema lacks (here: added to the event by hand) cannot become
// a key with a schema: that step fails, under the error policy, and never writes a schema that
// does not describe its record.
TEST(TransformSchemas, AStepThatCannotMapTheSchemaFailsUnderTheErrorPolicy) {
  prometheus::Registry registry;
  TransformsConfig stop = Load(R"y(
postgres:
  transforms:
    - {name: extra-key, type: ValueToKey, fields: [extra]}
)y");
  TransformPipeline stopping(stop, {{"public.orders", "pg1.public.orders"}}, registry);
  ChangeEvent e = Insert();
  (*e.after)["extra"] = 1;
  auto failed = stopping.Apply(e);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("transform 'extra-key' (ValueToKey) failed on "
                                        "public.orders at lsn 0/16B3748: schema: key field "
                                        "'extra' is not in the row's schema"),
            std::string::npos)
      << failed.error().message;

  TransformsConfig dlq = Load(R"y(
postgres:
  transforms:
    - {name: extra-key, type: ValueToKey, fields: [extra]}
  errors.tolerance: all
  errors.deadletterqueue.topic.name: pg1.dlq
)y");
  TransformPipeline dead_letter(dlq, {{"public.orders", "pg1.public.orders"}}, registry);
  ChangeEvent odd = Insert();
  (*odd.after)["extra"] = 1;
  const ConnectSchemas* captured = odd.schemas.get();
  ASSERT_EQ(*dead_letter.Apply(odd), TransformPipeline::Outcome::kDeadLetter);
  EXPECT_EQ(odd.topic, "pg1.dlq");
  EXPECT_EQ(odd.schemas.get(), captured);  // untransformed, with its captured schemas
  EXPECT_EQ(dead_letter.CountsFor("public.orders", "extra-key").failures, 1u);
}

}  // namespace
}  // namespace rm::cdc::transforms

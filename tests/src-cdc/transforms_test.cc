// Each built-in transform on its own, chains of them through TransformPipeline, the error policy
// (stop or dead-letter), and the records the serializer writes for transformed events.
#include <fmt/ranges.h>
#include <gtest/gtest.h>
#include <prometheus/registry.h>

#include "src-cdc/transforms/builtin.h"
#include "src-cdc/transforms/config.h"
#include "src-cdc/transforms/pipeline.h"
#include "tests/support/cdc_events.h"

namespace rm::cdc::transforms {
namespace {

using rm::testing::PostgresOrdersEvent;

Json Row(std::initializer_list<std::pair<const std::string, Json>> fields) {
  Json j = Json::object();
  for (const auto& [k, v] : fields) j[k] = v;
  return j;
}

ChangeEvent Insert() {
  return PostgresOrdersEvent(
      Operation::kCreate, std::nullopt,
      Row({{"id", 7}, {"customer", "acme"}, {"amount", "12"}, {"note", "x"}}));
}
ChangeEvent Delete() {
  return PostgresOrdersEvent(
      Operation::kDelete,
      Row({{"id", 7}, {"customer", nullptr}, {"amount", nullptr}, {"note", nullptr}}),
      std::nullopt);
}

// The value and key the serializer writes (first record), and how many records.
struct Written {
  std::optional<Json> key;
  std::optional<Json> value;
  size_t records = 0;
  std::string topic;
};
Written Write(const ChangeEvent& e) {
  auto recs = EncodeRecords(e, true);
  Written w;
  w.records = recs.size();
  w.topic = recs.front().topic;
  if (recs.front().key) w.key = Json::parse(*recs.front().key);
  if (recs.front().value) w.value = Json::parse(*recs.front().value);
  return w;
}

// ---- ExtractNewRecordState

TEST(ExtractNewRecordState, UnwrapsAnInsertToItsRowWithMetadataFields) {
  ExtractNewRecordState t({.add_fields = {"op", "table", "lsn", "source.ts_ms", "ts_ms"}});
  ChangeEvent e = Insert();
  ASSERT_EQ(*t.Apply(e), Verdict::kKeep);
  Written w = Write(e);
  EXPECT_EQ(w.records, 1u);
  EXPECT_EQ(w.value->dump(),
            R"({"id":7,"customer":"acme","amount":"12","note":"x","__op":"c","__table":"orders",)"
            R"("__lsn":23803720,"__source_ts_ms":1700000000000,"__ts_ms":1700000000123})");
  EXPECT_EQ(w.key->dump(), R"({"id":7})");
}

TEST(ExtractNewRecordState, TombstoneModeTurnsADeleteIntoOneTombstone) {
  ExtractNewRecordState t({});
  ChangeEvent e = Delete();
  ASSERT_EQ(*t.Apply(e), Verdict::kKeep);
  auto recs = EncodeRecords(e, true);
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_FALSE(recs[0].value.has_value());
  EXPECT_EQ(*recs[0].key, R"({"id":7})");
}

TEST(ExtractNewRecordState, DropModeDropsDeletesAndTruncates) {
  ExtractNewRecordState t({.deletes = DeleteHandling::kDrop});
  ChangeEvent d = Delete();
  EXPECT_EQ(*t.Apply(d), Verdict::kDrop);
  ChangeEvent tr = PostgresOrdersEvent(Operation::kTruncate, std::nullopt, std::nullopt);
  EXPECT_EQ(*t.Apply(tr), Verdict::kDrop);
  ChangeEvent i = Insert();
  EXPECT_EQ(*t.Apply(i), Verdict::kKeep);
}

TEST(ExtractNewRecordState, RewriteMarksDeletesAndOtherEventsWithDeleted) {
  ExtractNewRecordState t({.deletes = DeleteHandling::kRewrite, .add_fields = {"op"}});
  ChangeEvent d = Delete();
  ASSERT_EQ(*t.Apply(d), Verdict::kKeep);
  Written w = Write(d);
  EXPECT_EQ(w.records, 1u) << "rewrite drops the tombstone";
  EXPECT_EQ((*w.value)["__deleted"], "true");
  EXPECT_EQ((*w.value)["__op"], "d");
  EXPECT_EQ((*w.value)["id"], 7);
  ChangeEvent i = Insert();
  ASSERT_EQ(*t.Apply(i), Verdict::kKeep);
  EXPECT_EQ((*Write(i).value)["__deleted"], "false");
}

TEST(ExtractNewRecordState, RewriteWithTombstoneKeepsTheTombstone) {
  ExtractNewRecordState t({.deletes = DeleteHandling::kRewriteWithTombstone});
  ChangeEvent d = Delete();
  ASSERT_EQ(*t.Apply(d), Verdict::kKeep);
  auto recs = EncodeRecords(d, true);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_TRUE(recs[0].value.has_value());
  EXPECT_FALSE(recs[1].value.has_value());
}

TEST(ExtractNewRecordState, LegacyNoneWritesANullValueAndKeepsTheTombstone) {
  ExtractNewRecordState t({.deletes = DeleteHandling::kNullValue});
  ChangeEvent d = Delete();
  ASSERT_EQ(*t.Apply(d), Verdict::kKeep);
  auto recs = EncodeRecords(d, true);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_FALSE(recs[0].value.has_value());
  EXPECT_FALSE(recs[1].value.has_value());
}

TEST(ExtractNewRecordState, RouteByFieldNamesTheTopicAndFailsWhenTheFieldIsMissing) {
  ExtractNewRecordState t({.route_by_field = "customer"});
  ChangeEvent i = Insert();
  ASSERT_EQ(*t.Apply(i), Verdict::kKeep);
  EXPECT_EQ(i.topic, "acme");
  ExtractNewRecordState missing({.route_by_field = "region"});
  ChangeEvent j = Insert();
  auto r = missing.Apply(j);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("region"), std::string::npos);
}

// ---- ReplaceField

TEST(ReplaceField, ExcludesAndRenamesInBothEnvelopeImagesKeepingTheOrder) {
  ReplaceField t({.exclude = {"note"}, .renames = {{"customer", "tenant"}}});
  ChangeEvent e =
      PostgresOrdersEvent(Operation::kUpdate, Row({{"id", 7}, {"customer", "a"}, {"note", "x"}}),
                          Row({{"id", 7}, {"customer", "b"}, {"note", "y"}}));
  ASSERT_EQ(*t.Apply(e), Verdict::kKeep);
  EXPECT_EQ(e.before->dump(), R"({"id":7,"tenant":"a"})");
  EXPECT_EQ(e.after->dump(), R"({"id":7,"tenant":"b"})");
}

TEST(ReplaceField, IncludeKeepsOnlyTheListedFields) {
  ReplaceField t({.include = {"id", "amount"}});
  ChangeEvent e = Insert();
  ASSERT_EQ(*t.Apply(e), Verdict::kKeep);
  EXPECT_EQ(e.after->dump(), R"({"id":7,"amount":"12"})");
}

// ---- InsertField

TEST(InsertField, AddsAStaticTenantTheTopicTheCommitTimeAndThePosition) {
  InsertField t({.static_field = "tenant_id",
                 .static_value = "t-42",
                 .topic_field = "topic",
                 .timestamp_field = "committed_at",
                 .offset_field = "lsn"});
  ChangeEvent e = Insert();
  ASSERT_EQ(*t.Apply(e), Verdict::kKeep);
  EXPECT_EQ((*e.after)["tenant_id"], "t-42");
  EXPECT_EQ((*e.after)["topic"], "pg1.public.orders");
  EXPECT_EQ((*e.after)["committed_at"], 1700000000000);
  EXPECT_EQ((*e.after)["lsn"], 0x16B3748);
  EXPECT_FALSE(e.before.has_value()) << "no image is made up";
}

TEST(InsertField, AfterUnwrapOnlyTheFlatRowIsWritten) {
  ExtractNewRecordState unwrap({.deletes = DeleteHandling::kRewrite});
  InsertField t({.static_field = "region", .static_value = "eu-west"});
  ChangeEvent d = Delete();
  ASSERT_EQ(*unwrap.Apply(d), Verdict::kKeep);
  ASSERT_EQ(*t.Apply(d), Verdict::kKeep);
  EXPECT_EQ((*d.after)["region"], "eu-west");
  EXPECT_FALSE(d.before->contains("region"));
}

// ---- Cast

TEST(Cast, ConvertsEachTypeAndLeavesNullsAlone) {
  Cast t({.spec = {{"amount", CastType::kInt32},
                   {"id", CastType::kString},
                   {"ratio", CastType::kFloat64},
                   {"flag", CastType::kBoolean},
                   {"small", CastType::kInt8},
                   {"gone", CastType::kInt64}}});
  ChangeEvent e = PostgresOrdersEvent(Operation::kCreate, std::nullopt,
                                      Row({{"id", 7},
                                           {"amount", "12"},
                                           {"ratio", "0.25"},
                                           {"flag", "true"},
                                           {"small", 12.9},
                                           {"gone", nullptr}}));
  ASSERT_EQ(*t.Apply(e), Verdict::kKeep);
  EXPECT_EQ(e.after->dump(),
            R"({"id":"7","amount":12,"ratio":0.25,"flag":true,"small":12,"gone":null})");
}

TEST(Cast, AValueThatDoesNotFitIsAnErrorNamingFieldValueAndType) {
  Cast t({.spec = {{"amount", CastType::kInt8}}});
  ChangeEvent e = PostgresOrdersEvent(Operation::kCreate, std::nullopt, Row({{"amount", 300}}));
  auto r = t.Apply(e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "field 'amount': 300 cannot be cast to int8");
  ChangeEvent s = PostgresOrdersEvent(Operation::kCreate, std::nullopt, Row({{"amount", "12abc"}}));
  auto r2 = Cast({.spec = {{"amount", CastType::kInt64}}}).Apply(s);
  ASSERT_FALSE(r2.ok());
  EXPECT_NE(r2.error().message.find("\"12abc\""), std::string::npos);
}

TEST(ParseCastType, KnowsConnectsTypeNames) {
  EXPECT_EQ(ParseCastType("float32"), CastType::kFloat32);
  EXPECT_FALSE(ParseCastType("decimal").has_value());
}

// ---- ValueToKey

TEST(ValueToKey, BuildsACompositeKeyFromTheRowInOrder) {
  ValueToKey t({.fields = {"customer", "id"}});
  ChangeEvent e = Insert();
  ASSERT_EQ(*t.Apply(e), Verdict::kKeep);
  EXPECT_EQ(e.key->dump(), R"({"customer":"acme","id":7})");
}

TEST(ValueToKey, ADeleteReadsItsBeforeImageAndTheTombstoneCarriesTheNewKey) {
  ValueToKey t({.fields = {"id"}});
  ChangeEvent d = Delete();
  d.key = Row({{"other", 1}});
  ASSERT_EQ(*t.Apply(d), Verdict::kKeep);
  auto recs = EncodeRecords(d, true);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(*recs[1].key, R"({"id":7})");
}

TEST(ValueToKey, AMissingFieldIsAnError) {
  ValueToKey t({.fields = {"id", "region"}});
  ChangeEvent e = Insert();
  auto r = t.Apply(e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "key field 'region' is not in the row");
}

// ---- RegexRouter

TEST(RegexRouter, RenamesTopicsThatMatchWhollyAndLeavesOthers) {
  RegexRouter t({std::regex("pg1\\.public\\.(.*)"), "tenant-a.$1"});
  ChangeEvent e = Insert();
  ASSERT_EQ(*t.Apply(e), Verdict::kKeep);
  EXPECT_EQ(e.topic, "tenant-a.orders");
  EXPECT_EQ(t.Route("pg1.public"), "pg1.public");
  EXPECT_EQ(t.Route("xpg1.public.orders"), "xpg1.public.orders");
}

// ---- Predicates and Filter

TEST(Predicate, MatchesOnOpTopicAndFieldTests) {
  Predicate op;
  op.ops = {"d", "t"};
  EXPECT_TRUE(op.Matches(Delete()));
  EXPECT_FALSE(op.Matches(Insert()));

  Predicate topic;
  topic.topic = std::regex("pg1\\.public\\..*");
  EXPECT_TRUE(topic.Matches(Insert()));

  Predicate eq;
  eq.field = "amount";
  eq.test = Predicate::FieldTest::kEquals;
  eq.values = {"12"};
  EXPECT_TRUE(eq.Matches(Insert()));
  Predicate in = eq;
  in.test = Predicate::FieldTest::kIn;
  in.values = {"1", "2"};
  EXPECT_FALSE(in.Matches(Insert()));
  Predicate re;
  re.field = "customer";
  re.test = Predicate::FieldTest::kMatches;
  re.pattern = std::regex("ac.*");
  EXPECT_TRUE(re.Matches(Insert()));
  Predicate null;
  null.field = "customer";
  null.test = Predicate::FieldTest::kIsNull;
  null.is_null = true;
  EXPECT_TRUE(null.Matches(Delete())) << "a delete reads its before image";
  EXPECT_FALSE(null.Matches(Insert()));
}

// ---- Configuration

TransformsConfig Load(const std::string& yaml, std::vector<std::string>& problems) {
  YAML::Node root = YAML::Load(yaml);
  return ReadTransforms(root["postgres"], "postgres", "cdc.yaml", {"public.orders", "public.items"},
                        problems);
}

TEST(TransformsConfig, ReadsAChainWithConnectAndDebeziumNames) {
  std::vector<std::string> problems;
  auto cfg = Load(R"y(
postgres:
  transforms:
    - name: unwrap
      type: io.debezium.transforms.ExtractNewRecordState
      delete.handling.mode: rewrite
      drop.tombstones: false
      add.fields: op,table
    - name: tenant
      type: org.apache.kafka.connect.transforms.InsertField$Value
      tables: [orders]
      static.field: tenant_id
      static.value: acme
    - name: fields
      type: ReplaceField$Value
      exclude: [note]
      renames: "customer:client"
    - name: types
      type: Cast
      spec: {amount: int64}
    - name: key
      type: ValueToKey
      fields: client,id
    - name: route
      type: RegexRouter
      regex: "pg1\\.public\\.(.*)"
      replacement: "acme.$1"
    - name: no-deletes
      type: Filter
      predicate: {op: d}
  errors.tolerance: all
  errors.deadletterqueue.topic.name: pg1.dlq
)y",
                  problems);
  ASSERT_TRUE(problems.empty()) << problems.front();
  ASSERT_EQ(cfg.steps.size(), 7u);
  EXPECT_EQ(cfg.steps[0].type, "ExtractNewRecordState");
  EXPECT_EQ(cfg.steps[1].tables, std::vector<std::string>{"public.orders"});
  EXPECT_EQ(cfg.tolerance, ErrorTolerance::kAll);
  EXPECT_EQ(cfg.dead_letter_topic, "pg1.dlq");
  EXPECT_EQ(cfg.RoutedTopic("public.orders", "pg1.public.orders"), "acme.orders");
}

TEST(TransformsConfig, ProblemsNameFileLineFieldAndTransform) {
  std::vector<std::string> problems;
  Load(R"y(
postgres:
  transforms:
    - name: tenant
      type: InsertField
      static.field: tenant_id
    - name: types
      type: Cast
      spec: "amount:decimal"
    - name: tenant
      type: Filter
    - name: x
      type: ReplaceField$Key
      exclude: a
    - name: y
      type: RegexRouter
      regex: "(unclosed"
      replacement: a
    - name: z
      type: ExtractNewRecordState
      add.headers: op
      tables: [public.nope]
    - name: w
      type: Filter
      predicate: {field: status}
  errors.tolerance: all
)y",
       problems);
  auto has = [&](const std::string& text) {
    for (const auto& p : problems) {
      if (p.find(text) != std::string::npos) return true;
    }
    return false;
  };
  EXPECT_TRUE(
      has("cdc.yaml:4: postgres.transforms[0].static.value (InsertField 'tenant'): "
          "required"));
  EXPECT_TRUE(has("cdc.yaml:9: postgres.transforms[1].spec (Cast 'types'): 'amount:decimal'"));
  EXPECT_TRUE(has("cdc.yaml:10: postgres.transforms[2].name: 'tenant' names two transforms"));
  EXPECT_TRUE(has("postgres.transforms[2].predicate (Filter 'tenant'): required"));
  EXPECT_TRUE(
      has("cdc.yaml:13: postgres.transforms[3].type: unknown transform "
          "'ReplaceField$Key'"));
  EXPECT_TRUE(
      has("cdc.yaml:17: postgres.transforms[4].regex (RegexRouter 'y'): '(unclosed' is "
          "not a valid regular expression"));
  EXPECT_TRUE(
      has("cdc.yaml:21: postgres.transforms[5].add.headers (ExtractNewRecordState 'z'): "
          "not supported"));
  EXPECT_TRUE(
      has("postgres.transforms[5].tables (ExtractNewRecordState 'z'): 'public.nope' is "
          "not a captured table"));
  EXPECT_TRUE(has("postgres.transforms[6].predicate.field (Filter 'w'): needs exactly one of"));
  EXPECT_TRUE(
      has("cdc.yaml:26: postgres.errors.tolerance: all needs "
          "errors.deadletterqueue.topic.name"));
  EXPECT_EQ(problems.size(), 10u) << fmt::format("{}", fmt::join(problems, "\n"));
}

// ---- Chains through the pipeline

struct PipelineFixture {
  PipelineFixture(const std::string& yaml) {
    std::vector<std::string> problems;
    cfg = Load(yaml, problems);
    EXPECT_TRUE(problems.empty()) << problems.front();
    pipeline.emplace(cfg,
                     std::vector<CapturedTable>{{"public.orders", "pg1.public.orders"},
                                                {"public.items", "pg1.public.items"}},
                     registry);
  }
  TransformsConfig cfg;
  prometheus::Registry registry;
  std::optional<TransformPipeline> pipeline;
};

TEST(TransformPipeline, RunsTheChainInOrderOnlyOnTheTablesItNames) {
  PipelineFixture f(R"y(
postgres:
  transforms:
    - {name: unwrap, type: ExtractNewRecordState, add.fields: op}
    - {name: tenant, type: InsertField, static.field: tenant, static.value: acme,
       tables: [orders]}
    - {name: drop-note, type: ReplaceField, exclude: [note, __op]}
    - {name: route, type: RegexRouter, regex: "pg1\\.public\\.(.*)", replacement: "acme.$1"}
)y");
  ChangeEvent e = Insert();
  ASSERT_EQ(*f.pipeline->Apply(e), TransformPipeline::Outcome::kEmit);
  Written w = Write(e);
  EXPECT_EQ(w.topic, "acme.orders");
  EXPECT_EQ(w.value->dump(), R"({"id":7,"customer":"acme","amount":"12","tenant":"acme"})");

  ChangeEvent item = Insert();
  item.topic = "pg1.public.items";
  item.source.fields["table"] = "items";
  ASSERT_EQ(*f.pipeline->Apply(item), TransformPipeline::Outcome::kEmit);
  EXPECT_FALSE(item.after->contains("tenant"));
  EXPECT_EQ(item.topic, "acme.items");
}

TEST(TransformPipeline, AFilterDropsAndCountsWhatItsPredicateMatches) {
  PipelineFixture f(R"y(
postgres:
  transforms:
    - {name: only-acme, type: Filter, predicate: {field: customer, equals: acme}, negate: true}
    - {name: no-truncates, type: Filter, predicate: {op: t}}
)y");
  ChangeEvent acme = Insert();
  EXPECT_EQ(*f.pipeline->Apply(acme), TransformPipeline::Outcome::kEmit);
  ChangeEvent other = Insert();
  (*other.after)["customer"] = "globex";
  EXPECT_EQ(*f.pipeline->Apply(other), TransformPipeline::Outcome::kFiltered);
  ChangeEvent truncate = PostgresOrdersEvent(Operation::kTruncate, std::nullopt, std::nullopt);
  EXPECT_EQ(*f.pipeline->Apply(truncate), TransformPipeline::Outcome::kFiltered);
  EXPECT_EQ(f.pipeline->CountsFor("public.orders", "only-acme").filtered, 2u)
      << "the truncate has no customer either";
  EXPECT_EQ(f.pipeline->CountsFor("public.orders", "no-truncates").filtered, 0u);
}

TEST(TransformPipeline, AFailureStopsWithTableTransformAndPositionUnderToleranceNone) {
  PipelineFixture f(R"y(
postgres:
  transforms:
    - {name: amounts, type: Cast, spec: "amount:int32"}
)y");
  ChangeEvent e = Insert();
  (*e.after)["amount"] = "twelve";
  auto r = f.pipeline->Apply(e);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "transform.failed");
  EXPECT_NE(r.error().message.find("transform 'amounts' (Cast) failed on public.orders at lsn "
                                   "0/16B3748: field 'amount': \"twelve\" cannot be cast to int32"),
            std::string::npos)
      << r.error().message;
  EXPECT_EQ(f.pipeline->CountsFor("public.orders", "amounts").failures, 1u);
}

TEST(TransformPipeline, AFailureUnderToleranceAllSendsTheUntransformedEventToTheDeadLetterTopic) {
  PipelineFixture f(R"y(
postgres:
  transforms:
    - {name: unwrap, type: ExtractNewRecordState}
    - {name: amounts, type: Cast, spec: "amount:int32"}
  errors.tolerance: all
  errors.deadletterqueue.topic.name: pg1.dlq
)y");
  ChangeEvent e = Insert();
  (*e.after)["amount"] = "twelve";
  ASSERT_EQ(*f.pipeline->Apply(e), TransformPipeline::Outcome::kDeadLetter);
  Written w = Write(e);
  EXPECT_EQ(w.topic, "pg1.dlq");
  EXPECT_EQ((*w.value)["after"]["amount"], "twelve") << "the envelope as captured";
  EXPECT_EQ((*w.value)["op"], "c");
  ChangeEvent d = Delete();
  (*d.before)["amount"] = "x";
  ASSERT_EQ(*f.pipeline->Apply(d), TransformPipeline::Outcome::kEmit)
      << "the delete became a tombstone: nothing to cast";
  auto counts = f.pipeline->CountsFor("public.orders", "amounts");
  EXPECT_EQ(counts.failures, 1u);
  EXPECT_EQ(counts.dead_lettered, 1u);
}

TEST(TransformPipeline, EventsOfTablesWithoutTransformsPassUnchanged) {
  PipelineFixture f(R"y(
postgres:
  transforms:
    - {name: unwrap, type: ExtractNewRecordState, tables: [public.items]}
)y");
  ChangeEvent e = Insert();
  const std::string before = EncodeValue(e);
  ASSERT_EQ(*f.pipeline->Apply(e), TransformPipeline::Outcome::kEmit);
  EXPECT_FALSE(e.flattened);
  EXPECT_EQ(EncodeValue(e), before);
}

}  // namespace
}  // namespace rm::cdc::transforms

// Transforms in the Postgres capture, into Kafka (the testbed): the slot's position is
// confirmed only after Kafka acknowledged the transformed records; an event a Filter drops is
// acknowledged (filtered on purpose is not lost) and counted; an event a transform fails on
// stops the capture before its position, or goes to the dead-letter topic when configured.
#include <gtest/gtest.h>

#include <mutex>
#include <regex>

#include "src-cdc/kafka_event_sink.h"
#include "src-cdc/transforms/config.h"
#include "tests/src-cdc/connect_schema_support.h"
#include "tests/src-cdc/postgres_test_support.h"
#include "tests/support/kafka_helpers.h"
#include "tests/support/testbed_fixture.h"

namespace rm::cdc::postgres::test {
namespace {

using Ack = std::function<void(common::Status)>;

// The production Kafka sink with its delivery reports held back on demand: while held, Kafka
// has stored the records but the capture has not heard so.
class GatedKafkaSink : public EventSink {
 public:
  explicit GatedKafkaSink(const std::string& bootstrap)
      : kafka_(KafkaEventSinkOptions{{{"bootstrap.servers", bootstrap}, {"linger.ms", "2"}}}) {}

  common::Status Produce(const std::string& topic, std::optional<std::string> key,
                         std::optional<std::string> value, Ack on_ack) override {
    return kafka_.Produce(topic, std::move(key), std::move(value),
                          [this, on_ack = std::move(on_ack)](common::Status s) {
                            std::unique_lock lock(mu_);
                            ++reported_;
                            if (hold_) {
                              held_.emplace_back(on_ack, s);
                              return;
                            }
                            lock.unlock();
                            on_ack(s);
                          });
  }
  common::Status Flush(std::chrono::milliseconds timeout) override { return kafka_.Flush(timeout); }

  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  void Release() {
    std::vector<std::pair<Ack, common::Status>> held;
    {
      std::lock_guard lock(mu_);
      hold_ = false;
      held.swap(held_);
    }
    for (auto& [ack, s] : held) ack(s);
  }
  // Delivery reports Kafka sent so far (held or passed on).
  size_t reported() const {
    std::lock_guard lock(mu_);
    return reported_;
  }

 private:
  mutable std::mutex mu_;
  bool hold_ = false;
  size_t reported_ = 0;
  std::vector<std::pair<Ack, common::Status>> held_;
  KafkaEventSink kafka_;  // last: destroyed first, its late acks still find the members above
};

transforms::TransformsConfig Transforms(const std::string& yaml) {
  std::vector<std::string> problems;
  auto cfg = transforms::ReadTransforms(YAML::Load(yaml)["postgres"], "postgres", "test.yaml",
                                        {"public.t"}, problems);
  EXPECT_TRUE(problems.empty()) << problems.front();
  return cfg;
}

uint64_t SlotLsn(const rm::testing::PostgresServer& pg) {
  auto lsn = Lsn::Parse(SlotConfirmedLsn(pg));
  return lsn ? lsn->value() : 0;
}

std::vector<Json> Values(const std::vector<rm::testing::Record>& records) {
  std::vector<Json> out;
  for (const auto& r : records) out.push_back(r.value ? Json::parse(*r.value) : Json(nullptr));
  return out;
}

TEST(PostgresTransforms, TransformedRecordsAreInKafkaBeforeTheSlotAdvancesAndFilteredOnesCount) {
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  tb.CreateTopic("us-east", "acme.t", 1);
  rm::testing::PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY, customer text, amount text)");
  auto cfg = TestConfig(pg, {"t"});
  cfg.capture.snapshot_mode = SnapshotMode::kNever;
  cfg.capture.transforms = Transforms(R"y(
postgres:
  transforms:
    - {name: no-test-rows, type: Filter, predicate: {field: customer, equals: test}}
    - {name: unwrap, type: ExtractNewRecordState, delete.tombstone.handling.mode: rewrite,
       add.fields: "op,lsn"}
    - {name: tenant, type: InsertField$Value, static.field: tenant_id, static.value: acme}
    - {name: amounts, type: Cast, spec: "amount:int64"}
    - {name: route, type: RegexRouter, regex: "pg\\.public\\.(.*)", replacement: "acme.$1"}
)y");
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());

  GatedKafkaSink sink(tb.Bootstrap("us-east"));
  sink.Hold();
  auto runner = std::make_unique<CaptureRunner>(cfg.capture, ParamsFor(pg), sink);
  ASSERT_TRUE(WaitFor([&] { return runner->probe().streaming(); }));
  pg.Exec("INSERT INTO t VALUES (1, 'a', '10'), (2, 'b', '20')");
  ASSERT_TRUE(WaitFor([&] { return sink.reported() >= 2; }));

  // Kafka has both transformed records, but their acks are held: give the capture many status
  // intervals (50 ms) in which it must not confirm them.
  auto stored = rm::testing::ConsumeWithOurClient(tb.Bootstrap("us-east"), "acme.t", 2);
  ASSERT_EQ(stored.size(), 2u);
  auto values = Values(stored);
  EXPECT_EQ(values[0].dump(),
            R"({"id":1,"customer":"a","amount":10,"__deleted":"false","__op":"c",)"
            R"("__lsn":)" +
                std::to_string(values[0]["__lsn"].get<uint64_t>()) + R"(,"tenant_id":"acme"})");
  EXPECT_EQ(*stored[0].key, R"({"id":1})");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  const uint64_t first_lsn = values[0]["__lsn"].get<uint64_t>();
  EXPECT_LE(SlotLsn(pg), first_lsn) << "confirmed past records whose acks were held";

  sink.Release();
  ASSERT_TRUE(WaitCaughtUp(pg));
  EXPECT_GT(SlotLsn(pg), first_lsn);

  // A transaction whose only event is filtered out is still confirmed, and counted.
  pg.Exec("INSERT INTO t VALUES (3, 'test', '0')");
  ASSERT_TRUE(WaitCaughtUp(pg));
  pg.Exec("DELETE FROM t WHERE id = 2");
  ASSERT_TRUE(WaitCaughtUp(pg));
  ASSERT_TRUE(runner->Stop().ok());
  const auto* pipeline = runner->capture().transforms();
  ASSERT_NE(pipeline, nullptr);
  EXPECT_EQ(pipeline->CountsFor("public.t", "no-test-rows").filtered, 1u);
  EXPECT_EQ(pipeline->CountsFor("public.t", "unwrap").failures, 0u);

  stored = rm::testing::ConsumeWithOurClient(tb.Bootstrap("us-east"), "acme.t", 3);
  ASSERT_EQ(stored.size(), 3u);
  values = Values(stored);
  for (const Json& v : values) EXPECT_NE(v["customer"], "test");
  EXPECT_EQ(values[2]["id"], 2);
  EXPECT_EQ(values[2]["__deleted"], "true");
  EXPECT_EQ(values[2]["__op"], "d");
}

// envelope json_with_schema with a chain: every record in Kafka carries the schema of the
// transformed record (row schema after the unwrap, fields dropped/renamed/added/cast, the
// ValueToKey key schema), and the payload fits it.
TEST(PostgresTransforms, JsonWithSchemaRecordsCarryTheSchemaOfTheTransformedRecord) {
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  tb.CreateTopic("us-east", "acme.t", 1);
  rm::testing::PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY, customer text, amount text, secret text)");
  auto cfg = TestConfig(pg, {"t"});
  cfg.capture.snapshot_mode = SnapshotMode::kNever;
  cfg.capture.tombstones_on_delete = false;
  cfg.capture.schema.envelope = EnvelopeFormat::kJsonWithSchema;
  cfg.capture.transforms = Transforms(R"y(
postgres:
  transforms:
    - {name: unwrap, type: ExtractNewRecordState, delete.tombstone.handling.mode: rewrite,
       add.fields: "op,lsn"}
    - {name: pii, type: ReplaceField, exclude: [secret], renames: "customer:client"}
    - {name: amounts, type: Cast, spec: "amount:int64"}
    - {name: tenant, type: InsertField$Value, static.field: tenant_id, static.value: acme}
    - {name: key, type: ValueToKey, fields: [tenant_id, id]}
    - {name: route, type: RegexRouter, regex: "pg\\.public\\.(.*)", replacement: "acme.$1"}
)y");
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());

  GatedKafkaSink sink(tb.Bootstrap("us-east"));
  auto runner = std::make_unique<CaptureRunner>(cfg.capture, ParamsFor(pg), sink);
  ASSERT_TRUE(WaitFor([&] { return runner->probe().streaming(); }));
  pg.Exec("INSERT INTO t VALUES (1, 'a', '10', 's')");
  pg.Exec("UPDATE t SET amount = '11' WHERE id = 1");
  pg.Exec("DELETE FROM t WHERE id = 1");
  ASSERT_TRUE(WaitCaughtUp(pg));
  ASSERT_TRUE(runner->Stop().ok());

  auto stored = rm::testing::ConsumeWithOurClient(tb.Bootstrap("us-east"), "acme.t", 3);
  ASSERT_EQ(stored.size(), 3u);
  const std::vector<std::string> ops = {"c", "u", "d"};
  for (size_t i = 0; i < stored.size(); ++i) {
    ASSERT_TRUE(stored[i].value && stored[i].key);
    Json value = Json::parse(*stored[i].value);
    Json key = Json::parse(*stored[i].key);
    EXPECT_EQ(rm::cdc::test::Misfit(value["schema"], value["payload"]), "") << value.dump();
    EXPECT_EQ(rm::cdc::test::Misfit(key["schema"], key["payload"]), "") << key.dump();
    EXPECT_EQ(value["payload"]["__op"], ops[i]);
    std::vector<std::string> names;
    for (const auto& f : value["schema"]["fields"]) names.push_back(f["field"]);
    EXPECT_EQ(names, (std::vector<std::string>{"id", "client", "amount", "__deleted", "__op",
                                               "__lsn", "tenant_id"}));
    EXPECT_EQ(value["schema"]["name"], "pg.public.t.Value");
    EXPECT_EQ(value["schema"]["fields"][2]["type"], "int64");
    EXPECT_EQ(key["payload"].dump(), R"({"tenant_id":"acme","id":1})");
  }
  EXPECT_EQ(Json::parse(*stored[1].value)["payload"]["amount"], 11);
  EXPECT_EQ(Json::parse(*stored[2].value)["payload"]["__deleted"], "true");
}

TEST(PostgresTransforms, AFailingEventStopsTheCaptureBeforeItsPositionOrGoesToTheDeadLetterTopic) {
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  tb.CreateTopic("us-east", "pg.public.t", 1);
  tb.CreateTopic("us-east", "pg.dlq", 1);
  rm::testing::PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY, customer text, amount text)");
  auto cfg = TestConfig(pg, {"t"});
  cfg.capture.snapshot_mode = SnapshotMode::kNever;
  const std::string chain = R"y(
postgres:
  transforms:
    - {name: unwrap, type: ExtractNewRecordState}
    - {name: amounts, type: Cast, spec: "amount:int64"}
)y";
  cfg.capture.transforms = Transforms(chain);
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());

  // The bad event's own LSN: a confirmed position at most there makes the server send its
  // transaction again (a commit's end is where the next transaction's first record starts).
  uint64_t bad_lsn = 0;
  {
    GatedKafkaSink sink(tb.Bootstrap("us-east"));
    CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
    ASSERT_TRUE(WaitFor([&] { return run.probe().streaming(); }));
    pg.Exec("INSERT INTO t VALUES (1, 'a', '10')");
    ASSERT_TRUE(WaitCaughtUp(pg));
    pg.Exec("INSERT INTO t VALUES (2, 'b', 'twelve')");
    common::Status st = run.Join();
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error().code, "transform.failed");
    EXPECT_NE(st.error().message.find("transform 'amounts' (Cast) failed on public.t at lsn "),
              std::string::npos)
        << st.error().message;
    EXPECT_NE(st.error().message.find("\"twelve\" cannot be cast to int64"), std::string::npos);
    std::smatch m;
    ASSERT_TRUE(
        std::regex_search(st.error().message, m, std::regex("at lsn ([0-9A-F]+/[0-9A-F]+)")));
    bad_lsn = Lsn::Parse(m[1].str())->value();
    EXPECT_EQ(run.capture().transforms()->CountsFor("public.t", "amounts").failures, 1u);
  }
  EXPECT_LE(SlotLsn(pg), bad_lsn) << "confirmed past an event neither delivered nor "
                                     "dead-lettered";
  // A restart stops at the same event: nothing after it is confirmed either.
  {
    GatedKafkaSink sink(tb.Bootstrap("us-east"));
    CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
    EXPECT_FALSE(run.Join().ok());
  }
  EXPECT_LE(SlotLsn(pg), bad_lsn);

  // With a dead-letter topic the untransformed event is written there and the capture goes on.
  cfg.capture.transforms = Transforms(chain + R"y(
  errors.tolerance: all
  errors.deadletterqueue.topic.name: pg.dlq
)y");
  GatedKafkaSink sink(tb.Bootstrap("us-east"));
  CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
  ASSERT_TRUE(WaitFor([&] { return run.probe().streaming(); }));
  pg.Exec("INSERT INTO t VALUES (3, 'c', '30')");
  ASSERT_TRUE(WaitCaughtUp(pg));
  ASSERT_TRUE(run.Stop().ok());
  EXPECT_EQ(run.capture().transforms()->CountsFor("public.t", "amounts").dead_lettered, 1u);

  auto dlq = rm::testing::ConsumeWithOurClient(tb.Bootstrap("us-east"), "pg.dlq", 1);
  ASSERT_EQ(dlq.size(), 1u);
  Json envelope = Json::parse(*dlq[0].value);
  EXPECT_EQ(envelope["after"]["amount"], "twelve");
  EXPECT_EQ(envelope["op"], "c");
  auto events =
      Values(rm::testing::ConsumeWithOurClient(tb.Bootstrap("us-east"), "pg.public.t", 2));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].dump(), R"({"id":1,"customer":"a","amount":10})");
  EXPECT_EQ(events[1].dump(), R"({"id":3,"customer":"c","amount":30})");
}

}  // namespace
}  // namespace rm::cdc::postgres::test

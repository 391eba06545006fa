// Postgres capture into Kafka (the testbed's mock cluster) through KafkaEventSink: every event
// is stored and acked, and the slot advances only after the acks.
#include <gtest/gtest.h>

#include "src-cdc/kafka_event_sink.h"
#include "tests/src-cdc/postgres_test_support.h"
#include "tests/support/testbed_fixture.h"

namespace rm::cdc::postgres::test {
namespace {

TEST(PostgresKafkaSink, CapturedEventsAreStoredInKafkaBeforeTheSlotAdvances) {
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  tb.CreateTopic("us-east", "pg.public.t", 3);
  rm::testing::PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b')");
  auto cfg = TestConfig(pg, {"t"});
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());

  KafkaEventSinkOptions opts;
  opts.properties = {{"bootstrap.servers", tb.Bootstrap("us-east")}, {"linger.ms", "5"}};
  KafkaEventSink sink(opts);
  CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
  ASSERT_TRUE(WaitFor([&] { return run.probe().streaming(); }));
  pg.Exec("UPDATE t SET v = 'c' WHERE id = 1; DELETE FROM t WHERE id = 2");
  ASSERT_TRUE(WaitCaughtUp(pg));
  ASSERT_TRUE(run.Stop().ok());
  // 2 snapshot rows, 1 update, 1 delete + 1 tombstone.
  EXPECT_EQ(run.probe().events_produced(), 5u);
  EXPECT_EQ(run.probe().events_acked(), 5u);
  common::Producer probe_client({{"bootstrap.servers", tb.Bootstrap("us-east")}}, nullptr, "probe");
  int64_t stored = 0;
  for (int p = 0; p < 3; ++p) {
    auto wm = probe_client.QueryWatermarks("pg.public.t", p, std::chrono::seconds(10));
    ASSERT_TRUE(wm.ok()) << wm.error().message;
    stored += wm->high;
  }
  EXPECT_EQ(stored, 5);
}

}  // namespace
}  // namespace rm::cdc::postgres::test

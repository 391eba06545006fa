// TopicConfigSync's real requests (librdkafka DescribeConfigs and AlterConfigs through
// common::AdminClient) against the testbed. librdkafka 2.0.2's mock cluster cannot serve them:
// rd_kafka_mock_api_handlers (src/rdkafka_mock_handlers.c, tag v2.0.2) has entries for Produce,
// Fetch, ListOffsets, OffsetFetch, OffsetCommit, ApiVersion, Metadata, FindCoordinator,
// InitProducerId and the group and transaction requests only, and before that, librdkafka waits
// for a controller to send them to, which the mock never names ("Failed while waiting for
// controller"). So a config cannot arrive on the testbed: what is tested here is that the
// requests are made through the real clients, fail, and end the round after one wait instead of
// one per topic. The sync rules are tested in topic_config_sync_test.cc.
#include <gtest/gtest.h>

#include "common/kafka_admin.h"
#include "mirror/topic_config_sync.h"
#include "tests/support/testbed_fixture.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;

TEST(TopicConfigSyncIntegration, RealRequestsCannotBeServedByTheMockAndEndTheRoundOnce) {
  ScopedTestbed tb({"a", "b"}, 1);
  tb.CreateTopic("a", "orders", 1);
  tb.CreateTopic("a", "payments", 1);
  tb.CreateTopic("b", "a.orders", 1);
  tb.CreateTopic("b", "a.payments", 1);
  common::AdminClient source_client({{"bootstrap.servers", tb.Bootstrap("a")}}, "source admin");
  common::AdminClient target_client({{"bootstrap.servers", tb.Bootstrap("b")}}, "target admin");

  // The evidence for the limit, through the same calls the sync makes.
  auto described = source_client.DescribeTopicConfigs("orders", 1s);
  ASSERT_FALSE(described.ok());
  EXPECT_EQ(described.error().code, "_TIMED_OUT") << described.error().message;
  auto replaced = target_client.ReplaceTopicConfigs("a.orders", {{"retention.ms", "1000"}}, 1s);
  ASSERT_FALSE(replaced.ok());
  EXPECT_EQ(replaced.error().code, "_TIMED_OUT") << replaced.error().message;

  replication::FlowConfig flow;
  flow.source = "a";
  flow.target = "b";
  auto source = mirror::MakeKafkaTopicAdmin(source_client);
  auto target = mirror::MakeKafkaTopicAdmin(target_client);
  mirror::TopicConfigSync sync(flow, *source, *target);
  auto round = sync.SyncOnce();
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_EQ(round->topics, 1);  // the first remote topic compared; the round ends at its timeout
  EXPECT_EQ(round->failed, 1);
  EXPECT_EQ(round->altered, 0);
}

}  // namespace
}  // namespace rm::testing

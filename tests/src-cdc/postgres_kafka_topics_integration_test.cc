// The provisioning "topics" step against the testbed's mock cluster: existing topics are left
// alone (the mock serves no CreateTopics), missing ones are named, and nothing hangs.
#include <gtest/gtest.h>

#include <chrono>

#include "common/kafka_client.h"
#include "src-cdc/postgres/kafka_topics.h"
#include "tests/support/testbed_fixture.h"

namespace rm::cdc::postgres {
namespace {

using namespace std::chrono_literals;

TEST(PostgresKafkaTopics, ExistingTopicsAreAlreadyDoneAndMissingOnesAreNamed) {
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  tb.CreateTopic("us-east", "pg.public.a", 3);
  common::KafkaProperties props = {{"bootstrap.servers", tb.Bootstrap("us-east")}};

  KafkaTopicProvisioner create(props, 3, -1, 5s);
  auto have = create.EnsureTopics({{"pg.public.a"}}, false);
  EXPECT_EQ(have.outcome, StepOutcome::kAlreadyDone) << have.detail;
  EXPECT_EQ(have.detail, "exist: pg.public.a");

  auto dry = create.EnsureTopics({{"pg.public.a"}, {"pg.public.b"}}, true);
  EXPECT_EQ(dry.outcome, StepOutcome::kWouldDo) << dry.detail;
  EXPECT_EQ(dry.detail, "create: pg.public.b (3 partitions)");

  KafkaTopicProvisioner check_only(props, 3, -1, 5s, /*create_missing=*/false);
  auto missing = check_only.EnsureTopics({{"pg.public.a"}, {"pg.public.b"}}, false);
  EXPECT_EQ(missing.outcome, StepOutcome::kFailed);
  EXPECT_NE(missing.detail.find("missing (kafka.create_topics is false"), std::string::npos)
      << missing.detail;
  EXPECT_NE(missing.detail.find("pg.public.b"), std::string::npos) << missing.detail;

  // The mock does not serve CreateTopics: the step fails, naming the topic, within its timeout.
  auto start = std::chrono::steady_clock::now();
  auto refused = create.EnsureTopics({{"pg.public.b"}}, false);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 15s);
  EXPECT_EQ(refused.outcome, StepOutcome::kFailed) << refused.detail;
  EXPECT_NE(refused.detail.find("pg.public.b"), std::string::npos) << refused.detail;

  // Listing the cluster's topics did not create any (a metadata request naming them would).
  common::Producer client(props, nullptr, "check");
  auto md = client.Metadata(std::nullopt, 10s);
  ASSERT_TRUE(md.ok()) << md.error().message;
  EXPECT_EQ(md->Find("pg.public.b"), nullptr);
}

// The history topic is created compacted with one partition. The mock serves neither
// CreateTopics nor DescribeConfigs, so here the step shows what it would create, and says
// plainly that an existing history topic's configs could not be checked (real Kafka: checked,
// see TopicConfigProblems in postgres_provision_topics_test.cc).
TEST(PostgresKafkaTopics, HistoryTopicIsCreatedCompactedAndAnExistingOneIsChecked) {
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  tb.CreateTopic("us-east", "pg.public.a", 3);
  common::KafkaProperties props = {{"bootstrap.servers", tb.Bootstrap("us-east")}};
  CaptureConfig cap;
  cap.topic_prefix = "pg";
  cap.tables = {TableName{"public", "a"}};
  cap.schema.history = true;
  KafkaTopicProvisioner create(props, 3, -1, 5s);

  auto dry = create.EnsureTopics(CaptureTopics(cap), true);
  EXPECT_EQ(dry.outcome, StepOutcome::kWouldDo) << dry.detail;
  EXPECT_EQ(dry.detail,
            "create: pg.schema-history (1 partitions, cleanup.policy=compact, retention.bytes=-1, "
            "retention.ms=-1)");

  tb.CreateTopic("us-east", "pg.schema-history", 1);
  auto exists = create.EnsureTopics(CaptureTopics(cap), false);
  EXPECT_EQ(exists.outcome, StepOutcome::kAlreadyDone) << exists.detail;
  EXPECT_NE(exists.detail.find("exist: pg.public.a, pg.schema-history; configs not checked "
                               "(describe refused): pg.schema-history"),
            std::string::npos)
      << exists.detail;
}

TEST(PostgresKafkaTopics, UnreachableClusterFailsTheStepWithTheReason) {
  KafkaTopicProvisioner topics({{"bootstrap.servers", "127.0.0.1:1"}}, 3, -1, 2s);
  auto r = topics.EnsureTopics({{"pg.public.a"}}, true);
  EXPECT_EQ(r.outcome, StepOutcome::kFailed);
  EXPECT_NE(r.detail.find("cannot list the cluster's topics"), std::string::npos) << r.detail;
}

}  // namespace
}  // namespace rm::cdc::postgres

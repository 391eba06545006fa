// The topics provisioning asks for: the history topic compacted with infinite retention and
// one partition, its CreateTopics request carrying those configs, and the check that fails an
// existing history topic that is not compacted.
#include <gtest/gtest.h>

#include "src-cdc/postgres/kafka_topics.h"
#include "src-cdc/postgres/provision.h"

namespace rm::cdc::postgres {
namespace {

CaptureConfig Capture() {
  CaptureConfig cap;
  cap.topic_prefix = "pg";
  cap.tables = {TableName{"public", "a"}, TableName{"sales", "b"}};
  return cap;
}

TEST(PostgresProvisionTopics, WithoutHistoryOnlyTheTablesTopicsAreNeeded) {
  auto topics = CaptureTopics(Capture());
  ASSERT_EQ(topics.size(), 2u);
  EXPECT_EQ(topics[0], (TopicSpec{"pg.public.a", 0, {}}));
  EXPECT_EQ(topics[1], (TopicSpec{"pg.sales.b", 0, {}}));
}

TEST(PostgresProvisionTopics, HistoryTopicIsCompactedWithInfiniteRetentionAndOnePartition) {
  auto cap = Capture();
  cap.schema.history = true;
  cap.schema.history_topic = "pg.history";
  auto topics = CaptureTopics(cap);
  ASSERT_EQ(topics.size(), 3u);
  const std::map<std::string, std::string> want = {
      {"cleanup.policy", "compact"}, {"retention.ms", "-1"}, {"retention.bytes", "-1"}};
  EXPECT_EQ(topics[2], (TopicSpec{"pg.history", 1, want}));

  // The CreateTopics request carries them; table topics get the configured partitions.
  auto requests = NewTopics(topics, 6, 3);
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].name, "pg.public.a");
  EXPECT_EQ(requests[0].partitions, 6);
  EXPECT_TRUE(requests[0].configs.empty());
  EXPECT_EQ(requests[2].name, "pg.history");
  EXPECT_EQ(requests[2].partitions, 1);
  EXPECT_EQ(requests[2].replication_factor, 3);
  EXPECT_EQ(requests[2].configs, want);
}

TEST(PostgresProvisionTopics, ExistingHistoryTopicMustBeCompacted) {
  auto cap = Capture();
  cap.schema.history = true;
  const TopicSpec history = CaptureTopics(cap).back();
  ASSERT_EQ(history.name, "pg.schema-history");

  EXPECT_TRUE(TopicConfigProblems(history, {{"cleanup.policy", "compact"}}).empty());
  auto deleting = TopicConfigProblems(history, {{"cleanup.policy", "delete"}});
  ASSERT_EQ(deleting.size(), 1u);
  EXPECT_EQ(deleting[0],
            "pg.schema-history: cleanup.policy is delete, must be compact: alter it "
            "(kafka-configs --alter --add-config cleanup.policy=compact)");
  auto defaulted = TopicConfigProblems(history, {{"retention.ms", "-1"}});
  ASSERT_EQ(defaulted.size(), 1u);
  EXPECT_NE(defaulted[0].find("cleanup.policy is the broker default"), std::string::npos);
  // A table topic has no required configs.
  EXPECT_TRUE(TopicConfigProblems(CaptureTopics(cap)[0], {{"cleanup.policy", "delete"}}).empty());
}

}  // namespace
}  // namespace rm::cdc::postgres

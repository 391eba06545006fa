// KafkaClient against a testbed: what the mirror asks a cluster besides records.
#include <gtest/gtest.h>

#include "common/kafka_client.h"
#include "tests/support/kafka_helpers.h"
#include "tests/support/testbed_fixture.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;

class KafkaClientIntegration : public TestbedTest {};

TEST_F(KafkaClientIntegration, BatchedWatermarksAgreeWithOnePartitionAtATime) {
  tb().CreateTopic("us-east", "wm", 3);
  tb().CreateTopic("us-east", "other", 2);
  std::vector<Record> records;
  for (int i = 0; i < 5; ++i) records.push_back({1, -1, "k", "v", {}, 0});
  for (int i = 0; i < 12; ++i) records.push_back({2, -1, "k", "v", {}, 0});
  ProduceWithOurClient(Bootstrap("us-east"), "wm", records);
  ProduceWithOurClient(Bootstrap("us-east"), "other", {{1, -1, "k", "v", {}, 0}});

  common::Consumer c({{"bootstrap.servers", Bootstrap("us-east")}, {"group.id", "wm-test"}},
                     nullptr, "test");
  std::vector<common::TopicPartition> tps = {{"wm", 2}, {"other", 1}, {"wm", 0}, {"wm", 1}};
  auto batch = c.QueryWatermarks(tps, 10s);
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  ASSERT_EQ(batch->size(), tps.size());
  const int64_t want_high[] = {12, 1, 0, 5};
  for (size_t i = 0; i < tps.size(); ++i) {
    const auto& got = (*batch)[i];
    ASSERT_TRUE(got.ok()) << got.error().message;
    auto one = c.QueryWatermarks(tps[i].topic, tps[i].partition, 10s);
    ASSERT_TRUE(one.ok()) << one.error().message;
    EXPECT_EQ(got->low, one->low) << tps[i].topic << "[" << tps[i].partition << "]";
    EXPECT_EQ(got->high, one->high) << tps[i].topic << "[" << tps[i].partition << "]";
    EXPECT_EQ(got->high, want_high[i]) << tps[i].topic << "[" << tps[i].partition << "]";
    EXPECT_EQ(got->low, 0);
  }
  auto none = c.QueryWatermarks(std::vector<common::TopicPartition>{}, 1s);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST_F(KafkaClientIntegration, BatchedWatermarksFailOnlyThePartitionThatDoesNotExist) {
  tb().CreateTopic("us-east", "wm", 2);
  ProduceWithOurClient(Bootstrap("us-east"), "wm", {{0, -1, "k", "v", {}, 0}});
  common::Consumer c({{"bootstrap.servers", Bootstrap("us-east")}, {"group.id", "wm-test"}},
                     nullptr, "test");
  auto batch = c.QueryWatermarks({{"wm", 0}, {"wm", 7}}, 5s);
  ASSERT_TRUE(batch.ok()) << batch.error().message;
  ASSERT_EQ(batch->size(), 2u);
  ASSERT_TRUE((*batch)[0].ok()) << (*batch)[0].error().message;
  EXPECT_EQ((*batch)[0]->high, 1);
  ASSERT_FALSE((*batch)[1].ok());
  EXPECT_NE((*batch)[1].error().message.find("wm[7]"), std::string::npos)
      << (*batch)[1].error().message;
}

// librdkafka 2.0.2 keeps a moved leader cached for a handle that only asks watermarks (it
// refreshes only topics it has objects for), so without RelearnLeaders every query after a
// leader move failed with NOT_LEADER_FOR_PARTITION for 15 minutes: a flow's tail scan stalled
// that way in the fault schedule. Each query must answer right after the move.
TEST_F(KafkaClientIntegration, WatermarksAnswerRightAfterTheLeaderMoved) {
  tb().CreateTopic("us-east", "moving", 2);
  ProduceWithOurClient(Bootstrap("us-east"), "moving",
                       {{0, -1, "k", "v", {}, 0}, {1, -1, "k", "v", {}, 0}});
  common::Consumer c({{"bootstrap.servers", Bootstrap("us-east")}, {"group.id", "wm-test"}},
                     nullptr, "test");
  std::vector<common::TopicPartition> tps = {{"moving", 0}, {"moving", 1}};
  for (int32_t leader : {1, 2, 3, 1}) {
    // Learn (cache) the current leaders first, then move both partitions.
    auto before = c.QueryWatermarks(tps, 10s);
    ASSERT_TRUE(before.ok()) << before.error().message;
    for (const auto& tp : tps) {
      ASSERT_TRUE(
          tb().testbed().SetPartitionLeader("us-east", "moving", tp.partition, leader).ok());
    }
    auto batch = c.QueryWatermarks(tps, 10s);
    ASSERT_TRUE(batch.ok()) << "leader " << leader << ": " << batch.error().message;
    for (const auto& one : *batch) {
      ASSERT_TRUE(one.ok()) << "leader " << leader << ": " << one.error().message;
      EXPECT_EQ(one->high, 1);
    }
    auto single = c.QueryWatermarks("moving", 1, 10s);
    ASSERT_TRUE(single.ok()) << "leader " << leader << ": " << single.error().message;
    EXPECT_EQ(single->high, 1);
  }
}

}  // namespace
}  // namespace rm::testing

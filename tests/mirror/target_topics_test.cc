// TargetTopics against fake clusters: creation with the source's partition count and configs,
// growth, and the fallbacks for clusters that cannot create topics, add partitions or describe
// configs. The testbed's mock serves none of CreateTopics, CreatePartitions and DescribeConfigs,
// so these rules are tested here (and the fallback once more in the integration suite).
#include "mirror/target_topics.h"

#include <gtest/gtest.h>

#include <optional>

namespace rm::mirror {
namespace {

using common::Error;
using common::Result;
using common::Status;

// A cluster in memory. Each capability can be switched off as real clusters (ACLs, the mock)
// switch them off; calls are counted.
class FakeCluster : public TopicAdmin {
 public:
  std::map<std::string, int> topics;
  std::map<std::string, std::map<std::string, std::string>> configs;
  bool can_create = true;
  bool can_grow = true;
  bool can_describe = true;
  int auto_create_partitions = 0;  // 0: no auto-creation
  int create_calls = 0, grow_calls = 0, describe_calls = 0, list_calls = 0;
  std::map<std::string, std::string> last_create_configs;
  int last_create_replication_factor = 0;

  Result<std::map<std::string, int>> ListTopics() override {
    ++list_calls;
    return topics;
  }

  Result<std::map<std::string, std::string>> TopicConfigs(const std::string& topic) override {
    ++describe_calls;
    if (!can_describe) return Error{"UNSUPPORTED", "DescribeConfigs not supported"};
    return configs[topic];
  }

  Status CreateTopic(const std::string& topic, int partitions, int replication_factor,
                     const std::map<std::string, std::string>& cfg) override {
    ++create_calls;
    last_create_replication_factor = replication_factor;
    if (!can_create) return Error{"UNSUPPORTED", "CreateTopics not supported"};
    if (topics.contains(topic)) return Error{"TOPIC_ALREADY_EXISTS", "exists"};
    topics[topic] = partitions;
    configs[topic] = cfg;
    last_create_configs = cfg;
    return Status::Ok();
  }

  Status ReplaceTopicConfigs(const std::string& topic,
                             const std::map<std::string, std::string>& cfg) override {
    configs[topic] = cfg;
    return Status::Ok();
  }

  Status CreatePartitions(const std::string& topic, int total) override {
    ++grow_calls;
    if (!can_grow) return Error{"UNSUPPORTED", "CreatePartitions not supported"};
    if (!topics.contains(topic) || topics[topic] >= total) return Error{"INVALID", "bad count"};
    topics[topic] = total;
    return Status::Ok();
  }

  Result<int> RequestTopic(const std::string& topic) override {
    if (!topics.contains(topic) && auto_create_partitions > 0) {
      topics[topic] = auto_create_partitions;
    }
    auto it = topics.find(topic);
    return it == topics.end() ? 0 : it->second;
  }
};

class TargetTopicsTest : public ::testing::Test {
 protected:
  FakeCluster source, target;
  TargetTopics topics{source, target, "flow a->b"};
};

TEST_F(TargetTopicsTest, CreatesMissingTopicWithSourcePartitionsAndConfigs) {
  source.topics["orders"] = 6;
  source.configs["orders"] = {{"cleanup.policy", "compact"}, {"retention.ms", "86400000"}};

  ASSERT_TRUE(topics.Ensure("orders", "a.orders", 6).ok());

  EXPECT_EQ(target.topics.at("a.orders"), 6);
  EXPECT_EQ(target.configs.at("a.orders"), source.configs.at("orders"));
}

TEST_F(TargetTopicsTest, LeavesReplicationFactorToTheTargetBrokersByDefault) {
  source.topics["orders"] = 3;
  ASSERT_TRUE(topics.Ensure("orders", "a.orders", 3).ok());
  EXPECT_EQ(target.last_create_replication_factor, -1);
}

TEST_F(TargetTopicsTest, CreatesWithTheFlowsReplicationFactor) {
  source.topics["orders"] = 3;
  TargetTopics three(source, target, "flow a->b", TargetTopicOptions{3, true});
  ASSERT_TRUE(three.Ensure("orders", "a.orders", 3).ok());
  EXPECT_EQ(target.last_create_replication_factor, 3);
}

TEST_F(TargetTopicsTest, CopiesNoConfigsWhenTopicConfigSyncIsOff) {
  source.topics["orders"] = 3;
  source.configs["orders"] = {{"cleanup.policy", "compact"}};
  TargetTopics unsynced(source, target, "flow a->b", TargetTopicOptions{-1, false});
  ASSERT_TRUE(unsynced.Ensure("orders", "a.orders", 3).ok());
  EXPECT_EQ(target.topics["a.orders"], 3);
  EXPECT_TRUE(target.last_create_configs.empty());
  EXPECT_EQ(source.describe_calls, 0);
}

TEST_F(TargetTopicsTest, LeavesSourceClusterPoliciesOutOfCopiedConfigs) {
  source.configs["orders"] = {{"cleanup.policy", "compact"},
                              {"min.insync.replicas", "2"},
                              {"message.timestamp.type", "LogAppendTime"},
                              {"leader.replication.throttled.replicas", "*"}};

  ASSERT_TRUE(topics.Ensure("orders", "a.orders", 3).ok());

  std::map<std::string, std::string> want = {{"cleanup.policy", "compact"}};
  EXPECT_EQ(target.last_create_configs, want);
}

TEST_F(TargetTopicsTest, LeavesOutTheConfigsTheFlowExcludesAtCreation) {
  source.configs["orders"] = {
      {"cleanup.policy", "compact"}, {"retention.ms", "1000"}, {"min.insync.replicas", "2"}};
  TargetTopics custom(source, target, "flow a->b",
                      TargetTopicOptions{-1, true, {"retention\\..*"}});
  ASSERT_TRUE(custom.Ensure("orders", "a.orders", 3).ok());
  // config.properties.exclude replaces MM2's list: min.insync.replicas is copied now.
  std::map<std::string, std::string> want = {{"cleanup.policy", "compact"},
                                             {"min.insync.replicas", "2"}};
  EXPECT_EQ(target.last_create_configs, want);
}

TEST_F(TargetTopicsTest, GrowsTargetWhenSourceGainsPartitions) {
  ASSERT_TRUE(topics.Ensure("orders", "a.orders", 3).ok());
  ASSERT_EQ(target.topics.at("a.orders"), 3);

  ASSERT_TRUE(topics.Ensure("orders", "a.orders", 8).ok());

  EXPECT_EQ(target.topics.at("a.orders"), 8);
  EXPECT_EQ(target.grow_calls, 1);
  EXPECT_EQ(target.create_calls, 1);
}

TEST_F(TargetTopicsTest, AcceptsWiderTargetWithoutChangingIt) {
  target.topics["a.orders"] = 12;

  ASSERT_TRUE(topics.Ensure("orders", "a.orders", 6).ok());
  ASSERT_TRUE(topics.Ensure("orders", "a.orders", 6).ok());

  EXPECT_EQ(target.topics.at("a.orders"), 12);
  EXPECT_EQ(target.create_calls + target.grow_calls, 0);
}

TEST_F(TargetTopicsTest, ExistingTopicWithSamePartitionsNeedsNoAdminCall) {
  target.topics["a.orders"] = 6;

  ASSERT_TRUE(topics.Ensure("orders", "a.orders", 6).ok());

  EXPECT_EQ(target.create_calls + target.grow_calls + source.describe_calls, 0);
}

TEST_F(TargetTopicsTest, ReportsMismatchWhenPartitionsCannotBeAdded) {
  target.topics["a.orders"] = 4;
  target.can_grow = false;

  Status st = topics.Ensure("orders", "a.orders", 6);

  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "mirror.partition_mismatch");
  EXPECT_NE(st.error().message.find("a.orders has 4 partitions"), std::string::npos)
      << st.error().message;
  EXPECT_NE(st.error().message.find("orders has 6"), std::string::npos) << st.error().message;
}

TEST_F(TargetTopicsTest, ARoundOfTopicsSharesOneListingOfTheTarget) {
  source.topics["orders"] = 6;
  source.topics["payments"] = 3;
  target.topics["a.payments"] = 2;

  auto listing = topics.ListTarget();
  ASSERT_TRUE(topics.Ensure(listing, "orders", "a.orders", 6).ok());
  ASSERT_TRUE(topics.Ensure(listing, "payments", "a.payments", 3).ok());

  EXPECT_EQ(target.list_calls, 1) << "each Ensure() of a round must use the round's listing";
  EXPECT_EQ(target.topics.at("a.orders"), 6);
  EXPECT_EQ(target.topics.at("a.payments"), 3) << "grown from what the listing said";
}

TEST_F(TargetTopicsTest, AFailedListingIsEachTopicsError) {
  TargetTopics::Listing failed = Error{"TIMED_OUT", "metadata timed out"};
  Status st = topics.Ensure(failed, "orders", "a.orders", 6);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "TIMED_OUT");
  EXPECT_EQ(target.create_calls, 0) << "nothing is created without knowing what exists";
}

TEST_F(TargetTopicsTest, FallsBackToAutoCreationOnceCreateIsRefused) {
  target.can_create = false;
  target.auto_create_partitions = 6;

  ASSERT_TRUE(topics.Ensure("orders", "a.orders", 6).ok());
  ASSERT_TRUE(topics.Ensure("payments", "a.payments", 6).ok());

  EXPECT_EQ(target.create_calls, 1) << "CreateTopics is not asked again after a refusal";
  EXPECT_FALSE(topics.target_can_create_topics());
  EXPECT_EQ(target.topics.at("a.payments"), 6);
}

TEST_F(TargetTopicsTest, StopsOnlyTheTopicWhoseAutoCreatedPartitionCountDiffers) {
  target.can_create = false;
  target.auto_create_partitions = 4;  // the mock's default

  Status bad = topics.Ensure("orders", "a.orders", 6);
  Status good = topics.Ensure("small", "a.small", 4);

  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, "mirror.partition_mismatch");
  EXPECT_NE(bad.error().message.find("create it with 6 partitions"), std::string::npos)
      << bad.error().message;
  EXPECT_TRUE(good.ok());
}

TEST_F(TargetTopicsTest, NamesTopicThatCannotBeCreatedAtAll) {
  target.can_create = false;  // and no auto-creation

  Status st = topics.Ensure("orders", "a.orders", 6);

  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "mirror.target_topic");
  EXPECT_NE(st.error().message.find("a.orders"), std::string::npos);
}

TEST_F(TargetTopicsTest, CreatesWithDefaultsWhenSourceCannotDescribeConfigs) {
  source.can_describe = false;
  source.configs["orders"] = {{"cleanup.policy", "compact"}};

  ASSERT_TRUE(topics.Ensure("orders", "a.orders", 2).ok());
  ASSERT_TRUE(topics.Ensure("payments", "a.payments", 2).ok());

  EXPECT_TRUE(target.configs.at("a.orders").empty());
  EXPECT_EQ(source.describe_calls, 1) << "DescribeConfigs is not asked again after a failure";
  EXPECT_EQ(target.topics.at("a.payments"), 2);
}

TEST_F(TargetTopicsTest, TopicCreatedConcurrentlyByAnotherInstanceIsAccepted) {
  // Another instance creates it between our listing and our CreateTopics.
  class RacingCluster : public FakeCluster {
   public:
    Result<std::map<std::string, int>> ListTopics() override {
      auto listing = topics;
      topics["a.orders"] = 6;
      return listing;
    }
  } racing;
  TargetTopics t(source, racing, "flow a->b");

  EXPECT_TRUE(t.Ensure("orders", "a.orders", 6).ok());
}

}  // namespace
}  // namespace rm::mirror

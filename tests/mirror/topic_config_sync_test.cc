// TopicConfigSync against clusters in memory: which configs reach the remote topics, which the
// target keeps, which topics are touched, and that a change on the source arrives within one
// interval through the syncer's own thread. The testbed's mock serves neither DescribeConfigs
// nor AlterConfigs (librdkafka 2.0.2's rd_kafka_mock_api_handlers has no entry for them), so the
// rules are tested here; topic_config_sync_integration_test.cc runs the real requests against it.
#include "mirror/topic_config_sync.h"

#include <gtest/gtest.h>

#include <mutex>

namespace rm::mirror {
namespace {

using namespace std::chrono_literals;
using common::Error;
using common::Result;
using common::Status;
using Configs = std::map<std::string, std::string>;

// A cluster in memory, shared between the test and the syncer's thread. Admin calls on topics
// are counted; describing or altering can be refused.
class FakeConfigCluster : public TopicAdmin {
 public:
  void Set(const std::string& topic, Configs c) {
    std::lock_guard lock(mu_);
    topics_[topic] = std::move(c);
  }
  Configs Get(const std::string& topic) {
    std::lock_guard lock(mu_);
    return topics_[topic];
  }
  int alters() {
    std::lock_guard lock(mu_);
    return alters_;
  }
  void RefuseDescribe(const std::string& topic) {
    std::lock_guard lock(mu_);
    refuse_describe_.insert(topic);
  }
  void TimeOutDescribe() {
    std::lock_guard lock(mu_);
    time_out_ = true;
  }
  int describes() {
    std::lock_guard lock(mu_);
    return describes_;
  }
  void RefuseAlter(bool refuse) {
    std::lock_guard lock(mu_);
    refuse_alter_ = refuse;
  }

  Result<std::map<std::string, int>> ListTopics() override {
    std::lock_guard lock(mu_);
    std::map<std::string, int> out;
    for (const auto& [t, c] : topics_) out[t] = 1;
    return out;
  }
  Result<Configs> TopicConfigs(const std::string& topic) override {
    std::lock_guard lock(mu_);
    ++describes_;
    if (time_out_) return Error{"_TIMED_OUT", "Failed while waiting for controller"};
    if (refuse_describe_.contains(topic)) {
      return Error{"TOPIC_AUTHORIZATION_FAILED", "not authorized to describe " + topic};
    }
    return topics_[topic];
  }
  Status ReplaceTopicConfigs(const std::string& topic, const Configs& c) override {
    std::lock_guard lock(mu_);
    if (refuse_alter_) return Error{"POLICY_VIOLATION", "refused"};
    ++alters_;
    topics_[topic] = c;
    return Status::Ok();
  }
  Status CreateTopic(const std::string&, int, int, const Configs&) override {
    return Error{"UNSUPPORTED", "not used by the sync"};
  }
  Status CreatePartitions(const std::string&, int) override {
    return Error{"UNSUPPORTED", "not used by the sync"};
  }
  Result<int> RequestTopic(const std::string&) override { return 0; }

 private:
  std::mutex mu_;
  std::map<std::string, Configs> topics_;
  std::set<std::string> refuse_describe_;
  bool refuse_alter_ = false;
  bool time_out_ = false;
  int alters_ = 0;
  int describes_ = 0;
};

replication::FlowConfig FlowAB() {
  replication::FlowConfig f;
  f.source = "a";
  f.target = "b";
  return f;
}

class TopicConfigSyncTest : public ::testing::Test {
 protected:
  FakeConfigCluster source, target;
  replication::FlowConfig flow = FlowAB();
};

TEST_F(TopicConfigSyncTest, ConfigChangedOnTheSourceIsWrittenToTheRemoteTopic) {
  source.Set("orders", {{"retention.ms", "1000"}, {"cleanup.policy", "delete"}});
  target.Set("a.orders", {{"retention.ms", "1000"}, {"cleanup.policy", "delete"}});
  TopicConfigSync sync(flow, source, target);
  ASSERT_EQ(sync.SyncOnce()->altered, 0);  // already in step: nothing written
  EXPECT_EQ(target.alters(), 0);

  source.Set("orders", {{"retention.ms", "2000"}, {"cleanup.policy", "compact"}});
  auto round = sync.SyncOnce();
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->topics, 1);
  EXPECT_EQ(round->altered, 1);
  EXPECT_EQ(target.Get("a.orders"),
            (Configs{{"retention.ms", "2000"}, {"cleanup.policy", "compact"}}));
}

TEST_F(TopicConfigSyncTest, TargetKeepsItsOwnExcludedConfigsAndLosesConfigsTheSourceDropped) {
  source.Set("orders", {{"retention.ms", "2000"}, {"min.insync.replicas", "1"}});
  target.Set("a.orders", {{"retention.ms", "1000"},
                          {"segment.bytes", "1048576"},  // set on the source once, dropped since
                          {"min.insync.replicas", "3"}});
  TopicConfigSync sync(flow, source, target);
  ASSERT_EQ(sync.SyncOnce()->altered, 1);
  EXPECT_EQ(target.Get("a.orders"),
            (Configs{{"retention.ms", "2000"}, {"min.insync.replicas", "3"}}));
  ASSERT_EQ(sync.SyncOnce()->altered, 0);  // stable: the next round writes nothing
}

TEST_F(TopicConfigSyncTest, HonoursTheFlowsConfigPropertiesExclude) {
  flow.config_properties_exclude = {"retention\\..*"};
  source.Set("orders", {{"retention.ms", "2000"}, {"min.insync.replicas", "2"}});
  target.Set("a.orders", {{"retention.ms", "99"}});
  TopicConfigSync sync(flow, source, target);
  ASSERT_EQ(sync.SyncOnce()->altered, 1);
  EXPECT_EQ(target.Get("a.orders"),
            (Configs{{"retention.ms", "99"}, {"min.insync.replicas", "2"}}));
}

TEST_F(TopicConfigSyncTest, TouchesOnlyRemoteTopicsOfTopicsTheFlowCopies) {
  flow.topics_exclude = {"secret"};
  source.Set("orders", {{"retention.ms", "2"}});
  source.Set("secret", {{"retention.ms", "2"}});
  source.Set("b.orders", {{"retention.ms", "2"}});  // came from b: a cycle, never copied back
  source.Set("fresh", {{"retention.ms", "2"}});     // no remote topic yet
  target.Set("a.orders", {});
  target.Set("a.secret", {});
  target.Set("a.b.orders", {});
  target.Set("orders", {});  // a local topic of b with the same name
  TopicConfigSync sync(flow, source, target);
  auto round = sync.SyncOnce();
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->topics, 1);
  EXPECT_EQ(target.Get("a.orders"), (Configs{{"retention.ms", "2"}}));
  EXPECT_TRUE(target.Get("a.secret").empty());
  EXPECT_TRUE(target.Get("a.b.orders").empty());
  EXPECT_TRUE(target.Get("orders").empty());
}

TEST_F(TopicConfigSyncTest, ATopicThatCannotBeDescribedOrAlteredDoesNotStopTheOthers) {
  source.Set("orders", {{"retention.ms", "2"}});
  source.Set("payments", {{"retention.ms", "3"}});
  target.Set("a.orders", {});
  target.Set("a.payments", {});
  source.RefuseDescribe("orders");
  TopicConfigSync sync(flow, source, target);
  auto round = sync.SyncOnce();
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->failed, 1);
  EXPECT_EQ(round->altered, 1);
  EXPECT_EQ(target.Get("a.payments"), (Configs{{"retention.ms", "3"}}));

  source.Set("payments", {{"retention.ms", "4"}});
  target.RefuseAlter(true);
  round = sync.SyncOnce();
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->failed, 2);
  EXPECT_EQ(round->altered, 0);
  target.RefuseAlter(false);  // an ACL granted later: the next round catches up
  EXPECT_EQ(sync.SyncOnce()->altered, 1);
  EXPECT_EQ(target.Get("a.payments"), (Configs{{"retention.ms", "4"}}));
}

TEST_F(TopicConfigSyncTest, AClusterThatDoesNotAnswerEndsTheRoundAfterOneWait) {
  for (const std::string t : {"orders", "payments", "refunds"}) {
    source.Set(t, {{"retention.ms", "2"}});
    target.Set("a." + t, {});
  }
  source.TimeOutDescribe();
  TopicConfigSync sync(flow, source, target);
  auto round = sync.SyncOnce();
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->failed, 1);
  EXPECT_EQ(source.describes(), 1);  // not one timeout per topic
}

// Through the syncer's thread, with the interval of the configuration: a change made on the
// source after start arrives without any call from the test.
TEST_F(TopicConfigSyncTest, SyncerBringsASourceChangeToTheTargetWithinOneInterval) {
  replication::MirrorConfig config;
  flow.sync_topic_configs_interval_ms = 300;
  config.flows = {flow};
  source.Set("orders", {{"retention.ms", "1000"}});
  target.Set("a.orders", {{"retention.ms", "1000"}});
  TopicConfigSyncer syncer(config, [this](const replication::FlowConfig&) {
    // Views over the test's clusters (the syncer owns what the factory returns).
    struct View : TopicAdmin {
      explicit View(FakeConfigCluster& c) : c(c) {}
      FakeConfigCluster& c;
      Result<std::map<std::string, int>> ListTopics() override { return c.ListTopics(); }
      Result<Configs> TopicConfigs(const std::string& t) override { return c.TopicConfigs(t); }
      Status ReplaceTopicConfigs(const std::string& t, const Configs& x) override {
        return c.ReplaceTopicConfigs(t, x);
      }
      Status CreateTopic(const std::string& t, int p, int r, const Configs& x) override {
        return c.CreateTopic(t, p, r, x);
      }
      Status CreatePartitions(const std::string& t, int n) override {
        return c.CreatePartitions(t, n);
      }
      Result<int> RequestTopic(const std::string& t) override { return c.RequestTopic(t); }
    };
    ConfigSyncAdmins a;
    a.source = std::make_unique<View>(source);
    a.target = std::make_unique<View>(target);
    return a;
  });
  syncer.Start();
  source.Set("orders", {{"retention.ms", "5000"}});
  const auto changed = std::chrono::steady_clock::now();
  // One interval after the change at most, plus scheduling slack; waited for, not slept.
  const auto deadline = changed + 300ms + 2s;
  while (target.Get("a.orders").at("retention.ms") != "5000" &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(target.Get("a.orders").at("retention.ms"), "5000");
  syncer.Stop();
  EXPECT_EQ(syncer.altered(), 1u);
  EXPECT_GE(syncer.rounds(), 1u);
}

TEST_F(TopicConfigSyncTest, SyncerLeavesFlowsWithoutTopicConfigSyncAlone) {
  replication::MirrorConfig config;
  flow.sync_topic_configs = false;
  config.flows = {flow};
  int built = 0;
  TopicConfigSyncer syncer(config, [&built](const replication::FlowConfig&) {
    ++built;
    return ConfigSyncAdmins{};
  });
  EXPECT_EQ(built, 0);
}

}  // namespace
}  // namespace rm::mirror

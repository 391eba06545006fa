#include "replication/replication_policy.h"

#include <gtest/gtest.h>

#include "replication/topic_filter.h"

namespace rm::replication {
namespace {

TEST(ReplicationPolicy, DefaultPrefixesTheSourceAlias) {
  auto p = MakeReplicationPolicy(PolicyKind::kDefault, ".");
  EXPECT_EQ(p->FormatRemoteTopic("us-east", "orders"), "us-east.orders");
  EXPECT_EQ(p->TopicSource("us-east.orders"), "us-east");
  EXPECT_EQ(p->UpstreamTopic("us-east.orders"), "orders");
  EXPECT_EQ(p->TopicSource("orders"), "");
}

TEST(ReplicationPolicy, DefaultHonoursTheSeparator) {
  auto p = MakeReplicationPolicy(PolicyKind::kDefault, "__");
  EXPECT_EQ(p->FormatRemoteTopic("a", "t.x"), "a__t.x");
  EXPECT_EQ(p->TopicSource("a__t.x"), "a");
  EXPECT_EQ(p->UpstreamTopic("a__t.x"), "t.x");
}

TEST(ReplicationPolicy, IdentityKeepsNames) {
  auto p = MakeReplicationPolicy(PolicyKind::kIdentity, ".");
  EXPECT_EQ(p->FormatRemoteTopic("us-east", "orders"), "orders");
  EXPECT_EQ(p->TopicSource("us-east.orders"), "");
}

TEST(ReplicationPolicy, RemoteTopicsFromTheTargetAreCycles) {
  auto p = MakeReplicationPolicy(PolicyKind::kDefault, ".");
  EXPECT_TRUE(IsCycle(*p, "eu-west.orders", "eu-west"));
  EXPECT_TRUE(IsCycle(*p, "us-east.eu-west.orders", "eu-west"));  // came back through us-east
  EXPECT_FALSE(IsCycle(*p, "ap-south.orders", "eu-west"));
  EXPECT_FALSE(IsCycle(*p, "orders", "eu-west"));
}

TEST(TopicFilter, AllowDenyAndCycleRules) {
  FlowConfig f;
  f.source = "us-east";
  f.target = "eu-west";
  f.topics = {"orders.*", "payments", "eu-west\\..*"};
  f.topics_exclude = {"orders\\.tmp", "__.*"};
  auto p = MakeReplicationPolicy(PolicyKind::kDefault, ".");
  TopicFilter filter(f, *p);
  EXPECT_TRUE(filter.ShouldReplicate("orders"));
  EXPECT_TRUE(filter.ShouldReplicate("orders.v2"));
  EXPECT_TRUE(filter.ShouldReplicate("payments"));
  EXPECT_FALSE(filter.ShouldReplicate("payments-old"));  // full match, not search
  EXPECT_FALSE(filter.ShouldReplicate("orders.tmp"));
  EXPECT_FALSE(filter.ShouldReplicate("eu-west.orders"));  // would go back where it came from
}

TEST(TopicFilter, DefaultExcludesInternalTopics) {
  FlowConfig f;
  f.source = "a";
  f.target = "b";
  auto p = MakeReplicationPolicy(PolicyKind::kDefault, ".");
  TopicFilter filter(f, *p);
  EXPECT_FALSE(filter.ShouldReplicate("__consumer_offsets"));
  EXPECT_FALSE(filter.ShouldReplicate("a.checkpoints.internal"));
  EXPECT_FALSE(filter.ShouldReplicate("mm2-offset-syncs.b.internal"));
  EXPECT_TRUE(filter.ShouldReplicate("orders"));
}

TEST(TopicFilter, GroupRules) {
  FlowConfig f;
  f.groups = {"app-.*"};
  f.groups_exclude = {"app-test"};
  auto p = MakeReplicationPolicy(PolicyKind::kDefault, ".");
  TopicFilter filter(f, *p);
  EXPECT_TRUE(filter.ShouldTranslateGroup("app-orders"));
  EXPECT_FALSE(filter.ShouldTranslateGroup("app-test"));
  EXPECT_FALSE(filter.ShouldTranslateGroup("other"));
}

}  // namespace
}  // namespace rm::replication

// The mirror's configuration from a topology: clusters, planned flows as the mirror's flows, and
// the mirror:/offsets: sections read (and validated) by the mirror's own loader.
#include "topology/mirror_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/result.h"
#include "replication/replication_policy.h"
#include "replication/topic_filter.h"
#include "tests/topology/topology_test_util.h"

namespace rm::topology {
namespace {

using ::testing::HasSubstr;

TEST(MirrorConfigFor, RunsThePlannedFlowsWithTheFilesSections) {
  auto topo = Topology::Load(testing::ThreeRegionsFile().string());
  auto plan = MakePlan(*topo, {"", {"us-east", "eu-west"}});
  ASSERT_TRUE(plan.ok());
  replication::MirrorConfig m = MirrorConfigFor(*topo, *plan);
  ASSERT_EQ(m.clusters.size(), 2u);
  EXPECT_EQ(m.clusters[0].alias, "us-east");
  EXPECT_EQ(m.clusters[0].properties.at("security.protocol"), "plaintext");
  EXPECT_EQ(m.clusters[1].alias, "eu-west");
  ASSERT_EQ(m.flows.size(), 1u);
  EXPECT_EQ(m.flows[0].name(), "us-east->eu-west");
  EXPECT_EQ(m.flows[0].groups, std::vector<std::string>{"oncall-tools"});
  EXPECT_EQ(m.mirror.commit_interval_ms, 500);
  EXPECT_EQ(m.offsets.dir, "/var/lib/regionmirror/offsets");

  // The mirror's own filter copies exactly what the rules send this way.
  auto policy = replication::MakeReplicationPolicy(m.flows[0].policy, m.flows[0].separator);
  replication::TopicFilter filter(m.flows[0], *policy);
  EXPECT_TRUE(filter.ShouldReplicate("orders"));
  EXPECT_TRUE(filter.ShouldReplicate("clicks"));
  EXPECT_FALSE(filter.ShouldReplicate("pii.users"));
  EXPECT_FALSE(filter.ShouldReplicate("audit.logins"));
  EXPECT_FALSE(filter.ShouldReplicate("eu-central.audit.logins"));
  EXPECT_FALSE(filter.ShouldReplicate("__consumer_offsets"));
}

TEST(MirrorConfigFor, ReadsTheClustersSecrets) {
  ::setenv("RM_TOPOLOGY_MIRROR_TEST_PASSWORD", "pw", 1);
  auto topo = testing::BuildFrom(R"(
regions:
  - name: us-east
    clusters:
      - alias: us-east
        bootstrap_servers: us:9092
        properties_env: {sasl.password: RM_TOPOLOGY_MIRROR_TEST_PASSWORD}
  - name: eu-west
    clusters:
      - alias: eu-west
        bootstrap_servers: eu:9092
topics:
  - topic: orders
    home: us-east
    replicate_to: [eu-west]
)");
  auto plan = MakePlan(*topo, {});
  ASSERT_TRUE(plan.ok());
  replication::MirrorConfig m = MirrorConfigFor(*topo, *plan);
  EXPECT_EQ(m.FindCluster("us-east")->properties.at("sasl.password"), "pw");
  // No groups in the topology: the mirror's default (every group).
  EXPECT_EQ(m.flows[0].groups, std::vector<std::string>{".*"});
  ::unsetenv("RM_TOPOLOGY_MIRROR_TEST_PASSWORD");
  EXPECT_THROW(MirrorConfigFor(*topo, *plan), common::ConfigError);
}

TEST(ValidateMirrorSections, ReportsTheMirrorsOwnProblemsWithLines) {
  auto problems = testing::ProblemsOf(testing::TwoRegions() + R"(
mirror:
  commit_interval_ms: 1
  start_from: middle
offsets:
  bogus: 1
)");
  ASSERT_EQ(problems.size(), 3u) << testing::Joined(problems);
  EXPECT_EQ(problems[0].field, "mirror.commit_interval_ms");
  EXPECT_EQ(problems[0].line, 17);
  EXPECT_EQ(problems[0].message, "must be >= 10");
  EXPECT_EQ(problems[1].field, "mirror.start_from");
  EXPECT_EQ(problems[1].line, 18);
  EXPECT_EQ(problems[1].message, "must be one of earliest, latest (got \"middle\")");
  EXPECT_EQ(problems[2].field, "offsets.bogus");
  EXPECT_EQ(problems[2].line, 20);
  EXPECT_THAT(problems[2].message, HasSubstr("unknown field"));
}

TEST(ValidateMirrorSections, AcceptsTheExampleSections) {
  LoadedTopology loaded = LoadTopologyFile(testing::ThreeRegionsFile().string());
  EXPECT_TRUE(ValidateMirrorSections(loaded.config).empty());
}

}  // namespace
}  // namespace rm::topology

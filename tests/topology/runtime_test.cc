// TopologyRuntime without Kafka (fake probes): residency attached to hand-written and planned
// flows, copy lag from the flows into read routing, and topics created later placed by the
// same rules as the planner's.
#include "topology/runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "replication/replication_policy.h"
#include "replication/topic_filter.h"
#include "tests/topology/topology_test_util.h"
#include "topology/mirror_config.h"
#include "topology/planner.h"

namespace rm::topology {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

const std::string kTopology = testing::TwoRegions() + R"(
health: {probe_interval_ms: 1000, max_lag_ms: 5000}
topics:
  - pattern: 'pii\..*'
    home: eu-west
    allowed_regions: [eu-*]
  - pattern: '.*'
    home: eu-west
    replicate_to: [us-east]
)";

TopologyRuntime::ProbeFactory AlwaysUp() {
  return [](const ClusterSpec&) {
    return [](std::chrono::milliseconds) { return common::Status::Ok(); };
  };
}

replication::MirrorConfig HandWritten(const std::string& source, const std::string& target) {
  replication::MirrorConfig config;
  config.clusters = {{"us-east", "us:9092", {}}, {"eu-west", "eu:9092", {}}};
  replication::FlowConfig flow;
  flow.source = source;
  flow.target = target;
  flow.topics = {".*"};  // matches personal data too: residency must still hold
  config.flows.push_back(flow);
  return config;
}

TEST(TopologyRuntime, AHandWrittenFlowMayNotCopyATopicOutsideItsAllowedRegions) {
  TopologyRuntime runtime(testing::BuildFrom(kTopology), AlwaysUp());
  auto config = HandWritten("eu-west", "us-east");
  runtime.Attach(config, "mirror.yaml");
  ASSERT_NE(config.flows[0].placement, nullptr);
  const auto& placement = *config.flows[0].placement;
  auto refusal = placement.Refusal("pii.users");
  ASSERT_TRUE(refusal.has_value());
  // Names the topic, the rule and the region.
  EXPECT_THAT(*refusal, HasSubstr("topic 'pii.users' may not be copied to us-east"));
  EXPECT_THAT(*refusal, HasSubstr("topics[0] (pattern 'pii\\..*', line"));
  EXPECT_THAT(*refusal, HasSubstr("allows [eu-*]"));
  EXPECT_FALSE(placement.Refusal("orders").has_value());
  // A remote copy's name is judged by its upstream topic's rule.
  EXPECT_TRUE(placement.Refusal("eu-west.pii.users").has_value());
}

TEST(TopologyRuntime, AFlowIntoTheAllowedRegionCopiesEverything) {
  TopologyRuntime runtime(testing::BuildFrom(kTopology), AlwaysUp());
  auto config = HandWritten("us-east", "eu-west");
  runtime.Attach(config, "mirror.yaml");
  EXPECT_FALSE(config.flows[0].placement->Refusal("pii.users").has_value());
  EXPECT_FALSE(config.flows[0].placement->Refusal("orders").has_value());
}

TEST(TopologyRuntime, AFlowIntoAClusterTheTopologyDoesNotKnowIsAConfigError) {
  TopologyRuntime runtime(testing::BuildFrom(kTopology), AlwaysUp());
  auto config = HandWritten("eu-west", "ap-south");
  try {
    runtime.Attach(config, "mirror.yaml");
    FAIL() << "expected ConfigError";
  } catch (const common::ConfigError& e) {
    EXPECT_THAT(e.what(), HasSubstr("mirror.yaml: flow eu-west->ap-south: target cluster "
                                    "'ap-south' is no cluster of the topology"));
  }
}

TEST(TopologyRuntime, CopyLagReportedByAFlowReachesReadRouting) {
  TopologyRuntime runtime(testing::BuildFrom(kTopology), AlwaysUp());
  auto config = HandWritten("eu-west", "us-east");
  runtime.Attach(config, "mirror.yaml");
  auto& placement = *config.flows[0].placement;
  // Reported often enough that a report is never aged by the health model.
  EXPECT_LE(placement.LagReportInterval(), 500ms);

  placement.OnCopyLag("eu-west.orders", 1200ms);
  auto route = runtime.Resolve({"orders", "us-east", ""});
  ASSERT_TRUE(route.ok());
  ASSERT_EQ(route->candidates.size(), 2u);
  EXPECT_EQ(route->candidates[0].region, "us-east");
  EXPECT_EQ(route->candidates[0].topic, "eu-west.orders");
  EXPECT_EQ(route->candidates[0].lag_ms, 1200);
  EXPECT_TRUE(route->candidates[0].healthy);

  // Beyond max_lag_ms (5000): the local copy is demoted, the home comes first.
  placement.OnCopyLag("eu-west.orders", 9000ms);
  route = runtime.Resolve({"orders", "us-east", ""});
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->candidates[0].region, "eu-west");
  EXPECT_FALSE(route->candidates[1].healthy);
  EXPECT_THAT(route->candidates[1].why, HasSubstr("demoted: lag 9000 ms > 5000 ms"));

  // Caught up again: promoted.
  placement.OnCopyLag("eu-west.orders", 0ms);
  route = runtime.Resolve({"orders", "us-east", ""});
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->candidates[0].region, "us-east");
}

TEST(TopologyRuntime, ProbeOutcomesReachReadRouting) {
  std::map<std::string, std::shared_ptr<std::atomic<bool>>> up;
  TopologyRuntime runtime(testing::BuildFrom(kTopology), [&up](const ClusterSpec& c) {
    auto flag = up[c.alias] = std::make_shared<std::atomic<bool>>(true);
    return [flag](std::chrono::milliseconds) -> common::Status {
      if (*flag) return common::Status::Ok();
      return common::Error{"x", "down"};
    };
  });
  ASSERT_EQ(up.size(), 2u);  // every cluster of the topology is probed
  *up["eu-west"] = false;
  runtime.Start();
  bool demoted = false;
  for (auto deadline = Clock::now() + 10s; !demoted && Clock::now() < deadline;) {
    auto route = runtime.Resolve({"orders", "eu-west", ""});
    ASSERT_TRUE(route.ok());
    demoted = route->candidates[0].region == "us-east";
    if (!demoted) std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(demoted);
  runtime.Stop();
}

TEST(TopologyRuntime, RouteErrorsSayWhatIsUnknown) {
  TopologyRuntime runtime(
      testing::BuildFrom(testing::TwoRegions() + "topics:\n  - topic: a\n    home: us-east\n"),
      AlwaysUp());
  auto region = runtime.Resolve({"a", "mars", ""});
  ASSERT_FALSE(region.ok());
  EXPECT_EQ(region.error().code, "topology.unknown_region");
  auto topic = runtime.Resolve({"b", "us-east", ""});
  ASSERT_FALSE(topic.ok());
  EXPECT_EQ(topic.error().code, "topology.no_rule");
}

// A topic created after the mirror started is judged by the flow's regexes from the plan: it
// goes exactly where its winning rule sends it.
TEST(PlannedFlows, TopicsThatAppearLaterArePlacedByTheSameRules) {
  auto topo = Topology::Load(testing::ThreeRegionsFile().string());
  auto plan = MakePlan(*topo, {});
  ASSERT_TRUE(plan.ok());
  auto carried = [&](const std::string& flow_name, const std::string& topic) {
    for (const auto& f : plan->flows) {
      if (f.name() != flow_name) continue;
      replication::FlowConfig fc = f.ToFlowConfig();
      auto policy = replication::MakeReplicationPolicy(fc.policy, fc.separator);
      return replication::TopicFilter(fc, *policy).ShouldReplicate(topic);
    }
    ADD_FAILURE() << "no flow " << flow_name;
    return false;
  };
  // orders: us-east -> everywhere; pii.*: eu-west, copies only in eu-*; audit.*: eu-central ->
  // us-east; anything else (the '.*' rule): us-east -> eu-west.
  EXPECT_TRUE(carried("us-east->eu-west", "orders"));
  EXPECT_TRUE(carried("us-east->eu-west", "shipments-2027"));
  EXPECT_FALSE(carried("us-east->eu-west", "pii.cards"));
  EXPECT_FALSE(carried("us-east->eu-west", "audit.logins"));
  EXPECT_TRUE(carried("us-east->eu-central", "orders"));
  EXPECT_FALSE(carried("us-east->eu-central", "shipments-2027"));
  EXPECT_TRUE(carried("eu-west->eu-central", "pii.cards"));
  EXPECT_FALSE(carried("eu-west->eu-central", "shipments-2027"));
  EXPECT_TRUE(carried("eu-central->us-east", "audit.logins"));
  EXPECT_FALSE(carried("eu-central->us-east", "pii.cards"));
  // Remote copies are never carried onward.
  EXPECT_FALSE(carried("eu-west->eu-central", "us-east.orders"));
  // And the residency guard the runtime attaches agrees with the planner on every one of them.
  TopologyRuntime runtime(topo, AlwaysUp());
  auto config = MirrorConfigFor(*topo, *plan);
  runtime.Attach(config, topo->config().file);
  for (const auto& fc : config.flows) {
    auto policy = replication::MakeReplicationPolicy(fc.policy, fc.separator);
    replication::TopicFilter filter(fc, *policy);
    for (const std::string t : {"orders", "shipments-2027", "pii.cards", "audit.logins"}) {
      if (filter.ShouldReplicate(t)) {
        EXPECT_FALSE(fc.placement->Refusal(t).has_value()) << fc.name() << " " << t;
      }
    }
  }
}

}  // namespace
}  // namespace rm::topology

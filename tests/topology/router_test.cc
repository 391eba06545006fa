// Read routing on the three-region example: local first, then nearest healthy copy, then home;
// home_only; demotion of dead and lagging copies; the client.rack hint.
#include "topology/router.h"

#include <gtest/gtest.h>

#include "tests/topology/topology_test_util.h"

namespace rm::topology {
namespace {

using namespace std::chrono_literals;

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() : topo_(Topology::Load(testing::ThreeRegionsFile().string())) {}

  // "region:topic" for each candidate, best first.
  std::vector<std::string> Order(const std::string& topic, const std::string& region,
                                 const HealthSnapshot& health = {}) {
    auto route = Resolve(*topo_, {topic, region, ""}, health);
    EXPECT_TRUE(route.ok()) << route.error().message;
    std::vector<std::string> out;
    if (!route.ok()) return out;
    for (const auto& c : route->candidates) out.push_back(c.region + ":" + c.topic);
    return out;
  }

  std::shared_ptr<const Topology> topo_;
};

using Names = std::vector<std::string>;

TEST_F(RouterTest, ReadsTheLocalCopyFirstThenTheNearestThenHome) {
  EXPECT_EQ(Order("orders", "eu-central"),
            (Names{"eu-central:us-east.orders", "eu-west:us-east.orders", "us-east:orders"}));
  EXPECT_EQ(Order("orders", "us-east"),
            (Names{"us-east:orders", "eu-west:us-east.orders", "eu-central:us-east.orders"}));
}

TEST_F(RouterTest, GivesTheWhyTheClusterAndTheServersOfEachCandidate) {
  auto route = Resolve(*topo_, {"orders", "eu-central", ""}, {});
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->rule_description, "topics[0] (topic 'orders', line 30)");
  const auto& c = route->candidates;
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].why, "local copy");
  EXPECT_EQ(c[0].cluster_alias, "eu-central");
  EXPECT_EQ(c[0].bootstrap_servers, "kafka.eu-central:9092");
  EXPECT_EQ(c[1].why, "copy, rtt 15 ms");
  EXPECT_EQ(c[2].why, "home region, rtt 95 ms");
  EXPECT_TRUE(c[2].home);
  EXPECT_FALSE(c[0].lag_ms.has_value());
}

TEST_F(RouterTest, ReadsRemotelyWhereTheRegionHoldsNoCopy) {
  // Personal data stays in the EU; a client in us-east reads it there.
  EXPECT_EQ(Order("pii.users", "us-east"),
            (Names{"eu-central:eu-west.pii.users", "eu-west:pii.users"}));
}

TEST_F(RouterTest, ReadsOnlyTheHomeUnderHomeOnly) {
  auto route = Resolve(*topo_, {"audit.logins", "us-east", ""}, {});
  ASSERT_TRUE(route.ok());
  ASSERT_EQ(route->candidates.size(), 1u);
  EXPECT_EQ(route->candidates[0].region, "eu-central");
  EXPECT_EQ(route->candidates[0].why, "home region, rtt 95 ms (read: home_only)");
}

TEST_F(RouterTest, TracesARemoteNameToItsRule) {
  auto route = Resolve(*topo_, {"us-east.orders", "eu-west", ""}, {});
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->upstream, "orders");
  EXPECT_EQ(route->candidates[0].topic, "us-east.orders");
}

TEST_F(RouterTest, DemotesADeadClusterAndPromotesItWhenItAnswersAgain) {
  HealthModel model(HealthOptions{1000ms, 30000ms});
  auto t0 = Clock::time_point{} + 1h;
  for (const char* alias : {"us-east", "eu-west", "eu-central"}) {
    model.Track(alias, t0);
    model.RecordProbe(alias, true, t0);
  }
  EXPECT_EQ(Order("orders", "eu-central", model.Snapshot(t0 + 1000ms)).front(),
            "eu-central:us-east.orders");
  // eu-central stops answering: demoted after two intervals, listed last.
  model.RecordProbe("us-east", true, t0 + 2000ms);
  model.RecordProbe("eu-west", true, t0 + 2000ms);
  EXPECT_EQ(Order("orders", "eu-central", model.Snapshot(t0 + 2000ms)).front(),
            "eu-central:us-east.orders");
  auto down = model.Snapshot(t0 + 2100ms);
  EXPECT_EQ(Order("orders", "eu-central", down),
            (Names{"eu-west:us-east.orders", "us-east:orders", "eu-central:us-east.orders"}));
  auto route = Resolve(*topo_, {"orders", "eu-central", ""}, down);
  EXPECT_FALSE(route->candidates.back().healthy);
  EXPECT_EQ(route->candidates.back().why,
            "local copy; demoted: cluster eu-central no answer to probes for 2100 ms");
  model.RecordProbe("eu-central", true, t0 + 3000ms);
  EXPECT_EQ(Order("orders", "eu-central", model.Snapshot(t0 + 3000ms)).front(),
            "eu-central:us-east.orders");
}

TEST_F(RouterTest, DemotesALaggingCopyAndShowsItsLag) {
  HealthSnapshot health;
  health.SetCopy("eu-central", "us-east.orders", {45000, true});
  health.SetCopy("eu-west", "us-east.orders", {120, false});
  auto route = Resolve(*topo_, {"orders", "eu-central", ""}, health);
  ASSERT_TRUE(route.ok());
  const auto& c = route->candidates;
  EXPECT_EQ(c[0].region, "eu-west");
  EXPECT_EQ(c[0].lag_ms, 120);
  EXPECT_EQ(c[1].region, "us-east");
  EXPECT_EQ(c[2].region, "eu-central");
  EXPECT_EQ(c[2].why, "local copy; demoted: lag 45000 ms > 30000 ms");
}

TEST_F(RouterTest, HintsClientRackWhenTheClusterHasTheClientsZone) {
  auto route = Resolve(*topo_, {"orders", "us-east", "use1-az2"}, {});
  ASSERT_TRUE(route.ok());
  EXPECT_EQ(route->candidates[0].client_rack, "use1-az2");
  EXPECT_EQ(route->candidates[1].client_rack, "");
}

TEST_F(RouterTest, RefusesUnknownRegionsAndTopicsWithoutARule) {
  auto bad_region = Resolve(*topo_, {"orders", "mars", ""}, {});
  ASSERT_FALSE(bad_region.ok());
  EXPECT_EQ(bad_region.error().code, "topology.unknown_region");
  auto two =
      testing::BuildFrom(testing::TwoRegions() + "topics:\n  - topic: a\n    home: us-east\n");
  auto no_rule = Resolve(*two, {"b", "us-east", ""}, {});
  ASSERT_FALSE(no_rule.ok());
  EXPECT_EQ(no_rule.error().code, "topology.no_rule");
}

TEST_F(RouterTest, ListsEveryHomesNamesUnderActiveActive) {
  auto aa = testing::BuildFrom(testing::TwoRegions() +
                               "topics:\n  - topic: sessions\n    home: [us-east, eu-west]\n"
                               "    replicate_to: ['*']\n");
  auto route = Resolve(*aa, {"sessions", "eu-west", ""}, {});
  ASSERT_TRUE(route.ok());
  ASSERT_EQ(route->candidates.size(), 2u);
  EXPECT_EQ(route->candidates[0].topics, (Names{"sessions", "us-east.sessions"}));
  EXPECT_EQ(route->candidates[1].topics, (Names{"sessions", "eu-west.sessions"}));
}

}  // namespace
}  // namespace rm::topology

// Residency in the data path: MayHold answers per topic and region with the deciding rule.
#include "topology/residency.h"

#include <gtest/gtest.h>

#include <thread>

#include "tests/topology/topology_test_util.h"

namespace rm::topology {
namespace {

class ResidencyTest : public ::testing::Test {
 protected:
  ResidencyTest() : guard_(Topology::Load(testing::ThreeRegionsFile().string())) {}
  ResidencyGuard guard_;
};

TEST_F(ResidencyTest, KeepsPersonalDataInsideItsAllowedRegions) {
  auto us = guard_.MayHold("pii.users", "us-east");
  EXPECT_FALSE(us.allowed);
  ASSERT_NE(us.rule, nullptr);
  EXPECT_EQ(us.rule->pattern, "pii\\..*");
  EXPECT_TRUE(guard_.MayHold("pii.users", "eu-central").allowed);
  EXPECT_EQ(guard_.Explain("pii.users", "us-east"),
            "topic 'pii.users' may not be copied to us-east: topics[1] (pattern 'pii\\..*', line "
            "33) allows [eu-*]");
}

TEST_F(ResidencyTest, JudgesARemoteCopyByItsUpstreamTopic) {
  // A flow out of eu-west would read the copy "eu-west.pii.users" in eu-central.
  EXPECT_FALSE(guard_.MayHold("eu-west.pii.users", "us-east").allowed);
  EXPECT_TRUE(guard_.MayHold("us-east.orders", "eu-central").allowed);
}

TEST_F(ResidencyTest, AllowsWhatTheRulesAllowEvenWithoutAPlannedCopy) {
  // clicks (rule '.*') is copied only to eu-west, but nothing forbids a copy in eu-central.
  auto d = guard_.MayHold("clicks", "eu-central");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.rule->pattern, ".*");
}

TEST_F(ResidencyTest, FailsClosedForUnknownRegionsAndUngovernedTopics) {
  EXPECT_FALSE(guard_.MayHold("orders", "mars").allowed);
  auto two =
      testing::BuildFrom(testing::TwoRegions() + "topics:\n  - topic: a\n    home: us-east\n");
  ResidencyGuard g(two);
  auto d = g.MayHold("b", "eu-west");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.rule, nullptr);
  EXPECT_EQ(g.Explain("b", "eu-west"),
            "topic 'b' may not be copied to eu-west: no topic rule governs it");
}

TEST_F(ResidencyTest, GivesTheSameAnswersFromManyThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string topic = "pii.t" + std::to_string((i + t) % 50);
        if (guard_.MayHold(topic, "us-east").allowed) ++wrong;
        if (!guard_.MayHold(topic, "eu-west").allowed) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace rm::topology

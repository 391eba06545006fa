// The health rule with injected time: demoted within two probe intervals, promoted back when
// healthy.
#include "topology/health.h"

#include <gtest/gtest.h>

namespace rm::topology {
namespace {

using namespace std::chrono_literals;

class HealthModelTest : public ::testing::Test {
 protected:
  HealthModel model_{HealthOptions{1000ms, 30000ms}};
  Clock::time_point t0_ = Clock::time_point{} + 1h;
};

TEST_F(HealthModelTest, KnowsNothingBadAboutClustersItNeverHeardOf) {
  HealthSnapshot snap = model_.Snapshot(t0_);
  EXPECT_TRUE(snap.Cluster("us-east").up);
  EXPECT_FALSE(snap.Copy("us-east", "orders").has_value());
}

TEST_F(HealthModelTest, DemotesAClusterThatStopsAnsweringWithinTwoProbeIntervals) {
  model_.Track("us-east", t0_);
  model_.RecordProbe("us-east", true, t0_);
  // Probes hang from here on: nothing is recorded.
  EXPECT_TRUE(model_.Snapshot(t0_ + 1000ms).Cluster("us-east").up);
  EXPECT_TRUE(model_.Snapshot(t0_ + 2000ms).Cluster("us-east").up);
  auto late = model_.Snapshot(t0_ + 2001ms).Cluster("us-east");
  EXPECT_FALSE(late.up);
  EXPECT_EQ(late.why, "no answer to probes for 2001 ms");
}

TEST_F(HealthModelTest, DemotesAClusterAtOnceWhenAProbeFails) {
  model_.Track("us-east", t0_);
  model_.RecordProbe("us-east", true, t0_);
  model_.RecordProbe("us-east", false, t0_ + 1000ms, "Broker transport failure");
  auto s = model_.Snapshot(t0_ + 1000ms).Cluster("us-east");
  EXPECT_FALSE(s.up);
  EXPECT_EQ(s.why, "probe failed: Broker transport failure");
}

TEST_F(HealthModelTest, PromotesAClusterBackAtTheFirstSuccessfulProbe) {
  model_.Track("us-east", t0_);
  model_.RecordProbe("us-east", false, t0_ + 1000ms, "down");
  EXPECT_FALSE(model_.Snapshot(t0_ + 5000ms).Cluster("us-east").up);
  model_.RecordProbe("us-east", true, t0_ + 6000ms);
  EXPECT_TRUE(model_.Snapshot(t0_ + 6000ms).Cluster("us-east").up);
}

TEST_F(HealthModelTest, DemotesATrackedClusterThatNeverAnswered) {
  model_.Track("eu-west", t0_);
  EXPECT_TRUE(model_.Snapshot(t0_ + 1500ms).Cluster("eu-west").up);
  auto s = model_.Snapshot(t0_ + 2500ms).Cluster("eu-west");
  EXPECT_FALSE(s.up);
  EXPECT_EQ(s.why, "never answered a probe (2500 ms)");
}

TEST_F(HealthModelTest, IgnoresAnOlderProbeOutcomeThatArrivesLate) {
  model_.Track("us-east", t0_);
  model_.RecordProbe("us-east", true, t0_ + 2000ms);
  model_.RecordProbe("us-east", false, t0_ + 1000ms, "timed out");
  EXPECT_TRUE(model_.Snapshot(t0_ + 2000ms).Cluster("us-east").up);
  // Nor does an older success undo a newer failure.
  model_.RecordProbe("us-east", false, t0_ + 4000ms, "refused");
  model_.RecordProbe("us-east", true, t0_ + 3000ms);
  EXPECT_FALSE(model_.Snapshot(t0_ + 4000ms).Cluster("us-east").up);
}

TEST_F(HealthModelTest, DemotesACopyLaggingBeyondTheBoundAndPromotesItBack) {
  model_.RecordLag("eu-west", "us-east.orders", 31000ms, t0_);
  auto s = model_.Snapshot(t0_).Copy("eu-west", "us-east.orders");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->lag_ms, 31000);
  EXPECT_TRUE(s->too_far);
  model_.RecordLag("eu-west", "us-east.orders", 200ms, t0_ + 1000ms);
  s = model_.Snapshot(t0_ + 1000ms).Copy("eu-west", "us-east.orders");
  EXPECT_EQ(s->lag_ms, 200);
  EXPECT_FALSE(s->too_far);
}

TEST_F(HealthModelTest, AgesALagReportThatStoppedComing) {
  model_.RecordLag("eu-west", "us-east.orders", 100ms, t0_);
  EXPECT_EQ(model_.Snapshot(t0_ + 2000ms).Copy("eu-west", "us-east.orders")->lag_ms, 100);
  auto s = model_.Snapshot(t0_ + 40000ms).Copy("eu-west", "us-east.orders");
  EXPECT_EQ(s->lag_ms, 40100);
  EXPECT_TRUE(s->too_far);
}

}  // namespace
}  // namespace rm::topology

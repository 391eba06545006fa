// The verdict over a flow's claims (mirror/flow_lease.h): every instance reads the same log in
// the same order and must reach the same owner.
#include "mirror/flow_lease.h"

#include <gtest/gtest.h>

namespace rm::mirror {
namespace {

TEST(FlowOwners, FirstClaimOwnsAndAnotherGroupLosesWhileItRenews) {
  FlowOwners o(30'000);
  EXPECT_TRUE(o.Apply("prod", 1'000));
  EXPECT_FALSE(o.Apply("other", 1'500));
  EXPECT_TRUE(o.Apply("prod", 7'000));
  EXPECT_FALSE(o.Apply("other", 36'000));  // prod claimed 29 s before
  EXPECT_EQ(o.owner(), "prod");
  EXPECT_TRUE(o.OwnerLive(36'000));
}

TEST(FlowOwners, AnotherGroupTakesOverOnceTheOwnerWasSilentForTheLease) {
  FlowOwners o(30'000);
  o.Apply("prod", 1'000);
  EXPECT_FALSE(o.OwnerLive(31'001));
  EXPECT_TRUE(o.Apply("other", 31'001));
  EXPECT_EQ(o.owner(), "other");
  // The old owner's late claim (it was paused) loses: it must stop copying.
  EXPECT_FALSE(o.Apply("prod", 32'000));
  EXPECT_EQ(o.owner(), "other");
}

TEST(FlowOwners, ClaimsOutOfTimestampOrderNeverShortenTheOwnersLease) {
  FlowOwners o(30'000);
  o.Apply("prod", 10'000);
  o.Apply("prod", 9'000);  // another instance of the group, clock a second behind
  EXPECT_FALSE(o.Apply("other", 39'500));
  EXPECT_EQ(o.owner(), "prod");
}

}  // namespace
}  // namespace rm::mirror

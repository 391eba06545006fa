#include "mirror/ownership.h"

#include <gtest/gtest.h>

namespace rm::mirror {
namespace {

TEST(OwnerMark, ReservationRoundTrips) {
  std::string m = EncodeOwnerMark({"host:12:abcd", false, 4711});
  EXPECT_EQ(m, "rm1 reserved=4711 by=host:12:abcd");
  auto back = ParseOwnerMark(m);
  ASSERT_TRUE(back);
  EXPECT_FALSE(back->released);
  EXPECT_EQ(back->reserved, 4711);
  EXPECT_EQ(back->instance, "host:12:abcd");
}

TEST(OwnerMark, ReleaseRoundTrips) {
  auto back = ParseOwnerMark(EncodeOwnerMark({"i", true, -1}));
  ASSERT_TRUE(back);
  EXPECT_TRUE(back->released);
  EXPECT_EQ(back->instance, "i");
}

TEST(OwnerMark, MetadataOfOtherToolsIsNoMark) {
  EXPECT_FALSE(ParseOwnerMark(""));
  EXPECT_FALSE(ParseOwnerMark("some consumer's metadata"));
  EXPECT_FALSE(ParseOwnerMark("rm1 reserved=12x by=i"));
  EXPECT_FALSE(ParseOwnerMark("rm1 reserved=12"));
  EXPECT_FALSE(ParseOwnerMark("rm1 reserved=12 by="));
  EXPECT_FALSE(ParseOwnerMark("rm1 released"));
}

TEST(OwnerMark, ThisInstanceIsStableWithinAProcess) {
  EXPECT_FALSE(ThisInstance().empty());
  EXPECT_EQ(ThisInstance(), ThisInstance());
}

}  // namespace
}  // namespace rm::mirror

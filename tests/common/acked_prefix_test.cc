// AckedPrefix: the prefix covers an event only once it and every event before it was acked ok.
#include "common/acked_prefix.h"

#include <gtest/gtest.h>

#include <array>
#include <cstddef>

namespace rm::common {
namespace {

const Error kBrokerDown{"sink.failed", "broker down"};

// Registers N events and returns their seqs, in order.
template <size_t N>
std::array<uint64_t, N> RegisterEvents(AckedPrefix& p) {
  std::array<uint64_t, N> seqs{};
  for (uint64_t& seq : seqs) seq = p.Register();
  return seqs;
}

TEST(AckedPrefix, InOrderAcksMoveThePrefixOneEventAtATime) {
  AckedPrefix p;
  EXPECT_TRUE(p.Covers(0)) << "nothing registered: the empty prefix is covered";
  const auto [a, b] = RegisterEvents<2>(p);
  EXPECT_EQ(a, 0u);
  EXPECT_EQ(b, 1u);
  EXPECT_EQ(p.registered(), 2u);
  EXPECT_FALSE(p.Covers(1));

  EXPECT_EQ(p.Ack(a, Status::Ok()), 1u);
  EXPECT_TRUE(p.Covers(1));
  EXPECT_FALSE(p.Covers(2));
  EXPECT_EQ(p.Ack(b, Status::Ok()), 1u);
  EXPECT_TRUE(p.Covers(2));
  EXPECT_EQ(p.acked_prefix(), 2u);
  EXPECT_EQ(p.outstanding(), 0u);
  EXPECT_EQ(p.unacked(), 0u);
}

TEST(AckedPrefix, OutOfOrderAcksWaitForTheGapThenMoveThePrefixTogether) {
  AckedPrefix p;
  const auto [a, b, c] = RegisterEvents<3>(p);

  EXPECT_EQ(p.Ack(c, Status::Ok()), 0u);
  EXPECT_EQ(p.Ack(b, Status::Ok()), 0u);
  EXPECT_EQ(p.acked_prefix(), 0u) << "a is not acked";
  EXPECT_EQ(p.outstanding(), 3u) << "b and c wait in the window";
  EXPECT_EQ(p.unacked(), 1u) << "only a is not acked";

  EXPECT_EQ(p.Ack(a, Status::Ok()), 3u) << "the caller learns the prefix crossed all three";
  EXPECT_TRUE(p.Covers(3));
  EXPECT_EQ(p.outstanding(), 0u);
}

TEST(AckedPrefix, AFailedAckFreezesThePrefixForGood) {
  AckedPrefix p;
  const auto [a, b, c] = RegisterEvents<3>(p);
  EXPECT_EQ(p.Ack(a, Status::Ok()), 1u);

  EXPECT_EQ(p.Ack(b, kBrokerDown), 0u);
  EXPECT_EQ(p.Ack(c, Status::Ok()), 0u);
  const uint64_t d = p.Register();
  EXPECT_EQ(p.Ack(d, Status::Ok()), 0u);
  EXPECT_EQ(p.Ack(b, Status::Ok()), 0u) << "a late ok does not thaw it";
  EXPECT_EQ(p.Ack(c, Error{"sink.other", "second failure"}), 0u);

  EXPECT_EQ(p.acked_prefix(), 1u);
  EXPECT_FALSE(p.Covers(2));
  ASSERT_TRUE(p.failure().has_value());
  EXPECT_EQ(p.failure()->code, "sink.failed") << "the first error is kept";
  EXPECT_EQ(p.outstanding(), 3u);
  EXPECT_EQ(p.unacked(), 0u) << "b, c and d were all acked ok in the end";
}

TEST(AckedPrefix, FailWithoutAnEventFreezesThePrefixToo) {
  AckedPrefix p;
  const uint64_t a = p.Register();
  p.Fail(kBrokerDown);
  EXPECT_EQ(p.Ack(a, Status::Ok()), 0u);
  EXPECT_EQ(p.acked_prefix(), 0u);
  ASSERT_TRUE(p.failure().has_value());
  EXPECT_EQ(p.failure()->code, "sink.failed");
}

TEST(AckedPrefix, AcksOutsideTheRegisteredRangeAreIgnored) {
  AckedPrefix p;
  const auto [a, b] = RegisterEvents<2>(p);

  EXPECT_EQ(p.Ack(2, Status::Ok()), 0u) << "never registered";
  EXPECT_EQ(p.Ack(1000, Status::Ok()), 0u);
  EXPECT_EQ(p.unacked(), 2u);
  EXPECT_EQ(p.Ack(7, kBrokerDown), 0u) << "a failure for an unknown event is ignored as well";
  EXPECT_FALSE(p.failure().has_value());

  EXPECT_EQ(p.Ack(b, Status::Ok()), 0u);
  EXPECT_EQ(p.Ack(b, Status::Ok()), 0u) << "duplicate inside the window";
  EXPECT_EQ(p.unacked(), 1u);
  EXPECT_EQ(p.Ack(a, Status::Ok()), 2u);
  EXPECT_EQ(p.Ack(a, Status::Ok()), 0u) << "duplicate behind the prefix";
  EXPECT_EQ(p.Ack(a, kBrokerDown), 0u) << "a failure behind the prefix is ignored";
  EXPECT_FALSE(p.failure().has_value());
  EXPECT_EQ(p.acked_prefix(), 2u);
  EXPECT_EQ(p.registered(), 2u);
}

}  // namespace
}  // namespace rm::common

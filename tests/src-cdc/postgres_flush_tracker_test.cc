// FlushTracker: the confirmed position never passes an unacknowledged record.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "src-cdc/postgres/flush_tracker.h"

namespace rm::cdc::postgres {
namespace {

TEST(FlushTracker, ConfirmsATransactionOnlyAfterAllItsRecordsAreAcked) {
  FlushTracker t;
  auto a = t.Register();
  auto b = t.Register();
  t.AddBoundary(Lsn(100));
  EXPECT_EQ(t.SafeLsn(), Lsn());
  t.Ack(b, common::Status::Ok());  // out of order
  EXPECT_EQ(t.SafeLsn(), Lsn());
  t.Ack(a, common::Status::Ok());
  EXPECT_EQ(t.SafeLsn(), Lsn(100));
  EXPECT_EQ(t.InFlight(), 0u);
}

TEST(FlushTracker, WithheldAckHoldsBackLaterTransactions) {
  FlushTracker t;
  auto a = t.Register();
  t.AddBoundary(Lsn(100));
  auto b = t.Register();
  t.AddBoundary(Lsn(200));
  auto c = t.Register();
  t.AddBoundary(Lsn(300));
  t.Ack(a, common::Status::Ok());
  t.Ack(c, common::Status::Ok());
  EXPECT_EQ(t.SafeLsn(), Lsn(100));  // b is withheld
  EXPECT_EQ(t.InFlight(), 1u);
  t.Ack(b, common::Status::Ok());
  EXPECT_EQ(t.SafeLsn(), Lsn(300));
}

TEST(FlushTracker, IdleBoundaryWithoutRecordsIsSafeImmediately) {
  FlushTracker t;
  t.AddBoundary(Lsn(50));
  EXPECT_EQ(t.SafeLsn(), Lsn(50));
  t.AddBoundary(Lsn(60));
  EXPECT_EQ(t.SafeLsn(), Lsn(60));
}

TEST(FlushTracker, FailedAckFreezesThePositionForGood) {
  FlushTracker t;
  auto a = t.Register();
  t.AddBoundary(Lsn(100));
  auto b = t.Register();
  t.AddBoundary(Lsn(200));
  t.Ack(a, common::Error{"sink.failed", "broker down"});
  t.Ack(b, common::Status::Ok());
  EXPECT_EQ(t.SafeLsn(), Lsn());
  ASSERT_TRUE(t.failure());
  EXPECT_EQ(t.failure()->code, "sink.failed");
  EXPECT_FALSE(t.WaitAllAcked(std::chrono::milliseconds(1)));
}

TEST(FlushTracker, AcksFromManyThreads) {
  FlushTracker t;
  constexpr int kRecords = 20000;
  std::vector<uint64_t> seqs;
  for (int i = 0; i < kRecords; ++i) {
    seqs.push_back(t.Register());
    if (i % 10 == 9) t.AddBoundary(Lsn(i + 1));
  }
  std::vector<std::thread> threads;
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int i = k; i < kRecords; i += 4) t.Ack(seqs[i], common::Status::Ok());
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE(t.WaitAllAcked(std::chrono::seconds(1)));
  EXPECT_EQ(t.SafeLsn(), Lsn(kRecords));
}

}  // namespace
}  // namespace rm::cdc::postgres

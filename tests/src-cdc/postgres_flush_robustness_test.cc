// The confirmed flush position never passes an unacknowledged event, and a capture dropped
// without acks resumes from the confirmed position with nothing missing.
#include <gtest/gtest.h>

#include <set>

#include "tests/src-cdc/postgres_test_support.h"

namespace rm::cdc::postgres::test {
namespace {

using rm::testing::PostgresServer;

std::set<int> Ids(const std::vector<SinkRecord>& records, size_t first, size_t count) {
  std::set<int> ids;
  for (size_t i = first; i < records.size() && i < first + count; ++i) {
    if (!records[i].value) continue;
    Json v = Json::parse(*records[i].value);
    if (v["after"].is_object()) ids.insert(v["after"]["id"].get<int>());
  }
  return ids;
}

uint64_t LsnOf(const SinkRecord& r) { return Json::parse(*r.value)["source"]["lsn"]; }

uint64_t SlotLsn(const PostgresServer& pg) {
  auto lsn = Lsn::Parse(SlotConfirmedLsn(pg));
  return lsn ? lsn->value() : 0;
}

TEST(PostgresFlush, WithheldAcksHoldTheSlotAndARestartResumesWithNothingMissing) {
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY, v int)");
  auto cfg = TestConfig(pg, {"t"});
  cfg.capture.snapshot_mode = SnapshotMode::kNever;
  cfg.capture.shutdown_timeout = std::chrono::milliseconds(200);
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());

  std::vector<SinkRecord> first_run;
  size_t first_acked = 0;
  {
    MemorySink sink;
    sink.WithholdAfter(4);
    CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
    ASSERT_TRUE(WaitFor([&] { return run.probe().streaming(); }));
    for (int i = 1; i <= 10; ++i) pg.Exec("INSERT INTO t VALUES (" + std::to_string(i) + ", 0)");
    ASSERT_TRUE(WaitFor([&] { return sink.size() >= 10; }));
    // Heartbeats and keepalives keep coming; give the capture many status intervals.
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    first_run = sink.records();
    first_acked = sink.acked_count();
    ASSERT_EQ(first_acked, 4u);
    uint64_t confirmed = SlotLsn(pg);
    EXPECT_GE(confirmed, LsnOf(first_run[3])) << "acked transactions should be confirmed";
    // A commit's end LSN is where the next transaction's first record starts: confirming up to
    // it still makes the server resend that transaction.
    EXPECT_LE(confirmed, LsnOf(first_run[4])) << "confirmed past an unacknowledged event";
    EXPECT_LE(run.capture().confirmed_lsn().value(), LsnOf(first_run[4]));
    // Simulated crash: the capture goes away and the withheld acks never arrive.
    EXPECT_TRUE(run.Stop().ok());
    EXPECT_LE(SlotLsn(pg), LsnOf(first_run[4]));
  }

  for (int i = 11; i <= 13; ++i) pg.Exec("INSERT INTO t VALUES (" + std::to_string(i) + ", 1)");
  MemorySink sink;
  CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
  ASSERT_TRUE(WaitCaughtUp(pg));
  ASSERT_TRUE(run.Stop().ok());

  std::set<int> seen = Ids(first_run, 0, first_acked);
  auto second = Ids(sink.records(), 0, SIZE_MAX);
  for (int i = 5; i <= 13; ++i) EXPECT_TRUE(second.count(i)) << "id " << i << " not resent";
  seen.insert(second.begin(), second.end());
  EXPECT_EQ(seen.size(), 13u);
}

TEST(PostgresFlush, FailedAckStopsTheCaptureWithoutConfirmingIt) {
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY)");
  auto cfg = TestConfig(pg, {"t"});
  cfg.capture.snapshot_mode = SnapshotMode::kNever;
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());
  MemorySink sink(MemorySink::Mode::kImmediate);
  CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
  ASSERT_TRUE(WaitFor([&] { return run.probe().streaming(); }));
  pg.Exec("INSERT INTO t VALUES (1)");
  ASSERT_TRUE(WaitCaughtUp(pg));
  sink.FailNext();
  pg.Exec("INSERT INTO t VALUES (2)");
  auto st = run.Join(std::chrono::seconds(30));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "sink.failed");
  auto records = sink.records();
  ASSERT_EQ(records.size(), 2u);
  EXPECT_LE(SlotLsn(pg), LsnOf(records[1]));
}

// Once caught up, the capture confirms what was acked at once instead of at its next status
// update: a drained backlog's WAL is released, and the slot shows the position, without waiting
// out status_interval_ms.
TEST(PostgresFlush, ACaughtUpCaptureConfirmsAckedChangesBeforeItsNextStatusUpdate) {
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY)");
  auto cfg = TestConfig(pg, {"t"});
  cfg.capture.snapshot_mode = SnapshotMode::kNever;
  cfg.capture.status_interval = std::chrono::seconds(30);         // the longest a config may set
  cfg.capture.heartbeat_interval = std::chrono::milliseconds(0);  // no transactions of its own
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());
  MemorySink sink;  // acks after Produce() returned, from another thread, as Kafka's do
  CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
  ASSERT_TRUE(WaitFor([&] { return run.probe().streaming(); }));
  // The interval's first update went out as streaming started: the next is 30 s away (and so is
  // the server's own request for one, at half its 60 s wal_sender_timeout).
  for (int i = 1; i <= 3; ++i) pg.Exec("INSERT INTO t VALUES (" + std::to_string(i) + ")");
  EXPECT_TRUE(WaitCaughtUp(pg, std::chrono::seconds(10)));
  EXPECT_EQ(sink.acked_count(), 3u);
  EXPECT_TRUE(run.Stop().ok());
}

}  // namespace
}  // namespace rm::cdc::postgres::test

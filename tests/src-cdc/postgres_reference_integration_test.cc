// Our events checked against Postgres's own decoder (test_decoding, on a second slot), and
// a pgbench workload rebuilt from the events.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "tests/src-cdc/postgres_test_support.h"

namespace rm::cdc::postgres::test {
namespace {

using rm::testing::PostgresServer;

TEST(PostgresReference, EventsMatchTestDecodingChangeForChange) {
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY, name text, amount numeric(10,2), flag boolean)");
  auto cfg = TestConfig(pg, {"t"});
  cfg.capture.snapshot_mode = SnapshotMode::kNever;
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());
  pg.Exec("SELECT pg_create_logical_replication_slot('reference', 'test_decoding')");

  MemorySink sink;
  CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
  ASSERT_TRUE(WaitFor([&] { return run.probe().streaming(); }));
  pg.Exec(
      "INSERT INTO t VALUES (1, 'one', 1.50, true), (2, 'it''s two', NULL, false);"
      "BEGIN; UPDATE t SET name = 'uno' WHERE id = 1; INSERT INTO t VALUES (3, '', 0, NULL);"
      "DELETE FROM t WHERE id = 2; COMMIT;"
      "BEGIN; INSERT INTO t VALUES (4, 'rolled back', 1, true); ROLLBACK;"
      "UPDATE t SET id = 100 WHERE id = 3;"
      "UPDATE t SET amount = amount + 1;"
      "INSERT INTO t SELECT i, 'bulk ' || i, i * 0.25, i % 2 = 0 FROM generate_series(10, 60) i;"
      "DELETE FROM t WHERE id % 3 = 0;");
  ASSERT_TRUE(WaitCaughtUp(pg));
  ASSERT_TRUE(run.Stop().ok());

  auto reference = ReferenceChanges(pg, "public.t");
  auto ours = OurChanges(sink.records(), "pg.public.t");
  ASSERT_GT(reference.size(), 60u);
  ASSERT_EQ(ours.size(), reference.size());
  for (size_t i = 0; i < ours.size(); ++i) {
    ASSERT_EQ(ours[i], reference[i]) << "change " << i;
  }
}

TEST(PostgresReference, PgbenchStateRebuiltFromEventsEqualsTheTables) {
  PostgresServer pg({.extra_conf = {"max_wal_size = 1GB"}});
  pg.Pgbench({"-i", "-q", "-s", "1"});
  auto cfg = TestConfig(
      pg, {"pgbench_accounts", "pgbench_branches", "pgbench_tellers", "pgbench_history"});
  cfg.capture.snapshot_chunk_rows = 10000;
  auto report = ProvisionFor(pg, cfg);
  ASSERT_TRUE(report.ok()) << report.Format();

  MemorySink sink;
  CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
  // pgbench runs while the snapshot is read: the snapshot and the stream must join exactly.
  auto start = std::chrono::steady_clock::now();
  std::string out = pg.Pgbench({"-c", "4", "-j", "2", "-T", "10", "-n"});
  ASSERT_TRUE(WaitCaughtUp(pg, std::chrono::seconds(300)));
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(run.Stop().ok());
  auto records = sink.records();

  uint64_t streamed = run.probe().events_produced() - run.probe().snapshot_rows();
  std::smatch m;
  std::string tps = std::regex_search(out, m, std::regex("tps = ([0-9.]+)")) ? m[1].str() : "?";
  std::cout << "pgbench tps " << tps << "; captured " << run.probe().events_produced()
            << " records (" << run.probe().snapshot_rows() << " snapshot rows) in " << secs
            << " s: " << static_cast<uint64_t>(streamed / secs) << " streamed records/s\n";
  ::testing::Test::RecordProperty("streamed_records_per_s", static_cast<int>(streamed / secs));

  ExpectPgbenchStateMatches(pg, records);
  // History has no primary key (null Kafka keys): compare counts and sums.
  auto history = Envelopes(records, "pg.public.pgbench_history");
  int64_t delta_sum = 0;
  for (const auto& e : history) delta_sum += e["after"]["delta"].get<int64_t>();
  EXPECT_EQ(std::to_string(history.size()), pg.QueryValue("SELECT count(*) FROM pgbench_history"));
  EXPECT_EQ(std::to_string(delta_sum),
            pg.QueryValue("SELECT coalesce(sum(delta), 0) FROM pgbench_history"));

  // Order per key: snapshot first, then streamed changes in WAL order.
  std::map<std::string, uint64_t> last_lsn;
  std::map<std::string, bool> streamed_seen;
  for (const auto& r : records) {
    if (!r.value || !r.key) continue;
    Json v = Json::parse(*r.value);
    std::string k = r.topic + *r.key;
    bool snapshot = v["op"] == "r";
    if (snapshot) {
      EXPECT_FALSE(streamed_seen[k]) << "snapshot row after a change of " << k;
      continue;
    }
    uint64_t lsn = v["source"]["lsn"].get<uint64_t>();
    EXPECT_GE(lsn, last_lsn[k]) << k;
    last_lsn[k] = lsn;
    streamed_seen[k] = true;
  }
}

}  // namespace
}  // namespace rm::cdc::postgres::test

// Bad input gives one clear error and leaves nothing half-made behind.
#include <gtest/gtest.h>

#include "tests/src-cdc/postgres_test_support.h"
#include "tests/support/process.h"

namespace rm::cdc::postgres::test {
namespace {

using rm::testing::PostgresServer;

// Nothing provisioning could have created exists.
void ExpectNothingCreated(const PostgresServer& pg, const std::string& role = "capture") {
  EXPECT_EQ(pg.QueryValue("SELECT count(*) FROM pg_replication_slots"), "0");
  EXPECT_EQ(pg.QueryValue("SELECT count(*) FROM pg_publication"), "0");
  EXPECT_EQ(pg.QueryValue("SELECT to_regclass('public.regionmirror_heartbeat') IS NULL"), "t");
  EXPECT_EQ(pg.QueryValue("SELECT count(*) FROM pg_roles WHERE rolname = '" + role + "'"), "0");
}

TEST(PostgresBadInput, WrongPasswordIsAClearErrorAndLeaksNothing) {
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY)");
  auto cfg = TestConfig(pg, {"t"});
  cfg.capture.connection.user = "capture";
  ASSERT_TRUE(ProvisionFor(pg, cfg, std::string("right-password")).ok());
  MemorySink sink;
  PostgresCapture capture(cfg.capture, ParamsFor(pg, "capture", "wrong-password"), sink);
  std::atomic<bool> stop{false};
  auto st = capture.Run(stop);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "pg.connect");
  EXPECT_NE(st.error().message.find("password authentication failed"), std::string::npos)
      << st.error().message;
  EXPECT_EQ(st.error().message.find("wrong-password"), std::string::npos);
  EXPECT_EQ(sink.size(), 0u);
  // The right password works, and the snapshot state was not touched by the failed attempt.
  EXPECT_EQ(pg.QueryValue("SELECT count(*) FROM regionmirror_heartbeat"), "0");
}

TEST(PostgresBadInput, MissingTableFailsProvisioningBeforeAnyChange) {
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY)");
  auto cfg = TestConfig(pg, {"t", "public.nope"});
  cfg.capture.connection.user = "capture";
  auto report = ProvisionFor(pg, cfg, std::string("pw"));
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.Format().find("[failed] tables: public.nope not found"), std::string::npos)
      << report.Format();
  ExpectNothingCreated(pg);

  MemorySink sink;
  PostgresCapture capture(cfg.capture, ParamsFor(pg), sink);
  std::atomic<bool> stop{false};
  auto st = capture.Run(stop);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "pg.missing_table");
  EXPECT_NE(st.error().message.find("public.nope"), std::string::npos);
  ExpectNothingCreated(pg);
}

TEST(PostgresBadInput, WalLevelReplicaSaysWhatToChange) {
  PostgresServer pg({.wal_level = "replica"});
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY)");
  auto cfg = TestConfig(pg, {"t"});
  cfg.capture.connection.user = "capture";
  auto report = ProvisionFor(pg, cfg, std::string("pw"));
  ASSERT_FALSE(report.ok());
  std::string text = report.Format();
  EXPECT_NE(text.find("wal_level = logical"), std::string::npos) << text;
  EXPECT_NE(text.find("postgresql.conf"), std::string::npos) << text;
  EXPECT_NE(text.find("restart"), std::string::npos) << text;
  ExpectNothingCreated(pg);

  MemorySink sink;
  PostgresCapture capture(cfg.capture, ParamsFor(pg), sink);
  std::atomic<bool> stop{false};
  auto st = capture.Run(stop);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "pg.wal_level");
  EXPECT_NE(st.error().message.find("restart"), std::string::npos);
}

TEST(PostgresBadInput, SlotHeldByAnotherProcessIsReportedWithItsPid) {
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY)");
  auto cfg = TestConfig(pg, {"t"});
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());
  rm::testing::ChildProcess holder(
      {(PostgresServer::BinDir() / "pg_recvlogical").string(), "-h", pg.host(), "-p",
       std::to_string(pg.port()), "-U", "postgres", "-d", "postgres", "-S", "regionmirror",
       "--start", "-o", "proto_version=1", "-o", "publication_names=regionmirror", "-f",
       "/dev/null"},
      (pg.dir() / "recvlogical.log").string());
  ASSERT_TRUE(WaitFor([&] {
    return pg.QueryValue(
               "SELECT active FROM pg_replication_slots WHERE slot_name = "
               "'regionmirror'") == "t";
  }));
  std::string pid = pg.QueryValue("SELECT active_pid FROM pg_replication_slots");

  MemorySink sink;
  PostgresCapture capture(cfg.capture, ParamsFor(pg), sink);
  std::atomic<bool> stop{false};
  auto st = capture.Run(stop);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "pg.slot_active");
  EXPECT_NE(st.error().message.find(pid), std::string::npos) << st.error().message;
  // The slot is untouched and no snapshot was recorded.
  EXPECT_EQ(pg.QueryValue("SELECT count(*) FROM pg_replication_slots"), "1");
  EXPECT_EQ(pg.QueryValue("SELECT count(*) FROM regionmirror_heartbeat WHERE "
                          "snapshot_completed_at IS NOT NULL"),
            "0");
  EXPECT_EQ(sink.size(), 0u);
}

TEST(PostgresBadInput, ProvisioningFailureLateRollsBackEverythingItMade) {
  PostgresServer pg;
  // A view exists (passes the table check) but cannot be published: the publication step
  // fails after the slot, role, heartbeat table and grants were made.
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY); CREATE VIEW v AS SELECT * FROM t");
  auto cfg = TestConfig(pg, {"t", "v"});
  cfg.capture.connection.user = "capture";
  auto report = ProvisionFor(pg, cfg, std::string("pw"));
  std::string text = report.Format();
  ASSERT_FALSE(report.ok()) << text;
  EXPECT_NE(text.find("[failed] publication regionmirror"), std::string::npos) << text;
  EXPECT_NE(text.find("[rolled back] slot regionmirror"), std::string::npos) << text;
  ExpectNothingCreated(pg);
}

}  // namespace
}  // namespace rm::cdc::postgres::test

// Provisioning: dry run changes nothing, a run creates everything with least privileges, a
// second run finds everything done; the CLI entry points.
#include <gtest/gtest.h>

#include <cstdlib>
#include <sstream>

#include "src-cdc/postgres/migration_check.h"
#include "tests/src-cdc/postgres_test_support.h"
#include "tests/util/test_util.h"

namespace rm::cdc::postgres::test {
namespace {

using rm::testing::PostgresServer;

TEST(PostgresProvision, DryRunThenRunThenAlreadyDone) {
  PostgresServer pg;
  pg.Exec(
      "CREATE SCHEMA sales; CREATE TABLE sales.orders (id int PRIMARY KEY, note text);"
      "CREATE TABLE secret (id int PRIMARY KEY)");
  auto cfg = TestConfig(pg, {"sales.orders"});
  cfg.capture.connection.user = "capture";
  cfg.capture.connection.password.env = "RM_TEST_CAPTURE_PW";

  auto dry = ProvisionFor(pg, cfg, std::string("Sup3r-secret"), true);
  ASSERT_TRUE(dry.ok()) << dry.Format();
  std::string dry_text = dry.Format();
  EXPECT_NE(dry_text.find("[would do] role capture"), std::string::npos) << dry_text;
  EXPECT_NE(dry_text.find("[would do] publication regionmirror: CREATE PUBLICATION"),
            std::string::npos);
  EXPECT_NE(dry_text.find("environment variable RM_TEST_CAPTURE_PW"), std::string::npos);
  EXPECT_EQ(dry_text.find("Sup3r-secret"), std::string::npos);
  EXPECT_EQ(pg.QueryValue("SELECT count(*) FROM pg_replication_slots"), "0");
  EXPECT_EQ(pg.QueryValue("SELECT count(*) FROM pg_roles WHERE rolname = 'capture'"), "0");

  auto run = ProvisionFor(pg, cfg, std::string("Sup3r-secret"));
  ASSERT_TRUE(run.ok()) << run.Format();
  EXPECT_EQ(run.Format().find("Sup3r-secret"), std::string::npos);
  EXPECT_EQ(pg.QueryValue("SELECT plugin FROM pg_replication_slots"), "pgoutput");
  EXPECT_EQ(pg.QueryValue("SELECT rolreplication AND rolcanlogin AND NOT rolsuper FROM pg_roles "
                          "WHERE rolname = 'capture'"),
            "t");
  EXPECT_EQ(
      pg.QueryValue(
          "SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY schemaname, tablename) "
          "FROM pg_publication_tables"),
      "public.regionmirror_heartbeat,sales.orders");
  // Least privilege: read the captured table, nothing else.
  EXPECT_EQ(pg.QueryValue("SELECT has_table_privilege('capture', 'sales.orders', 'SELECT')"), "t");
  EXPECT_EQ(pg.QueryValue("SELECT has_table_privilege('capture', 'sales.orders', 'INSERT')"), "f");
  EXPECT_EQ(pg.QueryValue("SELECT has_table_privilege('capture', 'secret', 'SELECT')"), "f");

  auto again = ProvisionFor(pg, cfg, std::string("Sup3r-secret"));
  ASSERT_TRUE(again.ok()) << again.Format();
  for (const auto& s : again.steps) {
    if (s.step == "connect" || s.step == "topics") continue;
    EXPECT_EQ(s.outcome, StepOutcome::kAlreadyDone) << s.step << ": " << s.detail;
  }

  // The capture role can run the capture with its password.
  pg.Exec("INSERT INTO sales.orders VALUES (1, 'a')");
  MemorySink sink;
  CaptureRunner capture(cfg.capture, ParamsFor(pg, "capture", std::string("Sup3r-secret")), sink);
  ASSERT_TRUE(WaitFor([&] { return capture.probe().streaming() || capture.done(); }));
  pg.Exec("INSERT INTO sales.orders VALUES (2, 'b')");
  ASSERT_TRUE(WaitCaughtUp(pg));
  auto st = capture.Stop();
  ASSERT_TRUE(st.ok()) << st.error().message;
  auto orders = Envelopes(sink.records(), "pg.sales.orders");
  ASSERT_EQ(orders.size(), 2u) << (orders.empty() ? "" : orders[0].dump());
  EXPECT_EQ(orders[0]["op"], "r");
  EXPECT_EQ(orders[1]["op"], "c");

  // Adding a table later updates the publication.
  pg.Exec("CREATE TABLE sales.items (id int PRIMARY KEY)");
  cfg.capture.tables.push_back(TableName{"sales", "items"});
  auto widened = ProvisionFor(pg, cfg, std::string("Sup3r-secret"));
  ASSERT_TRUE(widened.ok()) << widened.Format();
  EXPECT_NE(widened.Format().find("[done] publication regionmirror: table list updated"),
            std::string::npos)
      << widened.Format();
}

TEST(PostgresProvision, CliEntryPointsReadTheConfigFile) {
  PostgresServer pg;
  pg.Exec("CREATE TABLE orders (id bigint PRIMARY KEY, note text)");
  rm::testing::TempDir dir;
  rm::testing::WriteFile(dir / "cdc.yaml",
                         "postgres:\n"
                         "  connection:\n"
                         "    host: 127.0.0.1\n"
                         "    port: " +
                             std::to_string(pg.port()) +
                             "\n"
                             "    dbname: postgres\n"
                             "    user: capture\n"
                             "    password_file: " +
                             (dir / "pw").string() +
                             "\n"
                             "    sslmode: disable\n"
                             "  admin:\n"
                             "    user: postgres\n"
                             "  tables: [orders]\n"
                             "  topic_prefix: app\n");
  rm::testing::WriteFile(dir / "pw", "file-secret\n");
  std::ostringstream dry;
  EXPECT_EQ(RunProvision(dir / "cdc.yaml", true, dry), 0) << dry.str();
  EXPECT_NE(dry.str().find("[would do]"), std::string::npos);
  std::ostringstream out;
  EXPECT_EQ(RunProvision(dir / "cdc.yaml", false, out), 0) << out.str();
  EXPECT_EQ(out.str().find("file-secret"), std::string::npos);

  rm::testing::WriteFile(dir / "bad.sql",
                         "ALTER TABLE orders ADD COLUMN x int;\n"
                         "ALTER TABLE orders ALTER COLUMN id TYPE int;\n");
  rm::testing::WriteFile(dir / "good.sql", "CREATE INDEX ON orders (note);\n");
  std::ostringstream check;
  EXPECT_EQ(RunCheckMigration(dir / "bad.sql", dir / "cdc.yaml", check), 1) << check.str();
  EXPECT_NE(check.str().find("statement 2 (line 2)"), std::string::npos) << check.str();
  EXPECT_NE(check.str().find("primary key column id"), std::string::npos) << check.str();
  std::ostringstream good;
  EXPECT_EQ(RunCheckMigration(dir / "good.sql", dir / "cdc.yaml", good), 0) << good.str();
}

}  // namespace
}  // namespace rm::cdc::postgres::test

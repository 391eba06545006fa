// The `regionmirror cdc postgres ...` and `cdc check-migration` commands, run as the binary:
// provisioning (dry run, then for real, then again), capture into the testbed with the admin
// API's /metrics and /healthz, a clean stop on SIGTERM, and clear errors with non-zero exits.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "testbed/control_client.h"
#include "tests/src-cdc/postgres_test_support.h"
#include "tests/support/kafka_helpers.h"
#include "tests/support/process.h"
#include "tests/support/testbed_fixture.h"
#include "tests/util/test_util.h"

namespace rm::cdc::postgres::test {
namespace {

using namespace std::chrono_literals;
using rm::testing::PostgresServer;
using rm::testing::RegionmirrorPath;
using rm::testing::RunCommand;

std::string Yaml(const PostgresServer& pg, const std::string& kafka_section) {
  return fmt::format(R"(postgres:
  connection:
    host: {}
    port: {}
    dbname: postgres
    user: capture
    password_env: RM_TEST_CAPTURE_PASSWORD
    sslmode: disable
  tables: [t]
  topic_prefix: pg
  status_interval_ms: 100
  heartbeat_interval_ms: 500
{}admin:
  port: 0
)",
                     pg.host(), pg.port(), kafka_section);
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The value of the sample `name{slot="regionmirror"}` in a Prometheus text page, or -1.
double Sample(const std::string& page, const std::string& name) {
  std::regex re(name + R"(\{slot="regionmirror"\} ([0-9.e+]+))");
  std::smatch m;
  return std::regex_search(page, m, re) ? std::stod(m[1].str()) : -1;
}

TEST(PostgresCli, ProvisionRunAndStopThroughTheBinary) {
  rm::testing::TempDir tmp;
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')");
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  tb.CreateTopic("us-east", "pg.public.t", 2);
  const std::string config = (tmp / "cdc.yaml").string();
  rm::testing::WriteFile(
      config, Yaml(pg, fmt::format("kafka:\n  bootstrap_servers: \"{}\"\n  topic_partitions: 2\n",
                                   tb.Bootstrap("us-east"))));
  const std::map<std::string, std::string> env = {{"RM_TEST_CAPTURE_PASSWORD", "pw-xyzzy"}};
  const std::string bin = RegionmirrorPath();

  auto dry =
      RunCommand({bin, "cdc", "postgres", "provision", "--config", config, "--dry-run"}, 60s, env);
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
  EXPECT_NE(dry.output.find("would do"), std::string::npos) << dry.output;
  EXPECT_EQ(pg.QueryValue("SELECT count(*) FROM pg_roles WHERE rolname = 'capture'"), "0");

  auto first = RunCommand({bin, "cdc", "postgres", "provision", "--config", config}, 60s, env);
  ASSERT_EQ(first.exit_code, 0) << first.output;
  // The topic made through the testbed exists: the topics step leaves it alone.
  EXPECT_NE(first.output.find("exist: pg.public.t"), std::string::npos) << first.output;
  auto again = RunCommand({bin, "cdc", "postgres", "provision", "--config", config}, 60s, env);
  EXPECT_EQ(again.exit_code, 0) << again.output;
  // Nothing left to do but connect.
  EXPECT_EQ(again.output.find("\n[done]"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("pw-xyzzy"), std::string::npos);

  const std::string log = (tmp / "run.log").string();
  rm::testing::ChildProcess run({bin, "cdc", "postgres", "run", "--config", config}, log, env);
  std::string address;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::smatch m;
        std::string text = ReadFile(log);
        static const std::regex re("admin API on http://([0-9.]+:[0-9]+)");
        if (!std::regex_search(text, m, re)) return false;
        address = m[1].str();
        return true;
      },
      30s))
      << ReadFile(log);
  testbed::ControlClient admin(address);
  ASSERT_TRUE(WaitFor([&] {
    auto page = admin.Request("GET", "/metrics", "");
    return page.ok() && Sample(page->second, "rm_cdc_postgres_streaming") == 1;
  }));
  pg.Exec("INSERT INTO t VALUES (2, 'b'); UPDATE t SET v = 'c' WHERE id = 1");
  ASSERT_TRUE(WaitCaughtUp(pg, 60s)) << ReadFile(log);

  // 1 snapshot row, 1 insert, 1 update: all produced and acked, the slot at the WAL end.
  std::string page;
  ASSERT_TRUE(WaitFor([&] {
    auto r = admin.Request("GET", "/metrics", "");
    if (!r.ok()) return false;
    page = r->second;
    return Sample(page, "rm_cdc_postgres_events_acked_total") == 3 &&
           Sample(page, "rm_cdc_postgres_confirmed_flush_lsn") > 0;
  })) << page;
  EXPECT_EQ(Sample(page, "rm_cdc_postgres_events_produced_total"), 3) << page;
  EXPECT_EQ(Sample(page, "rm_cdc_postgres_events_failed_total"), 0) << page;
  EXPECT_EQ(Sample(page, "rm_cdc_postgres_snapshot_rows_total"), 1) << page;
  EXPECT_EQ(Sample(page, "rm_cdc_postgres_inflight_events"), 0) << page;
  for (const char* name : {"rm_cdc_postgres_slot_lag_bytes", "rm_cdc_postgres_events_per_second",
                           "rm_cdc_postgres_received_lsn"}) {
    EXPECT_GE(Sample(page, name), 0) << name << " missing:\n" << page;
  }
  EXPECT_GE(Sample(page, "rm_cdc_postgres_received_lsn"),
            Sample(page, "rm_cdc_postgres_confirmed_flush_lsn"));
  auto health = admin.Request("GET", "/healthz", "");
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->first, 200) << health->second;

  run.Signal(SIGTERM);
  auto rc = run.Wait(30s);
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(*rc, 0) << ReadFile(log);
  EXPECT_EQ(ReadFile(log).find("pw-xyzzy"), std::string::npos);
  auto stored = rm::testing::ConsumeWithOurClient(tb.Bootstrap("us-east"), "pg.public.t", 3);
  EXPECT_EQ(stored.size(), 3u);
}

TEST(PostgresCli, RunFailsWithOneClearLineWhenItCannotCapture) {
  rm::testing::TempDir tmp;
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY)");
  const std::string bin = RegionmirrorPath();
  const std::map<std::string, std::string> env = {{"RM_TEST_CAPTURE_PASSWORD", "pw-plugh"}};

  // No kafka section: refused before connecting anywhere.
  const std::string no_kafka = (tmp / "no-kafka.yaml").string();
  rm::testing::WriteFile(no_kafka, Yaml(pg, ""));
  auto r = RunCommand({bin, "cdc", "postgres", "run", "--config", no_kafka}, 30s, env);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("kafka: required section is missing"), std::string::npos) << r.output;

  // Not provisioned (no role, slot or publication): Run() fails, the process says why.
  const std::string config = (tmp / "cdc.yaml").string();
  rm::testing::WriteFile(config, Yaml(pg, "kafka:\n  bootstrap_servers: \"127.0.0.1:1\"\n"));
  r = RunCommand({bin, "cdc", "postgres", "run", "--config", config}, 60s, env);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("cdc postgres run: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[pg.connect]"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("pw-plugh"), std::string::npos) << "a password in the output";

  // A flag of another subcommand, and a missing --config: usage errors.
  r = RunCommand({bin, "cdc", "postgres", "run", "--config", config, "--dry-run"}, 30s, env);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = RunCommand({bin, "cdc", "postgres", "provision"}, 30s, env);
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("--config is required"), std::string::npos) << r.output;
}

TEST(PostgresCli, CheckMigrationExitCodeSaysWhetherTheMigrationIsSafe) {
  rm::testing::TempDir tmp;
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  pg.CreateRole("capture", "pw");
  const std::string config = (tmp / "cdc.yaml").string();
  rm::testing::WriteFile(config, Yaml(pg, ""));
  rm::testing::WriteFile(tmp / "safe.sql", "ALTER TABLE t ADD COLUMN w int;");
  rm::testing::WriteFile(tmp / "breaks.sql", "ALTER TABLE t DROP COLUMN id;");
  const std::string bin = RegionmirrorPath();
  const std::map<std::string, std::string> env = {{"RM_TEST_CAPTURE_PASSWORD", "pw"}};

  auto safe = RunCommand(
      {bin, "cdc", "check-migration", (tmp / "safe.sql").string(), "--config", config}, 30s, env);
  EXPECT_EQ(safe.exit_code, 0) << safe.output;
  auto breaks = RunCommand(
      {bin, "cdc", "check-migration", (tmp / "breaks.sql").string(), "--config", config}, 30s, env);
  EXPECT_EQ(breaks.exit_code, 1) << breaks.output;
  EXPECT_NE(breaks.output.find("id"), std::string::npos) << breaks.output;
  auto missing = RunCommand(
      {bin, "cdc", "check-migration", (tmp / "nope.sql").string(), "--config", config}, 30s, env);
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
}

}  // namespace
}  // namespace rm::cdc::postgres::test

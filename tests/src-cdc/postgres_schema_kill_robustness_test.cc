// kill -9 of `regionmirror cdc postgres run` with schema history on, while rows are inserted
// and tables altered (compatible changes, then an incompatible one that stops its table until
// `accept-schema`): the history topic replays identically (every key has one value, however
// often it was written), versions are contiguous with increasing positions, and every event
// in Kafka carries the version whose columns it has; no row of the altered table is missing.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "src-cdc/schema_history.h"
#include "tests/src-cdc/postgres_test_support.h"
#include "tests/support/kafka_helpers.h"
#include "tests/support/process.h"
#include "tests/support/testbed_fixture.h"
#include "tests/util/test_util.h"

namespace rm::cdc::postgres::test {
namespace {

using namespace std::chrono_literals;
using rm::testing::ChildProcess;
using rm::testing::PostgresServer;
using rm::testing::ReadFile;

std::string ConfigYaml(const PostgresServer& pg, const std::string& bootstrap) {
  return fmt::format(R"(postgres:
  connection:
    host: {}
    port: {}
    dbname: postgres
    user: postgres
    sslmode: disable
  tables: [t1, t2]
  topic_prefix: pg
  status_interval_ms: 100
  heartbeat_interval_ms: 500
  shutdown_timeout_ms: 5000
  schema:
    envelope: json_with_schema
    history: true
    accept_poll_ms: 200
kafka:
  bootstrap_servers: "{}"
  # A long linger keeps records unacknowledged for a while, so kills find some in flight.
  properties: {{compression.type: lz4, linger.ms: "100"}}
admin:
  port: -1
)",
                     pg.host(), pg.port(), bootstrap);
}

TEST(PostgresSchemaKill, HistoryReplaysIdenticallyAcrossKillNineAndEventsKeepTheirVersions) {
  rm::testing::TempDir tmp;
  PostgresServer pg;
  pg.Exec(
      "CREATE TABLE t1 (id serial PRIMARY KEY, v text DEFAULT 'x', n int DEFAULT 1);"
      "CREATE TABLE t2 (id serial PRIMARY KEY, v text DEFAULT 'y');"
      "INSERT INTO t1 DEFAULT VALUES; INSERT INTO t2 DEFAULT VALUES");
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  const std::string bootstrap = tb.Bootstrap("us-east");
  tb.CreateTopic("us-east", "pg.public.t1", 2);
  tb.CreateTopic("us-east", "pg.public.t2", 2);
  tb.CreateTopic("us-east", "pg.schema-history", 1);
  const std::string config = (tmp / "cdc.yaml").string();
  rm::testing::WriteFile(config, ConfigYaml(pg, bootstrap));
  const std::string log = (tmp / "capture.log").string();
  auto provision = rm::testing::RunCommand(
      {rm::testing::RegionmirrorPath(), "cdc", "postgres", "provision", "--config", config}, 60s);
  ASSERT_EQ(provision.exit_code, 0) << provision.output;

  const std::vector<std::string> run_argv = {
      rm::testing::RegionmirrorPath(), "cdc", "postgres", "run", "--config", config};
  auto capture = std::make_unique<ChildProcess>(run_argv, log);
  std::atomic<bool> stop_load{false};
  std::atomic<int> rounds{0};
  std::thread load([&] {
    while (!stop_load) {
      pg.Exec("INSERT INTO t1 DEFAULT VALUES");
      pg.Exec("INSERT INTO t2 DEFAULT VALUES");
      ++rounds;
    }
  });
  // A run that exits by itself (e.g. the server has not yet noticed the killed walsender:
  // pg.slot_active) is started again while the test waits, as a supervisor would.
  int self_exits = 0;
  auto supervise = [&] {
    if (capture->running()) return;
    ++self_exits;
    capture = std::make_unique<ChildProcess>(run_argv, log);
  };
  auto wait_rounds = [&](int n) {
    int target = rounds + n;
    return WaitFor([&] {
      supervise();
      return rounds >= target;
    });
  };
  const unsigned seed = std::random_device{}();
  std::cout << "kill moments seed: " << seed << "\n";
  std::mt19937 rng(seed);
  int kills = 0;
  // Kills the capture after a random delay and starts it again (as a supervisor would).
  auto kill_and_restart = [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 900));
    if (capture->running()) {
      capture->Kill();
      ++kills;
    }
    capture = std::make_unique<ChildProcess>(run_argv, log);
  };

  ASSERT_TRUE(wait_rounds(20));
  pg.Exec("ALTER TABLE t1 ADD COLUMN a text");
  kill_and_restart();
  ASSERT_TRUE(wait_rounds(20));
  pg.Exec("ALTER TABLE t1 ADD COLUMN b int NOT NULL DEFAULT 7");
  kill_and_restart();
  ASSERT_TRUE(wait_rounds(20));
  pg.Exec("ALTER TABLE t1 ALTER COLUMN n TYPE bigint");
  kill_and_restart();
  ASSERT_TRUE(wait_rounds(20));
  pg.Exec("ALTER TABLE t1 DROP COLUMN v");  // incompatible: t1 stops
  ASSERT_TRUE(wait_rounds(20));
  kill_and_restart();  // the restarted capture stops t1 at the same place
  ASSERT_TRUE(wait_rounds(20));

  // Until accepted, t2 is not stopped and t1 is.
  auto not_stopped = rm::testing::RunCommand({rm::testing::RegionmirrorPath(), "cdc", "postgres",
                                              "accept-schema", "--config", config, "--table", "t2"},
                                             60s);
  EXPECT_EQ(not_stopped.exit_code, 1) << not_stopped.output;
  EXPECT_NE(not_stopped.output.find("is not stopped"), std::string::npos) << not_stopped.output;
  rm::testing::CommandResult accepted;
  ASSERT_TRUE(WaitFor(
      [&] {
        supervise();
        accepted = rm::testing::RunCommand({rm::testing::RegionmirrorPath(), "cdc", "postgres",
                                            "accept-schema", "--config", config, "--table", "t1"},
                                           60s);
        return accepted.exit_code == 0;
      },
      60s))
      << accepted.output << ReadFile(log);
  EXPECT_NE(accepted.output.find("rule drop_column"), std::string::npos) << accepted.output;
  ASSERT_TRUE(wait_rounds(20));
  kill_and_restart();
  ASSERT_TRUE(wait_rounds(20));
  stop_load = true;
  load.join();
  const std::string target = pg.QueryValue("SELECT pg_current_wal_insert_lsn()");
  ASSERT_TRUE(WaitFor(
      [&] {
        supervise();
        return pg.QueryValue("SELECT confirmed_flush_lsn >= '" + target +
                             "'::pg_lsn FROM pg_replication_slots WHERE slot_name = "
                             "'regionmirror'") == "t";
      },
      120s))
      << ReadFile(log);
  ASSERT_LT(self_exits, 20) << ReadFile(log);
  // SIGTERM once it is streaming (before, the process may not handle signals yet).
  ASSERT_TRUE(
      WaitFor([&] { return ReadFile(log).rfind("streaming from slot") != std::string::npos; }));
  capture->Signal(SIGTERM);
  auto rc = capture->Wait(30s);
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(*rc, 0) << ReadFile(log);
  EXPECT_GE(kills, 3);

  // 1. The history replays identically: one value per key however often it was written.
  std::map<std::string, std::set<std::optional<std::string>>> values;
  SchemaHistory history;
  for (auto& r : rm::testing::ConsumeWholeTopic(bootstrap, "pg.schema-history", 1)) {
    values[*r.key].insert(r.value);
    ASSERT_TRUE(
        history.Apply(*r.key, r.value ? std::optional<std::string_view>(*r.value) : std::nullopt)
            .ok());
  }
  for (const auto& [key, vals] : values) {
    if (key.find("\"version\"") == std::string::npos) continue;
    EXPECT_EQ(vals.size(), 1u) << "history key " << key << " has different values";
  }
  const auto& versions = history.Versions("public.t1");
  ASSERT_EQ(versions.size(), 5u) << ReadFile(log);
  for (size_t i = 0; i < versions.size(); ++i) {
    EXPECT_EQ(versions[i].version, static_cast<int>(i) + 1);
    if (i > 0) {
      EXPECT_GT(versions[i].position_value, versions[i - 1].position_value);
    }
  }
  EXPECT_TRUE(versions[4].accepted);
  EXPECT_EQ(versions[4].shape.Find("v"), nullptr);
  EXPECT_EQ(history.Pending("public.t1"), nullptr);
  EXPECT_EQ(history.Versions("public.t2").size(), 1u);

  // 2. Every t1 event has the columns of its version, and every row of t1 is in Kafka.
  std::set<int64_t> ids;
  size_t events = 0;
  for (auto& r : rm::testing::ConsumeWholeTopic(bootstrap, "pg.public.t1", 2)) {
    if (!r.value) continue;
    Json v = Json::parse(*r.value);
    const Json& value_schema = v["schema"]["fields"][1];
    const int version = value_schema["version"];
    ASSERT_GE(version, 1);
    ASSERT_LE(version, 5);
    std::vector<std::string> schema_fields, row_fields, history_fields;
    for (const auto& f : value_schema["fields"]) schema_fields.push_back(f["field"]);
    for (const auto& [k, _] : v["payload"]["after"].items()) row_fields.push_back(k);
    for (const auto& c : versions[version - 1].shape.columns) history_fields.push_back(c.name);
    EXPECT_EQ(row_fields, schema_fields);
    EXPECT_EQ(schema_fields, history_fields);
    ids.insert(v["payload"]["after"]["id"].get<int64_t>());
    ++events;
  }
  EXPECT_EQ(ids.size(), std::stoul(pg.QueryValue("SELECT count(*) FROM t1")));
  std::cout << "kills " << kills << ", " << events << " t1 events, " << values.size()
            << " history keys\n";
}

}  // namespace
}  // namespace rm::cdc::postgres::test

// Guards of the Postgres capture against a primary whose disk fills or whose calls hang: the
// WAL a slot retains is measured (SlotMonitor) and degrades /healthz past a limit, the server's
// missing max_slot_wal_keep_size is warned about, SQL sessions have a statement timeout, every
// connection has TCP keepalives, and a snapshot whose rows Kafka did not acknowledge in time is
// not recorded as complete.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <chrono>
#include <regex>
#include <set>

#include "src-cdc/kafka_event_sink.h"
#include "src-cdc/postgres/slot_monitor.h"
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
using rm::testing::ReadFile;

// Writes about `mb` MiB of WAL into `table` (id int primary key, v text) starting at id `from`.
void WriteWal(const PostgresServer& pg, const std::string& table, int from, int mb) {
  pg.Exec(fmt::format(
      "INSERT INTO {} SELECT g, repeat(md5(g::text), 30) FROM generate_series({}, {}) g", table,
      from, from + mb * 1000 - 1));
}

TEST(PostgresGuards, SlotMonitorMeasuresRetainedWalAndWarnsWhenTheServerDoesNotCapIt) {
  PostgresServer pg;  // max_slot_wal_keep_size left at its default, -1
  pg.Exec("CREATE TABLE filler (id int PRIMARY KEY, v text)");
  pg.Exec("SELECT pg_create_logical_replication_slot('watched', 'pgoutput')");
  auto probe = std::make_shared<CaptureProbe>();
  SlotMonitor monitor(ParamsFor(pg), "watched", 1s, probe);
  auto before = monitor.Check();
  ASSERT_TRUE(before.ok()) << before.error().message;
  EXPECT_TRUE(before->slot_exists);
  EXPECT_NE(monitor.settings_warning().find("max_slot_wal_keep_size is -1 (unlimited)"),
            std::string::npos)
      << monitor.settings_warning();
  EXPECT_NE(monitor.settings_warning().find("slot watched"), std::string::npos);

  const std::string start_lsn = pg.QueryValue("SELECT pg_current_wal_lsn()");
  WriteWal(pg, "filler", 0, 4);
  const uint64_t written = std::stoull(
      pg.QueryValue("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '" + start_lsn + "')::bigint"));
  ASSERT_GT(written, 1'000'000u);
  auto after = monitor.Check();
  ASSERT_TRUE(after.ok()) << after.error().message;
  // Nothing reads the slot: all the WAL written since is retained, confirmed or not.
  EXPECT_GE(after->retained_bytes, before->retained_bytes + written);
  EXPECT_GE(after->confirmed_lag_bytes, before->confirmed_lag_bytes + written);
  EXPECT_GE(after->retained_bytes, after->confirmed_lag_bytes);
  EXPECT_EQ(after->wal_status, "reserved");
  EXPECT_FALSE(after->safe_wal_size.has_value()) << "unlimited: no safe size";
  ASSERT_TRUE(probe->slot_retention().has_value());
  EXPECT_EQ(probe->slot_retention()->retained_bytes, after->retained_bytes);

  // A missing slot is reported as such, not as an error.
  SlotMonitor missing(ParamsFor(pg), "nosuchslot", 1s, probe);
  auto none = missing.Check();
  ASSERT_TRUE(none.ok()) << none.error().message;
  EXPECT_FALSE(none->slot_exists);

  // A server that cannot be reached is counted and retried on the next check.
  ConnectionParams nowhere = ParamsFor(pg);
  nowhere.port = 1;
  SlotMonitor unreachable(nowhere, "watched", 1s, probe);
  EXPECT_FALSE(unreachable.Check().ok());
  EXPECT_FALSE(unreachable.Check().ok());
  EXPECT_EQ(probe->slot_check_errors(), 2u);
}

TEST(PostgresGuards, SlotMonitorReportsSafeWalSizeWhenTheServerCapsRetention) {
  PostgresServer pg({.extra_conf = {"max_slot_wal_keep_size = 256MB"}});
  pg.Exec("SELECT pg_create_logical_replication_slot('watched', 'pgoutput')");
  auto probe = std::make_shared<CaptureProbe>();
  SlotMonitor monitor(ParamsFor(pg), "watched", 1s, probe);
  auto r = monitor.Check();
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(monitor.settings_warning(), "");
  ASSERT_TRUE(r->safe_wal_size.has_value());
  EXPECT_GT(*r->safe_wal_size, 0);
}

TEST(PostgresGuards, SqlSessionsEndCallsThatRunPastTheStatementTimeout) {
  PostgresServer pg;
  ConnectionParams params = ParamsFor(pg);
  params.statement_timeout_ms = 300;
  auto conn = PgConnection::Connect(params);
  ASSERT_TRUE(conn.ok()) << conn.error().message;
  auto start = std::chrono::steady_clock::now();
  auto r = conn->Exec("SELECT pg_sleep(30)");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(conn->last_sqlstate(), "57014") << r.error().message;  // query_canceled
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  // 0 means none: the same call is not cut short.
  params.statement_timeout_ms = 0;
  auto unlimited = PgConnection::Connect(params);
  ASSERT_TRUE(unlimited.ok());
  auto shown = unlimited->Exec("SHOW statement_timeout");
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->rows[0][0].value_or(""), "0");
}

int SocketOption(pg_conn* conn, int level, int name) {
  int value = -1;
  socklen_t len = sizeof(value);
  if (getsockopt(PQsocket(conn), level, name, &value, &len) != 0) return -1;
  return value;
}

TEST(PostgresGuards, SqlAndReplicationConnectionsHaveTcpKeepalives) {
  PostgresServer pg;
  ConnectionParams params = ParamsFor(pg);
  params.keepalives_idle_s = 17;
  params.keepalives_interval_s = 4;
  params.keepalives_count = 5;
  auto sql = PgConnection::Connect(params);
  ASSERT_TRUE(sql.ok()) << sql.error().message;
  auto repl = ReplicationConnection::Connect(params);
  ASSERT_TRUE(repl.ok()) << repl.error().message;
  for (pg_conn* c : {sql->raw(), repl->raw()}) {
    EXPECT_EQ(SocketOption(c, SOL_SOCKET, SO_KEEPALIVE), 1);
    EXPECT_EQ(SocketOption(c, IPPROTO_TCP, TCP_KEEPIDLE), 17);
    EXPECT_EQ(SocketOption(c, IPPROTO_TCP, TCP_KEEPINTVL), 4);
    EXPECT_EQ(SocketOption(c, IPPROTO_TCP, TCP_KEEPCNT), 5);
  }
  // The statement timeout is for SQL sessions only: the replication stream has none.
  auto timeout = sql->Exec("SHOW statement_timeout");
  ASSERT_TRUE(timeout.ok());
  EXPECT_EQ(timeout->rows[0][0].value_or(""), "30s");
}

// Kafka down while the snapshot is read: once snapshot_ack_timeout passes with rows
// unacknowledged, the run fails and the snapshot is not recorded as complete (were it, the
// unacknowledged rows would never be sent again: lost). The next run, with Kafka back, takes
// the snapshot again and every row reaches Kafka.
TEST(PostgresGuards, SnapshotUnacknowledgedAtItsDeadlineIsNotMarkedCompleteAndIsRetaken) {
  constexpr int kRows = 3000;
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  tb.CreateTopic("us-east", "pg.public.t", 3);
  testbed::ControlClient control(tb.ControlAddress());
  PostgresServer pg;
  pg.Exec(fmt::format(
      "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, 'row ' || g FROM "
      "generate_series(1, {}) g",
      kRows));
  auto cfg = TestConfig(pg, {"t"});
  cfg.capture.snapshot_ack_timeout = 2s;
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());
  const std::string completed_sql =
      "SELECT snapshot_completed_at IS NOT NULL FROM public.regionmirror_heartbeat WHERE "
      "slot_name = 'regionmirror'";

  KafkaEventSinkOptions opts;
  // Kafka's outage outlasts the deadline; the producer keeps the records meanwhile.
  opts.properties = {{"bootstrap.servers", tb.Bootstrap("us-east")},
                     {"linger.ms", "5"},
                     {"message.timeout.ms", "120000"}};
  {
    KafkaEventSink sink(opts);
    ASSERT_TRUE(control.SetBrokerDown("us-east", 1).ok());
    CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
    common::Status st = run.Join(60s);
    ASSERT_FALSE(st.ok()) << "the snapshot run ended without error while Kafka was down";
    EXPECT_EQ(st.error().code, "pg.snapshot_unacked") << st.error().message;
    EXPECT_EQ(run.probe().snapshot_rows(), static_cast<uint64_t>(kRows));
    EXPECT_EQ(run.probe().events_acked(), 0u);
    EXPECT_EQ(pg.QueryValue(completed_sql), "f");
    ASSERT_TRUE(control.SetBrokerUp("us-east", 1).ok());
  }  // the first sink delivers what it kept (duplicates are allowed, losses are not)

  KafkaEventSink sink(opts);
  CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
  ASSERT_TRUE(WaitFor([&] { return run.probe().streaming(); }, 60s));
  EXPECT_EQ(pg.QueryValue(completed_sql), "t");
  pg.Exec("INSERT INTO t VALUES (0, 'after the snapshot')");
  ASSERT_TRUE(WaitCaughtUp(pg, 60s));
  ASSERT_TRUE(run.Stop().ok());

  std::set<int> ids;
  for (const auto& r :
       rm::testing::ConsumeWithKafkaPython(tb.Bootstrap("us-east"), "pg.public.t", std::nullopt)) {
    if (!r.value) continue;
    auto j = Json::parse(*r.value);
    const Json& envelope = j.contains("payload") ? j["payload"] : j;  // with or without schema
    ids.insert(envelope["after"]["id"].get<int>());
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kRows + 1)) << "rows lost";
  EXPECT_EQ(*ids.begin(), 0);
  EXPECT_EQ(*ids.rbegin(), kRows);
}

// The binary: Kafka down while changes keep coming makes the slot retain WAL; past
// slot_lag_unhealthy_bytes /healthz turns 503 naming the slot and the amount, and once Kafka is
// back and the slot advances it is 200 again. The start warns that max_slot_wal_keep_size is
// unset.
TEST(PostgresGuards, HealthDegradesWhileTheSlotRetainsMoreWalThanTheLimit) {
  rm::testing::TempDir tmp;
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  tb.CreateTopic("us-east", "pg.public.t", 2);
  testbed::ControlClient control(tb.ControlAddress());
  const std::string config = (tmp / "cdc.yaml").string();
  rm::testing::WriteFile(config, fmt::format(R"(postgres:
  connection: {{host: {}, port: {}, dbname: postgres, user: postgres, sslmode: disable}}
  tables: [t]
  topic_prefix: pg
  status_interval_ms: 100
  heartbeat_interval_ms: 500
  slot_lag_check_interval_ms: 200
  slot_lag_unhealthy_bytes: 3000000
kafka:
  bootstrap_servers: "{}"
  properties: {{linger.ms: "5", message.timeout.ms: "300000", compression.type: lz4}}
admin:
  port: 0
)",
                                             pg.host(), pg.port(), tb.Bootstrap("us-east")));
  ASSERT_EQ(rm::testing::RunCommand({rm::testing::RegionmirrorPath(), "cdc", "postgres",
                                     "provision", "--config", config},
                                    60s)
                .exit_code,
            0);
  const std::string log = (tmp / "run.log").string();
  rm::testing::ChildProcess run(
      {rm::testing::RegionmirrorPath(), "cdc", "postgres", "run", "--config", config}, log);
  ASSERT_TRUE(
      WaitFor([&] { return ReadFile(log).find("streaming from slot") != std::string::npos; }, 60s))
      << ReadFile(log);
  std::smatch address;
  const std::string started = ReadFile(log);
  ASSERT_TRUE(
      std::regex_search(started, address, std::regex("admin API on http://([0-9.]+:[0-9]+)")));
  testbed::ControlClient admin(address[1].str());
  EXPECT_NE(ReadFile(log).find("max_slot_wal_keep_size is -1 (unlimited)"), std::string::npos)
      << ReadFile(log);
  auto healthy = [&] {
    auto h = admin.Request("GET", "/healthz", "");
    return h.ok() && h->first == 200;
  };
  ASSERT_TRUE(WaitFor(healthy, 30s));

  ASSERT_TRUE(control.SetBrokerDown("us-east", 1).ok());
  WriteWal(pg, "t", 1, 6);
  std::string body;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto h = admin.Request("GET", "/healthz", "");
        if (!h.ok() || h->first != 503) return false;
        body = h->second;
        return true;
      },
      60s))
      << ReadFile(log);
  EXPECT_NE(body.find("replication slot regionmirror retains"), std::string::npos) << body;
  EXPECT_NE(body.find("limit slot_lag_unhealthy_bytes 3000000"), std::string::npos) << body;
  auto page = admin.Request("GET", "/metrics", "");
  ASSERT_TRUE(page.ok());
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      page->second, m,
      std::regex(R"(rm_cdc_postgres_slot_retained_wal_bytes\{slot="regionmirror"\} ([0-9.e+]+))")))
      << page->second;
  EXPECT_GT(std::stod(m[1].str()), 3e6);

  ASSERT_TRUE(control.SetBrokerUp("us-east", 1).ok());
  // restart_lsn moves on once the confirmed position passed a running-transactions record;
  // a checkpoint writes one.
  auto last_checkpoint = std::chrono::steady_clock::now() - 1h;
  ASSERT_TRUE(WaitFor(
      [&] {
        if (std::chrono::steady_clock::now() - last_checkpoint > 1s) {
          pg.Exec("CHECKPOINT");
          last_checkpoint = std::chrono::steady_clock::now();
        }
        return healthy();
      },
      120s))
      << ReadFile(log);
  run.Signal(SIGTERM);
  auto rc = run.Wait(30s);
  ASSERT_TRUE(rc.has_value());
  EXPECT_EQ(*rc, 0) << ReadFile(log);
}

}  // namespace
}  // namespace rm::cdc::postgres::test

// A randomized fault schedule over `regionmirror cdc postgres run` while a writer inserts and
// updates rows: kill -9 of the capture, Kafka down and up, and Postgres restarted (fast
// shutdown, or a crash: immediate shutdown and recovery). The capture is restarted whenever it
// exits, as a supervisor would. At the end the table rebuilt from Kafka equals the table: no
// committed change is lost (duplicates are allowed: delivery is at least once).
//
// Seed: RM_PG_FAULT_SEED (default random), printed, to replay the schedule.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <set>
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
using rm::testing::ChildProcess;
using rm::testing::PostgresServer;
using rm::testing::ReadFile;
using Clock = std::chrono::steady_clock;

constexpr int kFaults = 8;
constexpr int64_t kScheduleMs = 30'000;
constexpr int kPartitions = 4;

// Inserts rows and updates random earlier ones, one transaction per statement, on its own
// connection; reconnects after errors (the server restarts under it). Only the table's final
// content matters, so a statement whose outcome was unknown needs no bookkeeping.
class Writer {
 public:
  explicit Writer(std::string conninfo) : conninfo_(std::move(conninfo)) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Writer() { Stop(); }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int64_t statements() const { return statements_; }
  int64_t errors() const { return errors_; }

 private:
  void Run() {
    std::mt19937 rng(7);
    PGconn* conn = nullptr;
    int64_t n = 0;
    while (!stop_) {
      if (conn == nullptr || PQstatus(conn) != CONNECTION_OK) {
        if (conn) PQfinish(conn);
        conn = PQconnectdb(conninfo_.c_str());
        if (PQstatus(conn) != CONNECTION_OK) {
          ++errors_;
          std::this_thread::sleep_for(50ms);
          continue;
        }
      }
      ++n;
      std::string sql =
          n % 3 == 0
              ? fmt::format(
                    "UPDATE t SET v = v + 1, note = 'u{}' WHERE id = (SELECT max(id) - {} "
                    "FROM t)",
                    n, rng() % 200)
              : fmt::format("INSERT INTO t (v, note) SELECT g, 'i{}' FROM generate_series(1, 5) g",
                            n);
      PGresult* res = PQexec(conn, sql.c_str());
      if (PQresultStatus(res) == PGRES_COMMAND_OK) {
        ++statements_;
      } else {
        ++errors_;
        std::this_thread::sleep_for(20ms);
      }
      PQclear(res);
      std::this_thread::sleep_for(5ms);
    }
    if (conn) PQfinish(conn);
  }

  const std::string conninfo_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> statements_{0};
  std::atomic<int64_t> errors_{0};
  std::thread thread_;
};

struct PgFault {
  enum class Kind { kKill, kKafkaDown, kPgRestart, kPgCrash };
  Kind kind;
  int64_t at_ms = 0;
  int64_t hold_ms = 0;  // kKill: until the restart; kKafkaDown: until the broker is up
  std::string Describe() const {
    switch (kind) {
      case Kind::kKill:
        return fmt::format("kill -9 the capture, restart after {} ms", hold_ms);
      case Kind::kKafkaDown:
        return fmt::format("Kafka down for {} ms", hold_ms);
      case Kind::kPgRestart:
        return "Postgres restart (fast shutdown)";
      case Kind::kPgCrash:
        return "Postgres crash (immediate shutdown) and recovery";
    }
    return "";
  }
};

std::vector<PgFault> MakeSchedule(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto uniform = [&rng](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  std::vector<PgFault> out;
  int64_t kafka_up_at = 0;
  for (int i = 0; i < kFaults; ++i) {
    PgFault f;
    f.at_ms = uniform(0, kScheduleMs);
    f.kind = static_cast<PgFault::Kind>(uniform(0, 3));
    f.hold_ms = f.kind == PgFault::Kind::kKill ? uniform(100, 2000) : uniform(1000, 5000);
    out.push_back(f);
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.at_ms < b.at_ms; });
  // One Kafka outage at a time (the first up would end both).
  std::vector<PgFault> kept;
  for (const auto& f : out) {
    if (f.kind == PgFault::Kind::kKafkaDown) {
      if (f.at_ms < kafka_up_at) continue;
      kafka_up_at = f.at_ms + f.hold_ms;
    }
    kept.push_back(f);
  }
  return kept;
}

// Once it streamed, a capture rides through Postgres restarts and crashes by itself: Run() does
// not return, and the rows written after each restart arrive. Were the lost session an error
// for a supervisor (as before reconnect_timeout), Run() would end at the first restart, and
// any harness that stops restarting it would wait forever (the stall issue 15 recorded).
TEST(PostgresFaults, CaptureReconnectsByItselfAfterPostgresRestartsAndCrashes) {
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY, v text)");
  auto cfg = TestConfig(pg, {"t"});
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());
  MemorySink sink;
  CaptureRunner runner(cfg.capture, ParamsFor(pg), sink);
  ASSERT_TRUE(WaitFor([&] { return runner.probe().streaming(); }, 30s));
  int id = 0;
  auto rows_in_sink = [&] {
    std::set<std::string> ids;
    for (const auto& e : Envelopes(sink.records(), "pg.public.t"))
      ids.insert(AsText(e["after"]["id"]));
    return ids.size();
  };
  for (bool crash : {false, true, false}) {
    pg.Exec(fmt::format("INSERT INTO t VALUES ({}, 'before')", ++id));
    pg.Restart(crash);
    pg.Exec(fmt::format("INSERT INTO t VALUES ({}, 'after')", ++id));
    // The fixture runs with synchronous_commit off: a crash may take the last commits with
    // it, from the table as from the stream. Every row the table has must arrive.
    const size_t rows = std::stoul(pg.QueryValue("SELECT count(*) FROM t"));
    ASSERT_TRUE(WaitFor([&] { return rows_in_sink() == rows; }, 30s))
        << rows_in_sink() << " of " << rows << " rows after a " << (crash ? "crash" : "restart");
    ASSERT_FALSE(runner.done()) << runner.Stop().error().message;
  }
  ASSERT_TRUE(WaitCaughtUp(pg, 30s));
  EXPECT_TRUE(runner.Stop().ok());
}

// With reconnect_timeout_ms 0 the lost session is returned, for a supervisor to act on.
TEST(PostgresFaults, ReconnectTimeoutZeroReturnsTheLostSession) {
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY)");
  auto cfg = TestConfig(pg, {"t"});
  cfg.capture.reconnect_timeout = 0ms;
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());
  MemorySink sink;
  CaptureRunner runner(cfg.capture, ParamsFor(pg), sink);
  ASSERT_TRUE(WaitFor([&] { return runner.probe().streaming(); }, 30s));
  pg.Restart(false);
  ASSERT_TRUE(WaitFor([&] { return runner.done(); }, 30s));
  auto st = runner.Stop();
  ASSERT_FALSE(st.ok());
  const std::string& code = st.error().code;
  EXPECT_TRUE(code == "pg.connection_lost" || code == "pg.stream" || code == "pg.stream_ended")
      << code << ": " << st.error().message;
}

TEST(PostgresFaults, NothingCommittedIsLostUnderRandomKillsKafkaOutagesAndPostgresRestarts) {
  const char* seed_env = std::getenv("RM_PG_FAULT_SEED");
  const uint64_t seed = seed_env ? std::stoull(seed_env) : std::random_device{}();
  std::vector<PgFault> schedule = MakeSchedule(seed);
  fmt::print("postgres fault schedule seed {} (RM_PG_FAULT_SEED to replay):\n", seed);
  for (const auto& f : schedule) fmt::print("  at {:>5} ms: {}\n", f.at_ms, f.Describe());
  RecordProperty("seed", std::to_string(seed));

  rm::testing::TempDir tmp;
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id bigserial PRIMARY KEY, v int NOT NULL, note text)");
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  const std::string bootstrap = tb.Bootstrap("us-east");
  tb.CreateTopic("us-east", "pg.public.t", kPartitions);
  testbed::ControlClient control(tb.ControlAddress());
  const std::string config = (tmp / "cdc.yaml").string();
  rm::testing::WriteFile(config, fmt::format(R"(postgres:
  connection: {{host: {}, port: {}, dbname: postgres, user: postgres, sslmode: disable,
               connect_timeout_s: 2}}
  tables: [t]
  topic_prefix: pg
  status_interval_ms: 100
  heartbeat_interval_ms: 500
  shutdown_timeout_ms: 5000
  slot_lag_check_interval_ms: 500
kafka:
  bootstrap_servers: "{}"
  # A long linger keeps events unacknowledged for a while, so kills find some in flight.
  properties: {{compression.type: lz4, linger.ms: "200"}}
admin:
  port: -1
)",
                                             pg.host(), pg.port(), bootstrap));
  const std::string bin = rm::testing::RegionmirrorPath();
  auto provision =
      rm::testing::RunCommand({bin, "cdc", "postgres", "provision", "--config", config}, 60s);
  ASSERT_EQ(provision.exit_code, 0) << provision.output;

  const std::string log = (tmp / "capture.log").string();
  const std::vector<std::string> argv = {bin, "cdc", "postgres", "run", "--config", config};
  auto capture = std::make_unique<ChildProcess>(argv, log);
  ASSERT_TRUE(
      WaitFor([&] { return ReadFile(log).find("streaming from slot") != std::string::npos; }, 60s))
      << ReadFile(log);
  Writer writer(pg.ConnectionString());

  // The schedule, with a supervisor: a capture that exited by itself (its server restarted
  // under it) is started again after 200 ms; a killed one after the fault's hold.
  // Clock::time_point::max(): nothing pending (std::optional trips GCC's maybe-uninitialized).
  constexpr Clock::time_point kNever = Clock::time_point::max();
  Clock::time_point restart_at = kNever;
  Clock::time_point kafka_up_at = kNever;
  int kills = 0, self_exits = 0, pg_restarts = 0, outages = 0;
  const auto t0 = Clock::now();
  size_t next = 0;
  while (next < schedule.size() || restart_at != kNever || kafka_up_at != kNever) {
    auto now = Clock::now();
    if (next < schedule.size() && now >= t0 + std::chrono::milliseconds(schedule[next].at_ms)) {
      const PgFault& f = schedule[next++];
      fmt::print("  {:>5} ms: {}\n",
                 std::chrono::duration_cast<std::chrono::milliseconds>(now - t0).count(),
                 f.Describe());
      switch (f.kind) {
        case PgFault::Kind::kKill:
          if (capture) {
            capture->Kill();
            capture.reset();
            ++kills;
          }
          restart_at = now + std::chrono::milliseconds(f.hold_ms);
          break;
        case PgFault::Kind::kKafkaDown:
          ASSERT_TRUE(control.SetBrokerDown("us-east", 1).ok());
          kafka_up_at = now + std::chrono::milliseconds(f.hold_ms);
          ++outages;
          break;
        case PgFault::Kind::kPgRestart:
        case PgFault::Kind::kPgCrash:
          pg.Restart(f.kind == PgFault::Kind::kPgCrash);
          ++pg_restarts;
          break;
      }
    }
    if (now >= kafka_up_at) {
      ASSERT_TRUE(control.SetBrokerUp("us-east", 1).ok());
      kafka_up_at = kNever;
    }
    if (capture && !capture->running()) {
      capture.reset();
      ++self_exits;
      ASSERT_LT(self_exits, 40) << "the capture keeps exiting:\n" << ReadFile(log);
      if (restart_at == kNever) restart_at = now + 200ms;
    }
    if (!capture && now >= restart_at) {
      capture = std::make_unique<ChildProcess>(argv, log);
      restart_at = kNever;
    }
    std::this_thread::sleep_for(10ms);
  }
  writer.Stop();
  fmt::print(
      "writer: {} statements, {} errors; {} kills, {} self exits, {} Kafka outages, {} "
      "Postgres restarts\n",
      writer.statements(), writer.errors(), kills, self_exits, outages, pg_restarts);
  EXPECT_GT(writer.statements(), 100);

  // Catch up, still supervised: a capture that exits is started again, as a supervisor never
  // stops doing (the capture rides through Postgres restarts by itself once it streamed, but
  // one started just after a kill -9 can find the slot still held and exit). Then stop cleanly.
  const std::string target = pg.QueryValue("SELECT pg_current_wal_insert_lsn()");
  ASSERT_TRUE(WaitFor(
      [&] {
        if (!capture->running()) {
          ++self_exits;
          capture = std::make_unique<ChildProcess>(argv, log);
        }
        return pg.QueryValue("SELECT confirmed_flush_lsn >= '" + target +
                             "'::pg_lsn FROM pg_replication_slots") == "t";
      },
      120s))
      << ReadFile(log);
  ASSERT_TRUE(WaitFor([&] { return capture->running(); }, 1s)) << ReadFile(log);
  capture->Signal(SIGTERM);
  auto rc = capture->Wait(30s);
  ASSERT_TRUE(rc.has_value()) << "no exit within 30 s of SIGTERM";
  EXPECT_EQ(*rc, 0) << ReadFile(log);

  std::vector<SinkRecord> records;
  for (auto& r : rm::testing::ConsumeWholeTopic(bootstrap, "pg.public.t", kPartitions)) {
    records.push_back({"pg.public.t", std::move(r.key), std::move(r.value)});
  }
  std::map<std::string, std::string> from_kafka, table;
  for (const auto& [key, after] : RebuildState(records, "pg.public.t")) {
    from_kafka[AsText(after["id"])] =
        fmt::format("{}|{}", AsText(after["v"]), AsText(after["note"]));
  }
  for (const auto& row : pg.Query("SELECT id, v, note FROM t")) {
    table[*row[0]] = fmt::format("{}|{}", *row[1], *row[2]);
  }
  EXPECT_GT(table.size(), 100u);
  size_t missing = 0, differ = 0;
  for (const auto& [id, value] : table) {
    auto it = from_kafka.find(id);
    if (it == from_kafka.end()) {
      if (missing++ < 5) ADD_FAILURE() << "row id " << id << " never reached Kafka";
    } else if (it->second != value) {
      if (differ++ < 5) {
        ADD_FAILURE() << "row id " << id << ": table " << value << ", Kafka " << it->second;
      }
    }
  }
  EXPECT_EQ(missing, 0u) << "of " << table.size() << " rows; seed " << seed;
  EXPECT_EQ(differ, 0u) << "seed " << seed;
  EXPECT_EQ(from_kafka.size(), table.size()) << "rows in Kafka that the table does not have";
  fmt::print("seed {}: {} rows, {} records in Kafka, {} lost; {} self exits in all\n", seed,
             table.size(), records.size(), missing + differ, self_exits);
}

}  // namespace
}  // namespace rm::cdc::postgres::test

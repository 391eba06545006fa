// kill -9 of `regionmirror cdc postgres run` while pgbench writes: after every round of
// kill and restart, nothing committed is missing from Kafka. The capture confirms a position
// to the slot only after Kafka acked every event before it, so a process killed at any moment
// resumes from a position whose earlier events are all stored; anything after it is sent again
// (at least once). Were a position confirmed before its events were acked (or before they
// were produced), the events in flight at the kill would never be sent again, and the checks
// below (the test_decoding reference, the rebuilt tables) would find them missing.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>

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

const std::vector<std::string> kTables = {"pgbench_accounts", "pgbench_branches", "pgbench_tellers",
                                          "pgbench_history"};

std::string ConfigYaml(const PostgresServer& pg, const std::string& bootstrap) {
  std::string tables;
  for (const auto& t : kTables) tables += (tables.empty() ? "" : ", ") + t;
  return fmt::format(R"(postgres:
  connection:
    host: {}
    port: {}
    dbname: postgres
    user: postgres
    sslmode: disable
  tables: [{}]
  topic_prefix: pg
  status_interval_ms: 100
  heartbeat_interval_ms: 1000
  shutdown_timeout_ms: 5000
kafka:
  bootstrap_servers: "{}"
  # Compressed batches keep each mock partition well under its 5 MiB retention. A long linger
  # keeps events unacknowledged for a while, so a kill always finds some in flight: a capture
  # that confirmed positions before their acks would lose them.
  properties: {{compression.type: lz4, linger.ms: "200"}}
admin:
  port: -1
)",
                     pg.host(), pg.port(), tables, bootstrap);
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every record of `topic`, per partition in offset order (so per key in produce order).
std::vector<SinkRecord> ReadTopic(const std::string& bootstrap, const std::string& topic,
                                  int partitions) {
  std::vector<SinkRecord> out;
  for (auto& r : rm::testing::ConsumeWholeTopic(bootstrap, topic, partitions)) {
    out.push_back({topic, std::move(r.key), std::move(r.value)});
  }
  return out;
}

TEST(PostgresKill, NothingCommittedIsMissingAfterKillNineRoundsDuringPgbench) {
  rm::testing::TempDir tmp;
  PostgresServer pg({.extra_conf = {"max_wal_size = 1GB"}});
  pg.Pgbench({"-i", "-q", "-s", "1"});
  rm::testing::ScopedTestbed tb({"us-east"}, 1);
  const std::string bootstrap = tb.Bootstrap("us-east");
  const std::map<std::string, int> partitions = {{"pgbench_accounts", 8},
                                                 {"pgbench_branches", 2},
                                                 {"pgbench_tellers", 4},
                                                 {"pgbench_history", 4}};
  for (const auto& [t, n] : partitions) tb.CreateTopic("us-east", "pg.public." + t, n);
  const std::string config = (tmp / "cdc.yaml").string();
  rm::testing::WriteFile(config, ConfigYaml(pg, bootstrap));
  const std::string log = (tmp / "capture.log").string();

  // Postgres's own decoder records every committed change from here on.
  pg.Exec("SELECT pg_create_logical_replication_slot('reference', 'test_decoding')");
  auto provision = rm::testing::RunCommand(
      {rm::testing::RegionmirrorPath(), "cdc", "postgres", "provision", "--config", config}, 60s);
  ASSERT_EQ(provision.exit_code, 0) << provision.output;

  const std::vector<std::string> run_argv = {
      rm::testing::RegionmirrorPath(), "cdc", "postgres", "run", "--config", config};
  auto capture = std::make_unique<ChildProcess>(run_argv, log);
  // The initial snapshot (100,000 accounts) is read and acked before pgbench starts, so the
  // reference slot's changes are exactly the streamed ones.
  ASSERT_TRUE(WaitFor(
      [&] {
        return pg.QueryValue(
                   "SELECT snapshot_completed_at IS NOT NULL FROM "
                   "public.regionmirror_heartbeat WHERE slot_name = 'regionmirror'") == "t";
      },
      90s))
      << ReadFile(log);

  std::atomic<bool> pgbench_done{false};
  std::string pgbench_out;
  std::thread pgbench([&] {
    try {
      pgbench_out = pg.Pgbench({"-c", "4", "-j", "2", "-T", "24", "-n"});
    } catch (const std::exception& e) {
      pgbench_out = std::string("pgbench failed: ") + e.what();
    }
    pgbench_done = true;
  });

  // Kill at random moments: right after a restart (connecting, acquiring the slot), mid
  // stream, with acks outstanding. A run that exits by itself (e.g. the server has not yet
  // noticed the killed walsender: pg.slot_active) is restarted, as a supervisor would.
  // A fresh seed each run (gtest's is 0 unless shuffling), logged so a failure can be replayed
  // with RM_KILL_SEED.
  const char* seed_env = std::getenv("RM_KILL_SEED");
  const unsigned seed =
      seed_env ? static_cast<unsigned>(std::stoul(seed_env)) : std::random_device{}();
  std::cout << "kill moments seed (RM_KILL_SEED): " << seed << "\n";
  RecordProperty("seed", std::to_string(seed));
  std::mt19937 rng(seed);
  int kills = 0, self_exits = 0;
  size_t last_start_log_size = 0;
  while (!pgbench_done || kills < 3) {
    auto delay = std::chrono::milliseconds(200 + rng() % 4800);
    auto until = std::chrono::steady_clock::now() + delay;
    while (std::chrono::steady_clock::now() < until && capture->running()) {
      std::this_thread::sleep_for(20ms);
    }
    if (capture->running()) {
      capture->Kill();
      ++kills;
    } else {
      ++self_exits;
      ASSERT_LT(self_exits, 20) << "the capture keeps exiting by itself:\n" << ReadFile(log);
      std::this_thread::sleep_for(200ms);
    }
    last_start_log_size = ReadFile(log).size();
    capture = std::make_unique<ChildProcess>(run_argv, log);
  }
  pgbench.join();
  ASSERT_EQ(pgbench_out.find("pgbench failed"), std::string::npos) << pgbench_out;
  EXPECT_GE(kills, 3);

  // The last run catches up and stops cleanly on SIGTERM (exit 0). It is streaming first (a
  // SIGTERM before the process set up its signal handling would simply end it).
  ASSERT_TRUE(WaitFor(
      [&] {
        return ReadFile(log).find("streaming from slot", last_start_log_size) != std::string::npos;
      },
      60s))
      << ReadFile(log);
  EXPECT_TRUE(WaitCaughtUp(pg, 120s)) << ReadFile(log);
  capture->Signal(SIGTERM);
  auto rc = capture->Wait(30s);
  ASSERT_TRUE(rc.has_value()) << "no exit within 30 s of SIGTERM";
  EXPECT_EQ(*rc, 0) << ReadFile(log);
  RecordProperty("kills", kills);

  std::vector<SinkRecord> records;
  for (const auto& [t, n] : partitions) {
    auto more = ReadTopic(bootstrap, "pg.public." + t, n);
    records.insert(records.end(), more.begin(), more.end());
  }

  // 1. The tables rebuilt from Kafka equal the tables.
  ExpectPgbenchStateMatches(pg, records);
  std::multiset<std::string> history_kafka, history_table;
  std::set<std::string> distinct;
  for (const auto& e : Envelopes(records, "pg.public.pgbench_history")) {
    const Json& a = e["after"];
    // A duplicate delivery repeats the event; distinct (row, lsn) pairs count once.
    if (!distinct.insert(a.dump() + e["source"]["lsn"].dump()).second) continue;
    history_kafka.insert(fmt::format("{}|{}|{}|{}|{}", AsText(a["tid"]), AsText(a["bid"]),
                                     AsText(a["aid"]), AsText(a["delta"]), AsText(a["mtime"])));
  }
  // mtime is a timestamp: MicroTimestamp in the events (microseconds since the epoch).
  for (const auto& row : pg.Query("SELECT tid, bid, aid, delta, "
                                  "(extract(epoch FROM mtime) * 1000000)::bigint "
                                  "FROM pgbench_history")) {
    history_table.insert(
        fmt::format("{}|{}|{}|{}|{}", *row[0], *row[1], *row[2], *row[3], *row[4]));
  }
  EXPECT_EQ(history_kafka.size(), history_table.size());
  EXPECT_TRUE(history_kafka == history_table) << "pgbench_history differs from its events";

  // 2. Every change test_decoding saw is in Kafka, at least as often as it happened.
  // test_decoding prints timestamps as text, we as microseconds: history's mtime is left out
  // here (and compared with the table above).
  auto text = [](Change c) {
    c.values.erase("mtime");
    std::ostringstream os;
    os << c;
    return os.str();
  };
  auto reference = ReferenceChangesByTable(pg);
  size_t reference_total = 0, missing = 0;
  for (const auto& t : kTables) {
    std::map<std::string, int> ours;
    for (const auto& c : OurChanges(records, "pg.public." + t)) ++ours[text(c)];
    for (const auto& c : reference["public." + t]) {
      ++reference_total;
      std::ostringstream os;
      os << text(c);
      if (--ours[os.str()] < 0 && missing++ < 5) {
        ADD_FAILURE() << "public." << t << ": change missing from Kafka: " << os.str();
      }
    }
  }
  EXPECT_GT(reference_total, 1000u) << "pgbench wrote almost nothing: " << pgbench_out;
  EXPECT_EQ(missing, 0u) << "of " << reference_total << " committed changes";
  std::cout << "kills " << kills << ", self exits " << self_exits << ", " << reference_total
            << " committed changes, " << records.size() << " records in Kafka\n";
}

}  // namespace
}  // namespace rm::cdc::postgres::test

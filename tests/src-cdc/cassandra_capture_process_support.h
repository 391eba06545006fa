// Support for tests that run `regionmirror cdc cassandra run` against a testbed: the config
// file, the fixture segments fed into a cdc_raw directory the way Cassandra writes them, the
// expected events, and reading the topics back.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/kafka_client.h"
#include "tests/src-cdc/cassandra_capture_support.h"
#include "tests/support/kafka_helpers.h"
#include "tests/support/process.h"

namespace rm::cdc::cassandra::testing {

// One fixture directory, captured as its own table (the fixtures' table ids differ, and the
// commit log names tables only by id).
struct FixtureTable {
  std::string dir;
  std::string table;               // Keyspace1.<table>
  std::vector<std::string> files;  // in segment-id order
};

inline std::vector<FixtureTable> KillTestFixtures() {
  return {
      {"3.4-encrypted",
       "Standard1_34",
       {"CommitLog-6-1480001790338.log", "CommitLog-6-1480001790339.log"}},
      {"3.0.29-encrypted", "Standard1_3029", {"CommitLog-6-1699279786262.log"}},
      {"3.0.13-encrypted",
       "Standard1_3013",
       {"CommitLog-6-1699284515156.log", "CommitLog-6-1699284515157.log"}},
      {"4.0.11-encrypted", "Standard1", {"CommitLog-7-1699285478684.log"}},
  };
}

inline std::string TablesCql(const std::vector<FixtureTable>& tables) {
  std::string cql;
  for (const auto& t : tables) {
    cql += fmt::format(
        "CREATE TABLE \"Keyspace1\".\"{}\" (key ascii, col ascii, val blob, val0 blob, "
        "PRIMARY KEY (key, col)) WITH ID = {} AND cdc = true;\n",
        t.table, ReadHashFile(FixtureRoot() / t.dir).at("cfid"));
  }
  return cql;
}

inline std::string CaptureConfigYaml(const std::filesystem::path& tmp, const std::string& bootstrap,
                                     const std::vector<FixtureTable>& tables, int admin_port,
                                     const std::string& processed = "delete") {
  std::string cql;
  std::istringstream in(TablesCql(tables));
  for (std::string line; std::getline(in, line);) cql += "      " + line + "\n";
  return fmt::format(R"(cassandra:
  cdc_raw_dir: {}
  state_dir: {}
  processed: {}
  topic_prefix: cass
  cluster: Test Cluster
  poll_interval_ms: 20
  checkpoint_interval_ms: 50
  max_in_flight_events: 2000
  shutdown_timeout_ms: 5000
  encryption:
    key_hex_env: RM_TEST_CASSANDRA_KEY
  tables:
    cql: |
{}kafka:
  bootstrap_servers: "{}"
  # A long linger (500 ms) keeps events in flight at most kills: a checkpoint taken before their
  # acks would be caught. lz4 keeps each mock partition well under its 5 MiB retention.
  properties: {{compression.type: lz4, linger.ms: "500"}}
admin:
  port: {}
)",
                     (tmp / "cdc_raw").string(), (tmp / "state").string(), processed, cql,
                     bootstrap, admin_port);
}

// The admin address `regionmirror` logged at start ("admin API on http://host:port"), or "".
inline std::string AdminAddress(const std::string& log_path) {
  std::smatch m;
  const std::string log = rm::testing::ReadFile(log_path);
  static const std::regex re("admin API on http://([0-9.]+:[0-9]+)");
  return std::regex_search(log, m, re) ? m[1].str() : "";
}

// The body of a GET, then a line with the HTTP status code.
inline std::string Curl(const std::string& url) {
  using namespace std::chrono_literals;
  return rm::testing::RunCommand({"curl", "-s", "-w", "\n%{http_code}", url}, 10s).output;
}

inline std::map<std::string, std::string> CaptureEnv() {
  return {{"RM_TEST_CASSANDRA_KEY", "b7d96fb9b11d829179aeeb0b4e81f97a"}};
}

// `regionmirror cdc cassandra accept-schema --config <config> --table <table>` (its output and
// exit code).
inline auto AcceptSchema(const std::string& config, const std::string& table) {
  using namespace std::chrono_literals;
  return rm::testing::RunCommand(
      {"env", "RM_TEST_CASSANDRA_KEY=" + CaptureEnv().at("RM_TEST_CASSANDRA_KEY"),
       rm::testing::RegionmirrorPath(), "cdc", "cassandra", "accept-schema", "--config", config,
       "--table", table},
      60s);
}

// Writes a complete 3.x segment atomically (Cassandra moves it into cdc_raw when it is done).
inline void PlaceCompleteSegment(const std::filesystem::path& cdc_raw, const std::string& dir,
                                 const std::string& file) {
  const std::string bytes = rm::testing::ReadFile(FixtureRoot() / dir / file);
  rm::testing::WriteFile(cdc_raw / (file + ".part"), bytes);
  std::filesystem::rename(cdc_raw / (file + ".part"), cdc_raw / file);
}

// Every record of `topic` (our consumer), checking that the mock dropped nothing.
inline std::vector<StoredRecord> ReadTopic(const std::string& bootstrap, const std::string& topic,
                                           int partitions) {
  std::vector<StoredRecord> out;
  for (auto& r : rm::testing::ConsumeWholeTopic(bootstrap, topic, partitions)) {
    out.push_back({topic, std::move(r.key), std::move(r.value)});
  }
  return out;
}

// The same topic read with kcat (a client none of us wrote): "<key>\t<value>" per record.
inline std::vector<StoredRecord> ReadTopicWithKcat(const std::string& bootstrap,
                                                   const std::string& topic) {
  using namespace std::chrono_literals;
  auto r = rm::testing::RunCommand(
      {"kcat", "-b", bootstrap, "-C", "-t", topic, "-e", "-q", "-f", "%k\\t%s\\n"}, 60s);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::vector<StoredRecord> out;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos) continue;
    StoredRecord rec{topic, line.substr(0, tab), line.substr(tab + 1)};
    if (rec.value->empty()) rec.value.reset();
    out.push_back(std::move(rec));
  }
  return out;
}

// (segment id, entry position) of every Standard1-like mutation of a fixture directory: what
// must arrive, one event each.
inline std::set<std::pair<int64_t, int64_t>> ExpectedPositions(const FixtureTable& t) {
  std::set<std::pair<int64_t, int64_t>> out;
  const Schema schema = Standard1Schema(t.dir);
  StaticKeyProvider keys;
  EXPECT_TRUE(keys.AddHexKey("testing:1", "b7d96fb9b11d829179aeeb0b4e81f97a").ok());
  ReaderOptions options;
  options.schema = &schema;
  options.keys = &keys;
  for (const auto& f : t.files) {
    const std::string bytes = rm::testing::ReadFile(FixtureRoot() / t.dir / f);
    for (const auto& m : ReadAllMutations(bytes, options, nullptr, f)) {
      out.insert({m.position.segment_id, m.position.offset});
    }
  }
  return out;
}

// Keeps one record per (segment id, pos): a re-sent event counts once.
inline std::vector<StoredRecord> Distinct(const std::vector<StoredRecord>& records) {
  std::set<std::pair<int64_t, int64_t>> seen;
  std::vector<StoredRecord> out;
  for (const auto& r : records) {
    if (!r.value) continue;
    const auto v = nlohmann::json::parse(*r.value);
    if (seen.insert({v["source"]["segment_id"].get<int64_t>(), v["source"]["pos"].get<int64_t>()})
            .second) {
      out.push_back(r);
    }
  }
  return out;
}

// The size of a kill test's log before the next run starts (its runs append to one log).
inline uintmax_t LogSize(const std::filesystem::path& log) {
  std::error_code ec;
  const uintmax_t size = std::filesystem::file_size(log, ec);
  return ec ? 0 : size;
}

// The last run of a kill test, started when the log had `started_at` bytes (LogSize): waits
// until it is up (it logged "following " after that point: a signal before it installed its
// handling would just end it) and has delivered and cleaned up every segment of `cdc_raw`,
// then stops it with SIGTERM and expects a clean exit. Not by counting "following " lines
// against the kills: a run killed before it logged one (slow start on a loaded machine) would
// leave the count one short for good.
inline void StopTheLastRunOnceDrained(rm::testing::ChildProcess& capture,
                                      const std::filesystem::path& log,
                                      const std::filesystem::path& cdc_raw, uintmax_t started_at) {
  using namespace std::chrono_literals;
  ASSERT_TRUE(rm::testing::WaitFor(
      [&] {
        const std::string text = rm::testing::ReadFile(log);
        return text.size() > started_at && text.find("following ", started_at) != std::string::npos;
      },
      30s))
      << "the last run did not start:\n"
      << rm::testing::ReadFile(log);
  ASSERT_TRUE(rm::testing::WaitFor([&] { return std::filesystem::is_empty(cdc_raw); }, 60s))
      << "segments left in cdc_raw:\n"
      << rm::testing::ReadFile(log);
  capture.Signal(SIGTERM);
  auto rc = capture.Wait(30s);
  ASSERT_TRUE(rc.has_value()) << "no exit within 30 s of SIGTERM";
  EXPECT_EQ(*rc, 0) << rm::testing::ReadFile(log);
}

}  // namespace rm::cdc::cassandra::testing

// Helpers for the Postgres capture's integration and robustness suites: an in-memory sink
// whose acknowledgements can be delayed or withheld, a capture running on its own thread,
// configuration for a PostgresServer fixture, table state rebuilt from the events, and the
// comparison with a test_decoding reference slot.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "src-cdc/change_event.h"
#include "src-cdc/event_sink.h"
#include "src-cdc/postgres/capture.h"
#include "src-cdc/postgres/config.h"
#include "src-cdc/postgres/provision.h"
#include "tests/support/postgres_fixture.h"
#include "tests/util/memory_sink.h"
#include "tests/util/test_util.h"

namespace rm::cdc::postgres::test {

using rm::testing::MemorySink;
using rm::testing::SinkRecord;

// A capture running on its own thread until Stop() (or destruction).
class CaptureRunner {
 public:
  // `setup` runs on the capture before Run() starts (e.g. to set its schema history reader).
  CaptureRunner(CaptureConfig cfg, ConnectionParams params, EventSink& sink,
                const std::function<void(PostgresCapture&)>& setup = nullptr)
      : capture_(std::make_unique<PostgresCapture>(std::move(cfg), std::move(params), sink)) {
    if (setup) setup(*capture_);
    thread_ = std::thread([this] {
      result_ = capture_->Run(stop_);
      done_ = true;
    });
  }
  ~CaptureRunner() { Stop().PermitUnchecked(); }

  common::Status Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    return result_;
  }
  bool done() const { return done_; }
  // Waits for Run() to return by itself.
  common::Status Join(std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done_ && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return Stop();
  }
  PostgresCapture& capture() { return *capture_; }
  const CaptureProbe& probe() const { return *capture_->probe(); }

 private:
  std::unique_ptr<PostgresCapture> capture_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  common::Status result_;
  std::thread thread_;
};

using rm::testing::WaitFor;

inline ConnectionParams ParamsFor(const rm::testing::PostgresServer& pg,
                                  const std::string& user = "postgres",
                                  std::optional<std::string> password = std::nullopt,
                                  const std::string& dbname = "postgres") {
  ConnectionParams p;
  p.host = pg.host();
  p.port = pg.port();
  p.dbname = dbname;
  p.user = user;
  p.password = std::move(password);
  p.sslmode = "disable";
  return p;
}

// A config capturing `tables` as postgres, with short intervals for tests.
inline PostgresCdcConfig TestConfig(const rm::testing::PostgresServer& pg,
                                    const std::vector<std::string>& tables,
                                    const std::string& prefix = "pg") {
  PostgresCdcConfig cfg;
  cfg.source_file = "test.yaml";
  auto& c = cfg.capture;
  c.connection.host = pg.host();
  c.connection.port = pg.port();
  c.connection.dbname = "postgres";
  c.connection.user = "postgres";
  c.connection.sslmode = "disable";
  for (const auto& t : tables) c.tables.push_back(*TableName::Parse(t));
  c.topic_prefix = prefix;
  c.heartbeat_interval = std::chrono::milliseconds(300);
  c.status_interval = std::chrono::milliseconds(50);
  c.snapshot_chunk_rows = 1000;
  c.shutdown_timeout = std::chrono::milliseconds(2000);
  cfg.admin = c.connection;
  return cfg;
}

inline ProvisionReport ProvisionFor(const rm::testing::PostgresServer& pg,
                                    const PostgresCdcConfig& cfg,
                                    std::optional<std::string> role_password = std::nullopt,
                                    bool dry_run = false) {
  ProvisionOptions o;
  o.dry_run = dry_run;
  return Provision(cfg, ParamsFor(pg), role_password, o);
}

inline std::string SlotConfirmedLsn(const rm::testing::PostgresServer& pg,
                                    const std::string& slot = "regionmirror") {
  return pg.QueryValue("SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '" +
                       slot + "'");
}

// Waits until the slot's confirmed position reaches the current WAL insert position
// (everything committed so far was captured and acked).
inline bool WaitCaughtUp(const rm::testing::PostgresServer& pg,
                         std::chrono::milliseconds timeout = std::chrono::seconds(120),
                         const std::string& slot = "regionmirror") {
  // The insert position: with synchronous_commit=off, pg_current_wal_lsn() (the write
  // position) can still be short of the last commit record.
  std::string target = pg.QueryValue("SELECT pg_current_wal_insert_lsn()");
  return WaitFor(
      [&] {
        return pg.QueryValue("SELECT confirmed_flush_lsn >= '" + target +
                             "'::pg_lsn FROM pg_replication_slots WHERE slot_name = '" + slot +
                             "'") == "t";
      },
      timeout);
}

// Value envelopes of the non-tombstone records for `topic`.
inline std::vector<Json> Envelopes(const std::vector<SinkRecord>& records,
                                   const std::string& topic) {
  std::vector<Json> out;
  for (const auto& r : records) {
    if (r.topic == topic && r.value) out.push_back(Json::parse(*r.value));
  }
  return out;
}

// Table state rebuilt from the records of `topic`: key JSON -> row.
inline std::map<std::string, Json> RebuildState(const std::vector<SinkRecord>& records,
                                                const std::string& topic) {
  std::map<std::string, Json> state;
  for (const auto& r : records) {
    if (r.topic != topic || !r.value) continue;
    Json v = Json::parse(*r.value);
    std::string op = v["op"];
    if (op == "t") {
      state.clear();
    } else if (op == "d") {
      state.erase(r.key.value_or("null"));
    } else {
      state[r.key.value_or("null")] = v["after"];
    }
  }
  return state;
}

// ---- Comparison with Postgres's own test_decoding output and with the tables.

// One row change, with every column value as text.
struct Change {
  std::string op;  // INSERT, UPDATE, DELETE
  std::map<std::string, std::string> values;
  bool operator==(const Change&) const = default;
};

inline std::ostream& operator<<(std::ostream& os, const Change& c) {
  os << c.op << "{";
  for (const auto& [k, v] : c.values) os << k << "=" << v << " ";
  return os << "}";
}

// Parses test_decoding's "col[type]:value" list, written independently of our decoder.
inline std::map<std::string, std::string> ParseColumns(const std::string& s) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t br = s.find('[', i);
    if (br == std::string::npos) break;
    std::string name = s.substr(i, br - i);
    size_t colon = s.find("]:", br);
    i = colon + 2;
    std::string value;
    if (s[i] == '\'') {
      ++i;
      while (i < s.size()) {
        if (s[i] == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
          value += '\'';
          i += 2;
        } else if (s[i] == '\'') {
          ++i;
          break;
        } else {
          value += s[i++];
        }
      }
    } else {
      size_t end = s.find(' ', i);
      end = end == std::string::npos ? s.size() : end;
      value = s.substr(i, end - i);
      i = end;
    }
    out[name] = value;
  }
  return out;
}

// The row changes that the test_decoding slot `slot` recorded since it was last read
// (reading consumes them), per table ("public.t"), in commit order; a key change as a delete
// and an insert, as Debezium (and we) emit it.
inline std::map<std::string, std::vector<Change>> ReferenceChangesByTable(
    const rm::testing::PostgresServer& pg, const std::string& slot = "reference") {
  std::map<std::string, std::vector<Change>> out;
  for (const auto& row :
       pg.Query("SELECT data FROM pg_logical_slot_get_changes('" + slot + "', NULL, NULL)")) {
    std::string line = row[0].value_or("");
    if (line.rfind("table ", 0) != 0) continue;
    auto table_end = line.find(": ");
    if (table_end == std::string::npos) continue;
    std::string table = line.substr(6, table_end - 6);
    line = line.substr(table_end + 2);
    auto colon = line.find(": ");
    std::string op = line.substr(0, colon);
    std::string rest = colon == std::string::npos ? "" : line.substr(colon + 2);
    auto& changes = out[table];
    if (op == "UPDATE" && rest.rfind("old-key: ", 0) == 0) {
      auto nt = rest.find(" new-tuple: ");
      changes.push_back({"DELETE", ParseColumns(rest.substr(9, nt - 9))});
      changes.push_back({"INSERT", ParseColumns(rest.substr(nt + 12))});
    } else {
      changes.push_back({op, ParseColumns(rest)});
    }
  }
  return out;
}

// The same for one table (the other tables' changes are consumed too).
inline std::vector<Change> ReferenceChanges(const rm::testing::PostgresServer& pg,
                                            const std::string& table,
                                            const std::string& slot = "reference") {
  return ReferenceChangesByTable(pg, slot)[table];
}

// A JSON value as Postgres prints it in text.
inline std::string AsText(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
}

// Our events of `topic` as Changes (snapshot rows keep op "r").
inline std::vector<Change> OurChanges(const std::vector<SinkRecord>& records,
                                      const std::string& topic) {
  std::vector<Change> out;
  for (const auto& e : Envelopes(records, topic)) {
    std::string op = e["op"];
    Change c;
    c.op = op == "c" ? "INSERT" : op == "u" ? "UPDATE" : op == "d" ? "DELETE" : op;
    // test_decoding prints only the key columns of a deleted row.
    const Json& row = op == "d" ? e["before"] : e["after"];
    for (const auto& [k, v] : row.items()) {
      if (op == "d" && v.is_null()) continue;
      c.values[k] = AsText(v);
    }
    out.push_back(std::move(c));
  }
  return out;
}

// Rebuilds pgbench_accounts, _branches and _tellers from `records` (in per-key order) and
// expects every row to equal the table's current row, column by column, and no extra keys.
inline void ExpectPgbenchStateMatches(const rm::testing::PostgresServer& pg,
                                      const std::vector<SinkRecord>& records,
                                      const std::string& prefix = "pg") {
  struct Table {
    std::string name, key, sql;
  };
  for (const Table& t :
       {Table{"pgbench_accounts", "aid", "SELECT aid, bid, abalance, filler FROM pgbench_accounts"},
        Table{"pgbench_branches", "bid", "SELECT bid, bbalance, filler FROM pgbench_branches"},
        Table{"pgbench_tellers", "tid",
              "SELECT tid, bid, tbalance, filler FROM pgbench_tellers"}}) {
    auto state = RebuildState(records, prefix + ".public." + t.name);
    auto rows = pg.Query(t.sql);
    EXPECT_EQ(state.size(), rows.size()) << t.name;
    size_t mismatches = 0;
    for (const auto& row : rows) {
      std::string key = "{\"" + t.key + "\":" + *row[0] + "}";
      auto it = state.find(key);
      if (it == state.end()) {
        if (mismatches++ < 5) ADD_FAILURE() << t.name << " " << key << " missing";
        continue;
      }
      size_t c = 0;
      for (const auto& [col, v] : it->second.items()) {
        std::string expected = row[c++].value_or("null");
        if (AsText(v) != expected && mismatches++ < 5) {
          ADD_FAILURE() << t.name << " " << key << "." << col << ": " << AsText(v)
                        << " != " << expected;
        }
      }
    }
    EXPECT_EQ(mismatches, 0u) << t.name;
  }
}

}  // namespace rm::cdc::postgres::test

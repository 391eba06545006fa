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

// One row change, with every column value as text.
struct Change {
  std::string op;  // INSERT, UPDATE, DELETE
  std::map<std::string, std::string> values;
  bool operator==(const Change&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Change& c) {
  os << c.op << "{";
  for (const auto& [k, v] : c.values) os << k << "=" << v << " ";
  return os << "}";
}

// Parses test_decoding's "col[type]:value" list, written independently of our decoder.
std::map<std::string, std::string> ParseColumns(const std::string& s) {
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

std::vector<Change> ReferenceChanges(const PostgresServer& pg, const std::string& table) {
  std::vector<Change> out;
  const std::string prefix = "table " + table + ": ";
  for (const auto& row : pg.Query("SELECT data FROM pg_logical_slot_get_changes('reference', "
                                  "NULL, NULL)")) {
    std::string line = row[0].value_or("");
    if (line.rfind(prefix, 0) != 0) continue;
    line = line.substr(prefix.size());
    auto colon = line.find(": ");
    std::string op = line.substr(0, colon);
    std::string rest = colon == std::string::npos ? "" : line.substr(colon + 2);
    if (op == "UPDATE" && rest.rfind("old-key: ", 0) == 0) {
      // Key changed: Debezium (and we) emit a delete of the old key and a create.
      auto nt = rest.find(" new-tuple: ");
      out.push_back({"DELETE", ParseColumns(rest.substr(9, nt - 9))});
      out.push_back({"INSERT", ParseColumns(rest.substr(nt + 12))});
    } else {
      out.push_back({op, ParseColumns(rest)});
    }
  }
  return out;
}

std::string AsText(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
}

std::vector<Change> OurChanges(const std::vector<SinkRecord>& records, const std::string& topic) {
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

  struct Table {
    std::string name, key, sql;
  };
  for (const Table& t :
       {Table{"pgbench_accounts", "aid", "SELECT aid, bid, abalance, filler FROM pgbench_accounts"},
        Table{"pgbench_branches", "bid", "SELECT bid, bbalance, filler FROM pgbench_branches"},
        Table{"pgbench_tellers", "tid",
              "SELECT tid, bid, tbalance, filler FROM pgbench_tellers"}}) {
    auto state = RebuildState(records, "pg.public." + t.name);
    auto rows = pg.Query(t.sql);
    ASSERT_EQ(state.size(), rows.size()) << t.name;
    size_t mismatches = 0;
    for (const auto& row : rows) {
      std::string key = "{\"" + t.key + "\":" + *row[0] + "}";
      auto it = state.find(key);
      ASSERT_NE(it, state.end()) << t.name << " " << key;
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

// Every supported type, written to a real server, arrives in the envelope as Debezium
// represents it; snapshot reads and streamed changes agree; TOAST and replica identity.
#include <gtest/gtest.h>

#include "tests/src-cdc/postgres_test_support.h"

namespace rm::cdc::postgres::test {
namespace {

using rm::testing::PostgresServer;

constexpr const char* kSchema = R"(
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE all_types (
  id int PRIMARY KEY,
  c_int2 smallint, c_int4 integer, c_int8 bigint,
  c_num numeric(20,5), c_num_free numeric, c_real real, c_double double precision,
  c_bool boolean, c_text text, c_varchar varchar(10), c_char char(4),
  c_ts timestamp, c_ts3 timestamp(3), c_tstz timestamptz, c_date date,
  c_time time, c_timetz timetz, c_interval interval,
  c_uuid uuid, c_json json, c_jsonb jsonb, c_bytea bytea,
  c_int_arr int[], c_text_arr text[], c_mood mood, c_mood_arr mood[]
);
)";

constexpr const char* kRow = R"(
  (%ID%, -32768, 2147483647, -9223372036854775808,
   12345.67891, 0.000000000000000000001, 1.5, -2.25e-10,
   true, 'héllo "world"' || chr(10) || 'line', 'short', 'ab',
   '2024-03-01 12:30:00.123456', '2024-03-01 12:30:00.123', '2024-03-01 14:30:00.5+02',
   '2024-02-29', '23:59:59.999999', '10:00:00+02', '1 day 2 hours',
   'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{"a": [1, 2]}', '{"b": {"c": null}}',
   '\x00ff10'::bytea, '{1,NULL,3}', '{"x y","q\"z"}', 'happy', '{ok,sad}'))";

Json ExpectedRow(int id) {
  Json j = Json::object();
  j["id"] = id;
  j["c_int2"] = -32768;
  j["c_int4"] = 2147483647;
  j["c_int8"] = std::numeric_limits<int64_t>::min();
  j["c_num"] = "12345.67891";
  j["c_num_free"] = "0.000000000000000000001";
  j["c_real"] = 1.5;
  j["c_double"] = -2.25e-10;
  j["c_bool"] = true;
  j["c_text"] = "héllo \"world\"\nline";
  j["c_varchar"] = "short";
  j["c_char"] = "ab  ";
  j["c_ts"] = 1709296200123456LL;
  j["c_ts3"] = 1709296200123LL;
  j["c_tstz"] = "2024-03-01T12:30:00.5Z";
  j["c_date"] = 19782;
  j["c_time"] = 86399999999LL;
  j["c_timetz"] = "08:00:00Z";
  j["c_interval"] = (26LL * 3600) * 1000000;
  j["c_uuid"] = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11";
  j["c_json"] = R"({"a": [1, 2]})";
  j["c_jsonb"] = R"({"b": {"c": null}})";
  j["c_bytea"] = "AP8Q";
  j["c_int_arr"] = Json::parse("[1,null,3]");
  j["c_text_arr"] = Json::parse(R"(["x y","q\"z"])");
  j["c_mood"] = "happy";
  j["c_mood_arr"] = Json::parse(R"(["ok","sad"])");
  return j;
}

std::string Row(int id) {
  std::string r = kRow;
  r.replace(r.find("%ID%"), 4, std::to_string(id));
  return r;
}

TEST(PostgresTypes, EveryTypeRoundTripsThroughSnapshotAndStream) {
  PostgresServer pg;
  pg.Exec(kSchema);
  pg.Exec("INSERT INTO all_types VALUES " + Row(1));  // read by the snapshot
  auto cfg = TestConfig(pg, {"public.all_types"});
  auto report = ProvisionFor(pg, cfg);
  ASSERT_TRUE(report.ok()) << report.Format();

  MemorySink sink;
  CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
  ASSERT_TRUE(WaitFor([&] { return run.probe().streaming(); })) << "never started streaming";
  pg.Exec("INSERT INTO all_types VALUES " + Row(2));
  pg.Exec("INSERT INTO all_types (id) VALUES (3)");
  ASSERT_TRUE(WaitCaughtUp(pg));
  ASSERT_TRUE(run.Stop().ok());

  auto events = Envelopes(sink.records(), "pg.public.all_types");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["op"], "r");
  EXPECT_EQ(events[0]["source"]["snapshot"], "last");
  EXPECT_EQ(events[0]["after"], ExpectedRow(1));
  EXPECT_EQ(events[1]["op"], "c");
  EXPECT_EQ(events[1]["source"]["snapshot"], "false");
  EXPECT_EQ(events[1]["after"], ExpectedRow(2));
  for (const auto& [k, v] : events[2]["after"].items()) {
    if (k != "id") {
      EXPECT_TRUE(v.is_null()) << k;
    }
  }
  // Source block as Debezium's Postgres connector fills it.
  const auto& src = events[1]["source"];
  EXPECT_EQ(src["connector"], "postgresql");
  EXPECT_EQ(src["db"], "postgres");
  EXPECT_EQ(src["schema"], "public");
  EXPECT_EQ(src["table"], "all_types");
  EXPECT_TRUE(src["txId"].is_number());
  EXPECT_TRUE(src["lsn"].is_number());
  EXPECT_GT(src["ts_ms"].get<int64_t>(), 1600000000000LL);
}

TEST(PostgresTypes, UnchangedToastIsMarkedAndFullIdentityGivesBeforeImages) {
  PostgresServer pg;
  pg.Exec(
      "CREATE TABLE docs (id int PRIMARY KEY, n int, body text, blob bytea);"
      "CREATE TABLE full_rows (id int PRIMARY KEY, v text);"
      "ALTER TABLE full_rows REPLICA IDENTITY FULL;");
  auto cfg = TestConfig(pg, {"docs", "full_rows"});
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());
  MemorySink sink;
  CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
  ASSERT_TRUE(WaitFor([&] { return run.probe().streaming(); }));
  // Incompressible values well over the TOAST threshold.
  pg.Exec(
      "INSERT INTO docs SELECT 1, 0, string_agg(md5(i::text), ''), "
      "decode(string_agg(md5((i + 7)::text), ''), 'hex') FROM generate_series(1, 400) i;"
      "UPDATE docs SET n = 1 WHERE id = 1;"
      "INSERT INTO full_rows VALUES (1, 'a');"
      "UPDATE full_rows SET v = 'b' WHERE id = 1;"
      "DELETE FROM full_rows WHERE id = 1;"
      "DELETE FROM docs WHERE id = 1;");
  ASSERT_TRUE(WaitCaughtUp(pg));
  ASSERT_TRUE(run.Stop().ok());

  auto docs = Envelopes(sink.records(), "pg.public.docs");
  ASSERT_EQ(docs.size(), 3u);
  EXPECT_EQ(docs[0]["after"]["body"].get<std::string>().size(), 400u * 32);
  EXPECT_EQ(docs[1]["op"], "u");
  EXPECT_TRUE(docs[1]["before"].is_null());
  EXPECT_EQ(docs[1]["after"]["n"], 1);
  EXPECT_EQ(docs[1]["after"]["body"], "__debezium_unavailable_value");
  EXPECT_EQ(docs[1]["after"]["blob"], "X19kZWJleml1bV91bmF2YWlsYWJsZV92YWx1ZQ==");
  EXPECT_EQ(docs[2]["op"], "d");
  EXPECT_EQ(docs[2]["before"]["id"], 1);
  EXPECT_TRUE(docs[2]["before"]["body"].is_null());

  auto full = Envelopes(sink.records(), "pg.public.full_rows");
  ASSERT_EQ(full.size(), 3u);
  EXPECT_EQ(full[1]["before"]["v"], "a");
  EXPECT_EQ(full[1]["after"]["v"], "b");
  EXPECT_EQ(full[2]["before"]["v"], "b");

  // A delete is followed by a tombstone with the same key.
  auto records = sink.records();
  bool tombstone = false;
  for (size_t i = 0; i + 1 < records.size(); ++i) {
    if (records[i].topic == "pg.public.docs" && records[i].value &&
        Json::parse(*records[i].value)["op"] == "d") {
      tombstone = !records[i + 1].value && records[i + 1].key == records[i].key;
    }
  }
  EXPECT_TRUE(tombstone);
}

TEST(PostgresTypes, SchemaChangesArePickedUpFromRelationMessages) {
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY, a text)");
  auto cfg = TestConfig(pg, {"t"});
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());
  MemorySink sink;
  CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
  ASSERT_TRUE(WaitFor([&] { return run.probe().streaming(); }));
  pg.Exec("INSERT INTO t VALUES (1, 'x')");
  pg.Exec("ALTER TABLE t ADD COLUMN b bigint; ALTER TABLE t DROP COLUMN a");
  pg.Exec("INSERT INTO t VALUES (2, 42); TRUNCATE t");
  ASSERT_TRUE(WaitCaughtUp(pg));
  ASSERT_TRUE(run.Stop().ok());
  auto ev = Envelopes(sink.records(), "pg.public.t");
  ASSERT_EQ(ev.size(), 3u);
  EXPECT_EQ(ev[0]["after"], Json::parse(R"({"id":1,"a":"x"})"));
  EXPECT_EQ(ev[1]["after"], Json::parse(R"({"id":2,"b":42})"));
  EXPECT_EQ(ev[2]["op"], "t");
}

TEST(PostgresTypes, SnapshotModes) {
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 2500)");
  // initial_only: every row once as "r", then Run() returns; no slot is used.
  {
    auto cfg = TestConfig(pg, {"t"});
    cfg.capture.snapshot_mode = SnapshotMode::kInitialOnly;
    MemorySink sink;
    CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
    auto st = run.Join();
    ASSERT_TRUE(st.ok()) << st.error().message;
    auto ev = Envelopes(sink.records(), "pg.public.t");
    ASSERT_EQ(ev.size(), 2500u);
    EXPECT_EQ(ev.front()["source"]["snapshot"], "first");
    EXPECT_EQ(ev.back()["source"]["snapshot"], "last");
    EXPECT_EQ(ev.back()["after"]["id"], 2500);
    EXPECT_EQ(pg.QueryValue("SELECT count(*) FROM pg_replication_slots"), "0");
  }
  // never: no snapshot rows, only changes.
  {
    auto cfg = TestConfig(pg, {"t"});
    cfg.capture.snapshot_mode = SnapshotMode::kNever;
    ASSERT_TRUE(ProvisionFor(pg, cfg).ok());
    MemorySink sink;
    CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
    ASSERT_TRUE(WaitFor([&] { return run.probe().streaming(); }));
    pg.Exec("INSERT INTO t VALUES (9999)");
    ASSERT_TRUE(WaitCaughtUp(pg));
    ASSERT_TRUE(run.Stop().ok());
    auto ev = Envelopes(sink.records(), "pg.public.t");
    ASSERT_EQ(ev.size(), 1u);
    EXPECT_EQ(ev[0]["op"], "c");
  }
}

TEST(PostgresTypes, HeartbeatsAdvanceTheSlotWhileCapturedTablesAreIdle) {
  PostgresServer pg;
  pg.Exec("CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE busy (id serial, pad text)");
  auto cfg = TestConfig(pg, {"t"});
  ASSERT_TRUE(ProvisionFor(pg, cfg).ok());
  MemorySink sink;
  CaptureRunner run(cfg.capture, ParamsFor(pg), sink);
  ASSERT_TRUE(WaitFor([&] { return run.probe().streaming(); }));
  // WAL grows through a table that is not captured.
  pg.Exec("INSERT INTO busy (pad) SELECT repeat('x', 200) FROM generate_series(1, 20000)");
  ASSERT_TRUE(WaitCaughtUp(pg, std::chrono::seconds(30)));
  EXPECT_TRUE(WaitFor([&] { return run.probe().heartbeats() > 0; }));
  EXPECT_LT(run.probe().slot_lag_bytes(), 1u << 20);
  ASSERT_TRUE(run.Stop().ok());
  EXPECT_TRUE(Envelopes(sink.records(), "pg.public.t").empty());
}

}  // namespace
}  // namespace rm::cdc::postgres::test

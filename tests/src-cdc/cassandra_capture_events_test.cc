// Change event mapping of the Cassandra capture: hand-built mutations (rows, TTL cells, cell
// tombstones, row, partition and range deletions, collections) give Debezium-style envelopes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "src-cdc/cassandra/change_events.h"
#include "src-cdc/cassandra/table_schema.h"

namespace rm::cdc::cassandra {
namespace {

using nlohmann::json;

std::string Int32(int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  return {static_cast<char>(u >> 24), static_cast<char>(u >> 16), static_cast<char>(u >> 8),
          static_cast<char>(u)};
}

constexpr int64_t kWriteMicros = 1'700'000'000'123'456;

class CassandraChangeEvents : public ::testing::Test {
 protected:
  void SetUp() override {
    auto schema = Schema::FromCql(
        "CREATE TABLE shop.items (shop int, sku text, name text, price int, tags list<text>, "
        "note text STATIC, PRIMARY KEY (shop, sku)) "
        "WITH ID = 5a1c395e-b41f-11e5-9f22-ba0be0483c18 AND cdc = true;"
        "CREATE TABLE shop.users (id int PRIMARY KEY, email text) "
        "WITH ID = 6b1c395e-b41f-11e5-9f22-ba0be0483c18 AND cdc = true");
    ASSERT_TRUE(schema.ok()) << schema.error().message;
    schema_ = std::move(schema).value();
    items_ = schema_.FindTable("shop", "items");
    users_ = schema_.FindTable("shop", "users");
    ASSERT_NE(items_, nullptr);
    ASSERT_NE(users_, nullptr);
  }

  Cell MakeCell(const TableSchema* t, const char* column, std::string value) {
    Cell c;
    c.column = t->FindColumn(column);
    c.value = std::move(value);
    c.timestamp = kWriteMicros;
    return c;
  }

  PartitionUpdate Items(int32_t shop) {
    PartitionUpdate u;
    u.table = items_;
    u.partition_key = Int32(shop);
    return u;
  }

  Row ItemRow(const std::string& sku) {
    Row r;
    r.clustering = {sku};
    return r;
  }

  // Builds the events of one mutation at 42:1000 and returns their values as JSON.
  std::vector<json> Events(std::vector<PartitionUpdate> updates,
                           std::vector<ChangeEvent>* raw = nullptr) {
    Mutation m;
    m.position = {42, 1000};
    m.end_offset = 1100;
    m.updates = std::move(updates);
    std::vector<common::Error> errors;
    auto events =
        BuildChangeEvents(m, {"cass1", "Test Cluster", "CommitLog-7-42.log", 777}, &errors);
    EXPECT_TRUE(errors.empty()) << errors.front().message;
    std::vector<json> out;
    for (const auto& e : events) out.push_back(json::parse(EncodeValue(e)));
    if (raw != nullptr) *raw = std::move(events);
    return out;
  }

  Schema schema_;
  const TableSchema* items_ = nullptr;
  const TableSchema* users_ = nullptr;
};

TEST_F(CassandraChangeEvents, InsertedRowIsOpIWithEveryColumnAndTheSourceBlock) {
  PartitionUpdate u = Items(7);
  Row row = ItemRow("A-1");
  row.primary_key_liveness.timestamp = kWriteMicros;
  row.cells.push_back(MakeCell(items_, "name", "lamp"));
  row.cells.push_back(MakeCell(items_, "price", Int32(1999)));
  u.rows.push_back(row);

  std::vector<ChangeEvent> raw;
  auto events = Events({u}, &raw);

  ASSERT_EQ(events.size(), 1u);
  const json& e = events[0];
  EXPECT_EQ(e["op"], "i");
  EXPECT_TRUE(e["before"].is_null());
  EXPECT_EQ(e["after"]["shop"], (json{{"value", 7}, {"deletion_ts", nullptr}, {"set", true}}));
  EXPECT_EQ(e["after"]["sku"]["value"], "A-1");
  EXPECT_EQ(e["after"]["name"]["value"], "lamp");
  EXPECT_EQ(e["after"]["price"]["value"], 1999);
  EXPECT_TRUE(e["after"]["price"]["deletion_ts"].is_null());
  EXPECT_TRUE(e["after"]["tags"].is_null()) << "columns the mutation did not touch are null";
  EXPECT_TRUE(e["after"]["note"].is_null());
  EXPECT_EQ(e["source"]["connector"], "cassandra");
  EXPECT_EQ(e["source"]["name"], "cass1");
  EXPECT_EQ(e["source"]["cluster"], "Test Cluster");
  EXPECT_EQ(e["source"]["file"], "CommitLog-7-42.log");
  EXPECT_EQ(e["source"]["pos"], 1000);
  EXPECT_EQ(e["source"]["segment_id"], 42);
  EXPECT_EQ(e["source"]["keyspace"], "shop");
  EXPECT_EQ(e["source"]["table"], "items");
  EXPECT_EQ(e["source"]["ts_ms"], kWriteMicros / 1000);
  EXPECT_EQ(e["ts_ms"], 777);
  EXPECT_EQ(raw[0].topic, "cass1.shop.items");
  EXPECT_EQ(EncodeKey(raw[0]), R"({"shop":7,"sku":"A-1"})");
  EXPECT_EQ(EncodeEventRecords(raw[0], true).size(), 1u) << "no tombstone after an insert";
}

TEST_F(CassandraChangeEvents, UpdateWithTtlCellAndCellTombstoneIsOpU) {
  PartitionUpdate u = Items(7);
  Row row = ItemRow("A-1");  // no primary key liveness: UPDATE
  Cell ttl = MakeCell(items_, "name", "sale");
  ttl.is_expiring = true;
  ttl.ttl = 3600;
  ttl.local_deletion_time = 1'700'003'600;
  row.cells.push_back(ttl);
  Cell gone = MakeCell(items_, "price", "");
  gone.is_tombstone = true;
  gone.timestamp = kWriteMicros + 5;
  row.cells.push_back(gone);
  u.rows.push_back(row);

  auto events = Events({u});

  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["op"], "u");
  EXPECT_EQ(events[0]["after"]["name"]["value"], "sale");
  EXPECT_EQ(events[0]["after"]["name"]["deletion_ts"], int64_t{1'700'003'600} * 1'000'000)
      << "an expiring cell's deletion_ts is its expiry, in microseconds";
  EXPECT_TRUE(events[0]["after"]["price"]["value"].is_null());
  EXPECT_EQ(events[0]["after"]["price"]["deletion_ts"], kWriteMicros + 5);
  EXPECT_EQ(events[0]["source"]["ts_ms"], (kWriteMicros + 5) / 1000) << "latest write wins";
}

TEST_F(CassandraChangeEvents, RowDeletionIsOpDFollowedByATombstone) {
  PartitionUpdate u = Items(7);
  Row row = ItemRow("A-1");
  row.deletion.marked_for_delete_at = kWriteMicros;
  row.deletion.local_deletion_time = 1'700'000'000;
  u.rows.push_back(row);

  std::vector<ChangeEvent> raw;
  auto events = Events({u}, &raw);

  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["op"], "d");
  EXPECT_EQ(events[0]["after"]["sku"]["value"], "A-1");
  EXPECT_TRUE(events[0]["after"]["name"]["value"].is_null());
  EXPECT_EQ(events[0]["after"]["name"]["deletion_ts"], kWriteMicros);
  EXPECT_EQ(events[0]["after"]["price"]["deletion_ts"], kWriteMicros);
  auto records = EncodeEventRecords(raw[0], true);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[1].key, records[0].key);
  EXPECT_FALSE(records[1].value.has_value()) << "tombstone for log compaction";
  EXPECT_EQ(EncodeEventRecords(raw[0], false).size(), 1u);
}

TEST_F(CassandraChangeEvents, PartitionDeletionIsOpDWithNullClusteringAndNoTombstone) {
  PartitionUpdate u = Items(9);
  u.partition_deletion.marked_for_delete_at = kWriteMicros;
  u.partition_deletion.local_deletion_time = 1'700'000'000;

  std::vector<ChangeEvent> raw;
  auto events = Events({u}, &raw);

  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["op"], "d");
  EXPECT_EQ(events[0]["after"]["shop"]["value"], 9);
  EXPECT_TRUE(events[0]["after"]["sku"]["value"].is_null());
  EXPECT_EQ(events[0]["after"]["sku"]["deletion_ts"], kWriteMicros);
  EXPECT_EQ(events[0]["after"]["note"]["deletion_ts"], kWriteMicros);
  EXPECT_EQ(EncodeKey(raw[0]), R"({"shop":9,"sku":null})");
  EXPECT_EQ(EncodeEventRecords(raw[0], true).size(), 1u)
      << "the key names no single row: no tombstone";
}

TEST_F(CassandraChangeEvents, PartitionDeletionOfATableWithoutClusteringGetsATombstone) {
  PartitionUpdate u;
  u.table = users_;
  u.partition_key = Int32(5);
  u.partition_deletion.marked_for_delete_at = kWriteMicros;
  u.partition_deletion.local_deletion_time = 1'700'000'000;

  std::vector<ChangeEvent> raw;
  auto events = Events({u}, &raw);

  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(raw[0].topic, "cass1.shop.users");
  EXPECT_EQ(EncodeKey(raw[0]), R"({"id":5})");
  EXPECT_EQ(EncodeEventRecords(raw[0], true).size(), 2u);
}

TEST_F(CassandraChangeEvents, RangeDeletionIsOpRWithBothBounds) {
  PartitionUpdate u = Items(7);
  RangeTombstoneMarker open;
  open.kind = RangeTombstoneMarker::Kind::kInclusiveStart;
  open.clustering = {std::string("A")};
  open.deletion = {kWriteMicros, 1'700'000'000};
  RangeTombstoneMarker close;
  close.kind = RangeTombstoneMarker::Kind::kExclusiveEnd;
  close.clustering = {std::string("M")};
  close.deletion = {kWriteMicros, 1'700'000'000};
  u.range_tombstones = {open, close};

  std::vector<ChangeEvent> raw;
  auto events = Events({u}, &raw);

  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["op"], "r");
  EXPECT_EQ(events[0]["after"]["shop"]["value"], 7);
  EXPECT_EQ(events[0]["after"]["_range_start"],
            (json{{"method", "INCL_START_BOUND"}, {"values", {{"sku", "A"}}}}));
  EXPECT_EQ(events[0]["after"]["_range_end"],
            (json{{"method", "EXCL_END_BOUND"}, {"values", {{"sku", "M"}}}}));
  EXPECT_EQ(events[0]["source"]["ts_ms"], kWriteMicros / 1000);
  EXPECT_EQ(EncodeEventRecords(raw[0], true).size(), 1u);
}

TEST_F(CassandraChangeEvents, BoundaryMarkerClosesOneRangeAndOpensTheNext) {
  PartitionUpdate u = Items(7);
  RangeTombstoneMarker a, b, c;
  a.kind = RangeTombstoneMarker::Kind::kInclusiveStart;
  a.clustering = {std::string("A")};
  a.deletion = {kWriteMicros, 1};
  b.kind = RangeTombstoneMarker::Kind::kExclusiveEndInclusiveStartBoundary;
  b.clustering = {std::string("F")};
  b.end_deletion = {kWriteMicros, 1};
  b.deletion = {kWriteMicros + 1, 1};
  c.kind = RangeTombstoneMarker::Kind::kInclusiveEnd;
  c.clustering = {std::string("K")};
  c.deletion = {kWriteMicros + 1, 1};
  u.range_tombstones = {a, b, c};

  auto events = Events({u});

  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["after"]["_range_end"]["method"], "EXCL_END_BOUND");
  EXPECT_EQ(events[1]["after"]["_range_start"]["method"], "INCL_START_BOUND");
  EXPECT_EQ(events[1]["after"]["_range_start"]["values"]["sku"], "F");
  EXPECT_EQ(events[1]["after"]["_range_end"]["values"]["sku"], "K");
}

TEST_F(CassandraChangeEvents, CollectionCellsBecomeOneValueAndAClearedCollectionIsDeleted) {
  PartitionUpdate u = Items(7);
  Row row = ItemRow("A-1");
  Cell t1 = MakeCell(items_, "tags", "red");
  t1.path = std::string(16, '\x01');
  Cell t2 = MakeCell(items_, "tags", "big");
  t2.path = std::string(16, '\x02');
  row.cells = {t1, t2};
  u.rows.push_back(row);
  Row cleared = ItemRow("B-2");
  cleared.complex_deletions.push_back({items_->FindColumn("tags"), {kWriteMicros - 1, 1}});
  u.rows.push_back(cleared);

  auto events = Events({u});

  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["after"]["tags"]["value"], (json{"red", "big"}));
  EXPECT_TRUE(events[1]["after"]["tags"]["value"].is_null());
  EXPECT_EQ(events[1]["after"]["tags"]["deletion_ts"], kWriteMicros - 1);
}

TEST_F(CassandraChangeEvents, StaticRowIsAnEventWithNullClustering) {
  PartitionUpdate u = Items(7);
  Row st;
  st.is_static = true;
  st.cells.push_back(MakeCell(items_, "note", "closed on sundays"));
  u.static_row = st;

  std::vector<ChangeEvent> raw;
  auto events = Events({u}, &raw);

  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["op"], "u");
  EXPECT_EQ(events[0]["after"]["note"]["value"], "closed on sundays");
  EXPECT_EQ(EncodeKey(raw[0]), R"({"shop":7,"sku":null})");
}

TEST_F(CassandraChangeEvents, UndecodableValueIsReportedAndItsRowLeftOut) {
  PartitionUpdate u = Items(7);
  Row bad = ItemRow("A-1");
  bad.cells.push_back(MakeCell(items_, "price", "xx"));  // an int needs 4 bytes
  Row good = ItemRow("A-2");
  good.cells.push_back(MakeCell(items_, "price", Int32(5)));
  u.rows = {bad, good};
  Mutation m;
  m.position = {42, 1000};
  m.updates = {u};
  std::vector<common::Error> errors;

  auto events = BuildChangeEvents(m, {"cass1", "c", "CommitLog-7-42.log", 0}, &errors);

  ASSERT_EQ(events.size(), 1u);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].message.find("CommitLog-7-42.log"), std::string::npos);
  EXPECT_NE(errors[0].message.find("42:1000"), std::string::npos);
  EXPECT_NE(errors[0].message.find("price"), std::string::npos);
}

}  // namespace
}  // namespace rm::cdc::cassandra

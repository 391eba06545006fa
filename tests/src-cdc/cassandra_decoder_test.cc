// Mutation decoding on hand-serialized mutations covering what the fixtures do not: static
// rows, TTLs, tombstones of every kind, collections, column subsets and range tombstones. The
// bytes are written here following Cassandra's serializers (messaging version 3.0/4.0).
#include <gtest/gtest.h>

#include <string>

#include "src-cdc/cassandra/mutation_decoder.h"
#include "tests/src-cdc/cassandra_test_support.h"

namespace rm::cdc::cassandra {
namespace {

using testing::ByteWriter;

constexpr uint64_t kTimestampEpoch = 1442880000000000ULL;
constexpr int32_t kDeletionEpoch = 1442880000;
constexpr char kTableId[] = "00000000-0000-0000-0000-0000000000aa";

std::string Int(uint32_t v) { return ByteWriter().U32(v).bytes; }

Schema TestSchema() {
  auto schema = Schema::FromCql(std::string(R"(
      CREATE TABLE ks.t (k int, c1 text, c2 int, s text static, t text, v int, l list<text>,
                         m map<text, int>, st set<int>, PRIMARY KEY (k, c1, c2))
      WITH ID = )") + kTableId);
  EXPECT_TRUE(schema.ok()) << schema.error().message;
  return std::move(schema).value();
}

std::string TableIdBytes() {
  const Uuid id = *Uuid::Parse(kTableId);
  return std::string(id.bytes.begin(), id.bytes.end());
}

// Stats: min timestamp epoch+1000, min local deletion time epoch+10, min TTL 0.
void WriteStats(ByteWriter& w) { w.UVInt(1000).UVInt(10).UVInt(0); }

// One partition update exercising every kind of unfiltered the decoder knows.
std::string RichPartitionUpdate() {
  ByteWriter w;
  w.Raw(TableIdBytes()).VIntBytes(Int(7));
  w.U8(0x04 | 0x08 | 0x10);  // partition deletion, static row, row estimate
  WriteStats(w);
  w.UVInt(1).VIntBytes("s");  // statics
  w.UVInt(5).VIntBytes("t").VIntBytes("v").VIntBytes("l").VIntBytes("m").VIntBytes("st");
  w.UVInt(100).UVInt(5);  // partition deletion: ts epoch+1100, ldt epoch+15
  // Static row: extended flags (static), all columns; one cell with its own timestamp.
  w.U8(0x80 | 0x20).U8(0x01);
  w.U8(0x00).UVInt(1).VIntBytes("static!");
  w.UVInt(3);  // row estimate
  // Row ("a", 1): timestamp, complex deletion flag, subset without `st` (bit 4 missing).
  w.U8(0x04 | 0x40);
  w.UVInt(0).VIntBytes("a").Raw(Int(1));  // clustering header (nothing null/empty), values
  w.UVInt(5);                             // row timestamp epoch+1005
  w.UVInt(16);                            // missing-columns bitmap: column 4 (st)
  w.U8(0x08).VIntBytes("hi");             // t: uses the row timestamp
  w.U8(0x02).UVInt(7).UVInt(20).UVInt(3600).Raw(Int(42));  // v: expiring, own timestamp
  // l: complex deletion, then one element (path = timeuuid, value with a length).
  w.UVInt(4).UVInt(0).UVInt(1);
  w.U8(0x08).VIntBytes(std::string(16, '\x11')).VIntBytes("x");
  // m: no complex deletion (live), two cells: k1 -> 5, k2 deleted.
  w.UVInt(static_cast<uint64_t>(INT64_MIN) - (kTimestampEpoch + 1000))
      .UVInt(static_cast<uint32_t>(INT32_MAX - (kDeletionEpoch + 10)))
      .UVInt(2);
  w.U8(0x08).VIntBytes("k1").VIntBytes(Int(5));
  w.U8(0x01 | 0x04).UVInt(9).UVInt(1).VIntBytes("k2");
  // Row ("b", 2): deleted, no cells (all five columns missing).
  w.U8(0x10).UVInt(0).VIntBytes("b").Raw(Int(2)).UVInt(50).UVInt(2).UVInt(31);
  // Range tombstones over c1: [c, d) then [d, e].
  w.U8(0x02).U8(1).U16(1).UVInt(0).VIntBytes("c").UVInt(60).UVInt(3);
  w.U8(0x02).U8(2).U16(1).UVInt(0).VIntBytes("d").UVInt(60).UVInt(3).UVInt(70).UVInt(4);
  w.U8(0x02).U8(6).U16(1).UVInt(0).VIntBytes("e").UVInt(70).UVInt(4);
  w.U8(0x01);  // end of partition
  return w.bytes;
}

std::string MutationOf(std::initializer_list<std::string> updates) {
  ByteWriter w;
  w.UVInt(updates.size());
  for (const auto& u : updates) w.Raw(u);
  return w.bytes;
}

TEST(CassandraMutationDecoder, DecodesRowsCellsTombstonesAndCollections) {
  const Schema schema = TestSchema();
  const std::string bytes = MutationOf({RichPartitionUpdate()});

  auto decoded = DecodeMutation(bytes, kMessagingVersion40, schema);

  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  ASSERT_FALSE(decoded.value().unknown_table);
  ASSERT_EQ(decoded.value().mutation.updates.size(), 1u);
  const PartitionUpdate& u = decoded.value().mutation.updates[0];
  EXPECT_EQ(u.table->name, "t");
  EXPECT_EQ(u.DecodePartitionKey().value()[0].as<int64_t>(), 7);
  EXPECT_EQ(u.partition_deletion.marked_for_delete_at, int64_t(kTimestampEpoch + 1100));
  EXPECT_EQ(u.partition_deletion.local_deletion_time, kDeletionEpoch + 15);

  ASSERT_TRUE(u.static_row.has_value());
  ASSERT_EQ(u.static_row->cells.size(), 1u);
  EXPECT_EQ(u.static_row->cells[0].column->name, "s");
  EXPECT_EQ(u.static_row->cells[0].value, "static!");
  EXPECT_EQ(u.static_row->cells[0].timestamp, int64_t(kTimestampEpoch + 1001));

  ASSERT_EQ(u.rows.size(), 2u);
  const Row& r = u.rows[0];
  ASSERT_EQ(r.clustering.size(), 2u);
  EXPECT_EQ(*r.clustering[0], "a");
  EXPECT_EQ(r.primary_key_liveness.timestamp, int64_t(kTimestampEpoch + 1005));
  ASSERT_EQ(r.cells.size(), 5u);
  EXPECT_EQ(r.cells[0].column->name, "t");
  EXPECT_EQ(r.cells[0].DecodeValue().value().as<std::string>(), "hi");
  EXPECT_EQ(r.cells[0].timestamp, int64_t(kTimestampEpoch + 1005));
  const Cell& v = r.cells[1];
  EXPECT_TRUE(v.is_expiring);
  EXPECT_EQ(v.ttl, 3600);
  EXPECT_EQ(v.local_deletion_time, kDeletionEpoch + 30);
  EXPECT_EQ(v.DecodeValue().value().as<int64_t>(), 42);
  const Cell& l = r.cells[2];
  EXPECT_EQ(l.column->name, "l");
  EXPECT_EQ(l.DecodeValue().value().as<std::string>(), "x");
  EXPECT_TRUE(l.DecodePath().value().is<Uuid>());
  ASSERT_EQ(r.complex_deletions.size(), 1u);  // only l; m's deletion was live
  EXPECT_EQ(r.complex_deletions[0].column->name, "l");
  EXPECT_EQ(r.complex_deletions[0].deletion.marked_for_delete_at, int64_t(kTimestampEpoch + 1004));
  EXPECT_EQ(r.cells[3].DecodePath().value().as<std::string>(), "k1");
  EXPECT_EQ(r.cells[3].DecodeValue().value().as<int64_t>(), 5);
  EXPECT_TRUE(r.cells[4].is_tombstone);
  EXPECT_EQ(r.cells[4].DecodePath().value().as<std::string>(), "k2");
  EXPECT_EQ(r.cells[4].local_deletion_time, kDeletionEpoch + 11);

  const Row& deleted = u.rows[1];
  EXPECT_EQ(*deleted.clustering[0], "b");
  EXPECT_TRUE(deleted.cells.empty());
  EXPECT_EQ(deleted.deletion.marked_for_delete_at, int64_t(kTimestampEpoch + 1050));
  EXPECT_TRUE(deleted.primary_key_liveness.is_empty());

  ASSERT_EQ(u.range_tombstones.size(), 3u);
  EXPECT_EQ(u.range_tombstones[0].kind, RangeTombstoneMarker::Kind::kInclusiveStart);
  EXPECT_EQ(*u.range_tombstones[0].clustering[0], "c");
  EXPECT_TRUE(u.range_tombstones[1].is_boundary());
  EXPECT_EQ(u.range_tombstones[1].end_deletion.marked_for_delete_at,
            int64_t(kTimestampEpoch + 1060));
  EXPECT_EQ(u.range_tombstones[1].deletion.marked_for_delete_at, int64_t(kTimestampEpoch + 1070));
  EXPECT_EQ(u.range_tombstones[2].kind, RangeTombstoneMarker::Kind::kInclusiveEnd);
}

TEST(CassandraMutationDecoder, RowTtlAppliesToCellsThatUseIt) {
  const Schema schema = TestSchema();
  ByteWriter w;
  w.Raw(TableIdBytes()).VIntBytes(Int(1)).U8(0x00);
  WriteStats(w);
  w.UVInt(1).VIntBytes("t");
  w.U8(0x04 | 0x08 | 0x20);  // timestamp + TTL, all columns
  w.UVInt(0).VIntBytes("a").Raw(Int(1));
  w.UVInt(2).UVInt(86400).UVInt(100);          // ts, ttl, local expiration
  w.U8(0x02 | 0x08 | 0x10).VIntBytes("temp");  // expiring, row timestamp and row TTL
  w.U8(0x01);

  auto decoded = DecodeMutation(MutationOf({w.bytes}), kMessagingVersion30, schema);

  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  const Row& r = decoded.value().mutation.updates[0].rows[0];
  EXPECT_EQ(r.primary_key_liveness.ttl, 86400);
  ASSERT_EQ(r.cells.size(), 1u);
  EXPECT_TRUE(r.cells[0].is_expiring);
  EXPECT_EQ(r.cells[0].ttl, 86400);
  EXPECT_EQ(r.cells[0].local_deletion_time, kDeletionEpoch + 110);
  EXPECT_EQ(r.cells[0].timestamp, int64_t(kTimestampEpoch + 1002));
}

TEST(CassandraMutationDecoder, LargeColumnSetsUseIndexSubsets) {
  std::string cql = "CREATE TABLE ks.wide (k int PRIMARY KEY";
  for (int i = 0; i < 70; ++i) cql += ", c" + std::to_string(i) + " int";
  cql += ") WITH ID = 00000000-0000-0000-0000-0000000000bb";
  auto schema = Schema::FromCql(cql);
  ASSERT_TRUE(schema.ok()) << schema.error().message;
  ByteWriter w;
  const auto id = *Uuid::Parse("00000000-0000-0000-0000-0000000000bb");
  w.Raw(std::string(id.bytes.begin(), id.bytes.end())).VIntBytes(Int(1)).U8(0x00);
  WriteStats(w);
  w.UVInt(70);
  for (int i = 0; i < 70; ++i) w.VIntBytes("c" + std::to_string(i));
  // Row 1 carries c3 and c10: 68 missing, fewer present than half, so present indexes follow.
  w.U8(0x04).UVInt(0).UVInt(68).UVInt(3).UVInt(10);
  w.U8(0x08).Raw(Int(3)).U8(0x08).Raw(Int(10));
  // Row 2 carries all but c5: one missing, so the missing index follows.
  w.U8(0x04).UVInt(0).UVInt(1).UVInt(5);
  for (int i = 0; i < 70; ++i) {
    if (i != 5) w.U8(0x08).Raw(Int(static_cast<uint32_t>(i)));
  }
  w.U8(0x01);

  auto decoded = DecodeMutation(MutationOf({w.bytes}), kMessagingVersion40, schema.value());

  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  const auto& rows = decoded.value().mutation.updates[0].rows;
  ASSERT_EQ(rows.size(), 2u);
  ASSERT_EQ(rows[0].cells.size(), 2u);
  EXPECT_EQ(rows[0].cells[1].column->name, "c10");
  EXPECT_EQ(rows[0].cells[1].DecodeValue().value().as<int64_t>(), 10);
  ASSERT_EQ(rows[1].cells.size(), 69u);
  EXPECT_EQ(rows[1].cells[5].column->name, "c6");
}

TEST(CassandraMutationDecoder, EntriesOfUnknownTablesAreFlaggedNotDecoded) {
  const Schema schema = TestSchema();
  ByteWriter w;
  w.UVInt(1).Raw(std::string(16, '\x42')).VIntBytes("whatever").U8(0x01);

  auto decoded = DecodeMutation(w.bytes, kMessagingVersion40, schema);

  ASSERT_TRUE(decoded.ok());
  ASSERT_TRUE(decoded.value().unknown_table.has_value());
  EXPECT_EQ(decoded.value().unknown_table->ToString(), "42424242-4242-4242-4242-424242424242");
}

TEST(CassandraMutationDecoder, UnknownColumnIsAnErrorNamingIt) {
  const Schema schema = TestSchema();
  ByteWriter w;
  w.Raw(TableIdBytes()).VIntBytes(Int(1)).U8(0x00);
  WriteStats(w);
  w.UVInt(1).VIntBytes("added_later").U8(0x01);

  auto decoded = DecodeMutation(MutationOf({w.bytes}), kMessagingVersion40, schema);

  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().code, "cassandra.decode");
  EXPECT_NE(decoded.error().message.find("unknown column 'added_later'"), std::string::npos);
  EXPECT_NE(decoded.error().message.find("table ks.t"), std::string::npos);
}

TEST(CassandraMutationDecoder, EveryTruncationIsAnErrorWithAnOffset) {
  const Schema schema = TestSchema();
  const std::string bytes = MutationOf({RichPartitionUpdate()});

  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    auto decoded = DecodeMutation(bytes.substr(0, cut), kMessagingVersion40, schema);
    ASSERT_FALSE(decoded.ok()) << "cut at " << cut;
    EXPECT_NE(decoded.error().message.find(" at byte "), std::string::npos)
        << decoded.error().message;
  }
}

TEST(CassandraMutationDecoder, RowContextAppearsInErrors) {
  const Schema schema = TestSchema();
  std::string bytes = MutationOf({RichPartitionUpdate()});
  bytes.resize(bytes.size() - 20);  // inside the range tombstones, after row 1

  auto decoded = DecodeMutation(bytes, kMessagingVersion40, schema);

  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("partition update 0 of table ks.t: row "),
            std::string::npos)
      << decoded.error().message;
}

}  // namespace
}  // namespace rm::cdc::cassandra

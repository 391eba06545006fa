// CREATE TABLE parsing and CQL types for the Cassandra commit log reader.
#include <gtest/gtest.h>

#include <string>

#include "src-cdc/cassandra/cql_type.h"
#include "src-cdc/cassandra/table_schema.h"

namespace rm::cdc::cassandra {
namespace {

::testing::AssertionResult FailsWith(const common::Result<TableSchema>& r,
                                     const std::string& needle) {
  if (r.ok()) return ::testing::AssertionFailure() << "parsed, expected an error with: " << needle;
  if (r.error().message.find(needle) == std::string::npos) {
    return ::testing::AssertionFailure()
           << "error '" << r.error().message << "' lacks '" << needle << "'";
  }
  return ::testing::AssertionSuccess();
}

TEST(CassandraSchema, ParsesColumnsKeysAndOptions) {
  auto t = ParseCreateTable(R"(
    -- orders by customer
    CREATE TABLE IF NOT EXISTS Shop."Orders" (
      customer_id uuid,
      "OrderDay" date,
      seq timeuuid,
      note text STATIC,
      total decimal,
      tags set<text>,
      lines frozen<list<frozen<map<text, int>>>>,
      PRIMARY KEY ((customer_id, "OrderDay"), seq)
    ) WITH CLUSTERING ORDER BY (seq DESC)
      AND compaction = {'class': 'LeveledCompactionStrategy', 'sstable_size_in_mb': 160}
      AND cdc = true
      AND default_time_to_live = 0
      AND comment = 'it''s fine'
      AND ID = 5a1c395e-b41f-11e5-9f22-ba0be0483c18;
  )");

  ASSERT_TRUE(t.ok()) << t.error().message;
  const TableSchema& table = t.value();
  EXPECT_EQ(table.keyspace, "shop");  // unquoted names fold to lower case
  EXPECT_EQ(table.name, "Orders");    // quoted names keep their case
  EXPECT_TRUE(table.cdc);
  ASSERT_TRUE(table.id.has_value());
  EXPECT_EQ(table.id->ToString(), "5a1c395e-b41f-11e5-9f22-ba0be0483c18");
  ASSERT_EQ(table.columns.size(), 7u);
  ASSERT_EQ(table.partition_key.size(), 2u);
  EXPECT_EQ(table.columns[table.partition_key[0]].name, "customer_id");
  EXPECT_EQ(table.columns[table.partition_key[1]].name, "OrderDay");
  EXPECT_EQ(table.columns[table.partition_key[1]].kind, ColumnKind::kPartitionKey);
  EXPECT_EQ(table.columns[table.partition_key[1]].key_index, 1);
  ASSERT_EQ(table.clustering.size(), 1u);
  const ColumnSchema* seq = table.FindColumn("seq");
  ASSERT_NE(seq, nullptr);
  EXPECT_EQ(seq->kind, ColumnKind::kClustering);
  EXPECT_TRUE(seq->descending);
  EXPECT_EQ(table.FindColumn("note")->kind, ColumnKind::kStatic);
  EXPECT_EQ(table.FindColumn("total")->kind, ColumnKind::kRegular);
  EXPECT_TRUE(table.FindColumn("tags")->type.IsMultiCell());
  EXPECT_FALSE(table.FindColumn("lines")->type.IsMultiCell());
  EXPECT_EQ(table.FindColumn("lines")->type.ToString(), "frozen<list<frozen<map<text, int>>>>");
}

TEST(CassandraSchema, AcceptsInlinePrimaryKeyAndCompactStorage) {
  auto t = ParseCreateTable(
      "create table ks.t (id int primary key, v varchar) with compact storage and id = "
      "'00000000-0000-0000-0000-000000000001'");

  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t.value().partition_key.size(), 1u);
  EXPECT_TRUE(t.value().clustering.empty());
  EXPECT_EQ(t.value().FindColumn("v")->type.kind, CqlKind::kText);
  EXPECT_FALSE(t.value().cdc);
}

TEST(CassandraSchema, ParsesSeveralStatementsIntoOneSchema) {
  auto schema = Schema::FromCql(R"(
    CREATE TABLE a.one (k int PRIMARY KEY) WITH ID = 00000000-0000-0000-0000-00000000000a;
    /* second */ CREATE TABLE a.two (k int PRIMARY KEY) WITH ID = 00000000-0000-0000-0000-00000000000b;
  )");

  ASSERT_TRUE(schema.ok()) << schema.error().message;
  EXPECT_EQ(schema.value().size(), 2u);
  const auto id = Uuid::Parse("00000000-0000-0000-0000-00000000000b");
  ASSERT_NE(schema.value().FindTable(*id), nullptr);
  EXPECT_EQ(schema.value().FindTable(*id)->name, "two");
  EXPECT_EQ(schema.value().FindTable("a", "one")->name, "one");
}

TEST(CassandraSchema, AConfiguredTableIdOverridesTheStatement) {
  Schema schema;
  auto t = ParseCreateTable("CREATE TABLE ks.t (k int PRIMARY KEY)");
  ASSERT_TRUE(t.ok());
  const auto id = *Uuid::Parse("11111111-2222-3333-4444-555555555555");

  ASSERT_TRUE(schema.AddTable(std::move(t).value(), id).ok());

  EXPECT_NE(schema.FindTable(id), nullptr);
}

TEST(CassandraSchema, RejectsATableWithoutIdNamingTheTable) {
  auto schema = Schema::FromCql("CREATE TABLE ks.t (k int PRIMARY KEY)");

  ASSERT_FALSE(schema.ok());
  EXPECT_NE(schema.error().message.find("ks.t has no id"), std::string::npos);
}

TEST(CassandraSchema, RejectsTwoTablesWithTheSameId) {
  auto schema = Schema::FromCql(
      "CREATE TABLE ks.a (k int PRIMARY KEY) WITH ID = 00000000-0000-0000-0000-000000000001;"
      "CREATE TABLE ks.b (k int PRIMARY KEY) WITH ID = 00000000-0000-0000-0000-000000000001;");

  ASSERT_FALSE(schema.ok());
  EXPECT_NE(schema.error().message.find("share id"), std::string::npos);
}

TEST(CassandraSchema, BadStatementsGiveAClearError) {
  EXPECT_TRUE(FailsWith(ParseCreateTable("CREATE TABLE t (k int PRIMARY KEY)"),
                        "must be qualified with its keyspace"));
  EXPECT_TRUE(FailsWith(ParseCreateTable("CREATE TABLE ks.t (k strng PRIMARY KEY)"),
                        "unknown or unsupported type 'strng'"));
  EXPECT_TRUE(
      FailsWith(ParseCreateTable("CREATE TABLE ks.t (k int PRIMARY KEY)\nWITH comment = 'x"),
                "line 2, column 16: unterminated string literal"));
  EXPECT_TRUE(FailsWith(ParseCreateTable("CREATE TABLE ks.t (k int, v int)"), "no PRIMARY KEY"));
  EXPECT_TRUE(FailsWith(ParseCreateTable("CREATE TABLE ks.t (k int, PRIMARY KEY (x))"),
                        "PRIMARY KEY names unknown column 'x'"));
  EXPECT_TRUE(FailsWith(ParseCreateTable("CREATE TABLE ks.t (k int PRIMARY KEY, k text)"),
                        "column 'k' declared twice"));
  EXPECT_TRUE(FailsWith(ParseCreateTable("CREATE TABLE ks.t (k int PRIMARY KEY, v int STATIC)"),
                        "needs a table with clustering columns"));
  EXPECT_TRUE(FailsWith(ParseCreateTable("CREATE TABLE ks.t (k list<int> PRIMARY KEY)"),
                        "non-frozen type list<int>"));
  EXPECT_TRUE(FailsWith(ParseCreateTable("CREATE TABLE ks.t (k int PRIMARY KEY, c counter, v int)"),
                        "counter and non-counter columns cannot be mixed"));
  EXPECT_TRUE(FailsWith(ParseCreateTable("CREATE TABLE ks.t (k int PRIMARY KEY, v map<int>)"),
                        "map takes 2 type parameter(s), got 1"));
  EXPECT_TRUE(FailsWith(ParseCreateTable("CREATE TABLE ks.t (k int PRIMARY KEY, v address)"),
                        "user-defined types are not supported"));
  EXPECT_TRUE(FailsWith(ParseCreateTable("CREATE TABLE ks.t (k int PRIMARY KEY) WITH ID = 42"),
                        "ID must be a UUID"));
  EXPECT_TRUE(FailsWith(ParseCreateTable("CREATE TABLE ks.t (k int PRIMARY KEY) WITH cdc = maybe"),
                        "cdc must be true or false"));
  EXPECT_TRUE(FailsWith(ParseCreateTable("CREATE KEYSPACE ks WITH replication = {}"),
                        "only CREATE TABLE statements are supported"));
  EXPECT_TRUE(FailsWith(ParseCreateTable("CREATE TABLE ks.t (k int PRIMARY KEY"),
                        "expected ',' or ')' in the column list but found end of input"));
  EXPECT_TRUE(FailsWith(ParseCreateTable("CREATE TABLE ks.t (c int, k int, PRIMARY KEY (k), "
                                         "PRIMARY KEY (c))"),
                        "PRIMARY KEY declared twice"));
  EXPECT_TRUE(FailsWith(ParseCreateTable(""), "expected exactly one CREATE TABLE statement"));
}

TEST(CassandraCqlType, KnowsOnDiskWidths) {
  EXPECT_EQ(ParseCqlType("int").value().FixedLength(), 4);
  EXPECT_EQ(ParseCqlType("bigint").value().FixedLength(), 8);
  EXPECT_EQ(ParseCqlType("timestamp").value().FixedLength(), 8);
  EXPECT_EQ(ParseCqlType("timeuuid").value().FixedLength(), 16);
  EXPECT_EQ(ParseCqlType("boolean").value().FixedLength(), 1);
  // Variable on disk in Cassandra 3.x/4.x although their values have a fixed size.
  EXPECT_EQ(ParseCqlType("smallint").value().FixedLength(), -1);
  EXPECT_EQ(ParseCqlType("tinyint").value().FixedLength(), -1);
  EXPECT_EQ(ParseCqlType("date").value().FixedLength(), -1);
  EXPECT_EQ(ParseCqlType("time").value().FixedLength(), -1);
  EXPECT_EQ(ParseCqlType("frozen<list<int>>").value().FixedLength(), -1);
}

TEST(CassandraCqlType, NestedCollectionsAreFrozenAndPrintBack) {
  auto t = ParseCqlType("map<text, list<int>>");

  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_TRUE(t.value().IsMultiCell());
  EXPECT_TRUE(t.value().params[1].frozen);
  EXPECT_EQ(t.value().ToString(), "map<text, frozen<list<int>>>");
  EXPECT_FALSE(ParseCqlType("list<int> extra").ok());
  EXPECT_FALSE(ParseCqlType("'org.apache.cassandra.db.marshal.BytesType'").ok());
  EXPECT_FALSE(ParseCqlType("list<counter>").ok());
}

}  // namespace
}  // namespace rm::cdc::cassandra

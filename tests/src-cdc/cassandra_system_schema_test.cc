// Schema mutations: the system_schema rows in Cassandra's own fixture segments decode to the
// fixtures' table (its id, columns, kinds and types), hand-made ALTER rows become column changes,
// and malformed ones are errors that name what is wrong.
#include "src-cdc/cassandra/system_schema.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "src-cdc/cassandra/commit_log_reader.h"
#include "src-cdc/cassandra/key_provider.h"
#include "src-cdc/cassandra/mutation_decoder.h"
#include "src-cdc/cassandra/schema_guard.h"
#include "tests/src-cdc/cassandra_schema_mutation_support.h"
#include "tests/util/test_util.h"

namespace rm::cdc::cassandra {
namespace {

using testing::ColumnRow;
using testing::ColumnsUpdate;
using testing::FixtureRoot;
using testing::MutationOf;
using testing::ReadHashFile;

// The fixtures' table with the system_schema tables.
Schema ReaderSchema(const std::string& dir) {
  Schema schema = testing::Standard1Schema(dir);
  EXPECT_TRUE(AddSystemSchemaTables(&schema).ok());
  return schema;
}

struct Found {
  std::vector<Mutation> schema_mutations;
  std::vector<TableChange> standard1;                 // changes of Keyspace1.Standard1, in order
  std::optional<CommitLogPosition> standard1_create;  // where the first of them is
  std::optional<CommitLogPosition> first_write;       // Standard1's first data entry
  uint64_t corrupt_entries = 0;
  std::vector<std::string> errors;
};

// Every segment of a fixture directory, in id order.
Found ReadFixture(const std::string& dir, const Schema& schema) {
  StaticKeyProvider keys;
  EXPECT_TRUE(keys.AddHexKey("testing:1", "b7d96fb9b11d829179aeeb0b4e81f97a").ok());
  ReaderOptions options;
  options.schema = &schema;
  options.keys = &keys;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(FixtureRoot() / dir)) {
    if (e.path().extension() == ".log") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  Found out;
  for (const auto& file : files) {
    auto p = ReadSegmentFile(file, options, [&](Mutation&& m) {
      if (IsSchemaMutation(m)) {
        auto changes = DecodeSchemaChanges(m);
        EXPECT_TRUE(changes.ok()) << changes.error().message;
        if (changes.ok()) {
          for (auto& c : changes.value()) {
            if (c.keyspace != "Keyspace1" || c.table != "Standard1") continue;
            if (!out.standard1_create) out.standard1_create = m.position;
            out.standard1.push_back(c);
          }
        }
        out.schema_mutations.push_back(std::move(m));
      } else if (!out.first_write && m.updates[0].table->name == "Standard1") {
        out.first_write = m.position;
      }
      return ReadControl::kContinue;
    });
    EXPECT_TRUE(p.ok());
    if (!p.ok()) continue;
    out.corrupt_entries += p->stats.corrupt_entries;
    for (const auto& e : p->errors) out.errors.push_back(e.message);
  }
  return out;
}

TEST(CassandraSystemSchema, SystemTableIdsAreJavasNameBasedUuids) {
  // UUID.nameUUIDFromBytes("system_schema" + "columns"), computed independently (Python's
  // hashlib.md5 with the version and variant bits set as java.util.UUID does).
  EXPECT_EQ(SystemTableId("system_schema", "columns").ToString(),
            "24101c25-a2ae-3af7-87c1-b40ee1aca33f");
  EXPECT_EQ(SystemTableId("system_schema", "tables").version(), 3);
}

TEST(CassandraSystemSchema, EveryFixtureHoldsTheCreateOfItsTableBeforeItsFirstWrite) {
  // What CommitLogUpgradeTest ran: CREATE TABLE Keyspace1.Standard1 (its id is the cfid of
  // hash.txt), then the writes; no ALTER. The 3.0 generator uses SchemaLoader's standard table
  // (clustering column "name", ascii values, val and val0), 3.4 and 4.0 their own (clustering
  // "col", val blob). Every segment keeps that CREATE as system_schema mutations (3.4's too,
  // encrypted), and every system_schema entry decodes.
  struct Case {
    std::string dir;
    std::string cql;  // the table the CREATE defines
  };
  const std::vector<Case> cases = {
      {"3.0.13-encrypted",
       "(key ascii, name ascii, val ascii, val0 ascii, PRIMARY KEY (key, name))"},
      {"3.0.29-encrypted",
       "(key ascii, name ascii, val ascii, val0 ascii, PRIMARY KEY (key, name))"},
      {"3.4-encrypted", "(key ascii, col ascii, val blob, PRIMARY KEY (key, col))"},
      {"4.0.11-encrypted", "(key ascii, col ascii, val blob, PRIMARY KEY (key, col))"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.dir);
    const Schema schema = ReaderSchema(c.dir);
    const Found found = ReadFixture(c.dir, schema);
    EXPECT_GT(found.schema_mutations.size(), 0u);
    EXPECT_EQ(found.corrupt_entries, 0u);
    EXPECT_TRUE(found.errors.empty()) << (found.errors.empty() ? "" : found.errors[0]);
    ASSERT_EQ(found.standard1.size(), 1u);
    const TableChange& create = found.standard1.front();
    std::string cfid = ReadHashFile(FixtureRoot() / c.dir).at("cfid");
    if (!cfid.empty() && cfid.back() == '\r') cfid.pop_back();  // 3.4's hash.txt has CRLFs
    ASSERT_TRUE(create.id.has_value());
    EXPECT_EQ(create.id->ToString(), cfid);
    EXPECT_TRUE(create.defines_table());
    EXPECT_TRUE(create.columns_deleted.empty());
    auto expected = ParseCreateTable("CREATE TABLE \"Keyspace1\".\"Standard1\" " + c.cql +
                                     " WITH ID = " + cfid);
    ASSERT_TRUE(expected.ok()) << expected.error().message;
    auto defined = DefinedTable(*schema.FindTable("Keyspace1", "Standard1"), create);
    ASSERT_TRUE(defined.ok()) << defined.error().message;
    EXPECT_EQ(DescribeColumnChanges(*expected, *defined), "no column changed");
    // The CREATE precedes the table's first write.
    ASSERT_TRUE(found.standard1_create && found.first_write);
    EXPECT_TRUE(*found.standard1_create < *found.first_write)
        << found.standard1_create->ToString() << " " << found.first_write->ToString();
  }
}

Schema OrdersSchema() {
  auto s = Schema::FromCql(
      "CREATE TABLE shop.orders (id int, line int, note text, total bigint, PRIMARY KEY (id, "
      "line)) WITH ID = 5a1c395e-b41f-11e5-9f22-ba0be0483c18");
  EXPECT_TRUE(s.ok());
  Schema out = std::move(s).value();
  EXPECT_TRUE(AddSystemSchemaTables(&out).ok());
  return out;
}

common::Result<std::vector<TableChange>> Decode(const Schema& schema, const std::string& update) {
  auto entry = DecodeMutation(MutationOf({update}), kMessagingVersion40, schema);
  if (!entry.ok()) return entry.error();
  EXPECT_FALSE(entry->unknown_table.has_value());
  entry->mutation.position = {1, 100};
  EXPECT_TRUE(IsSchemaMutation(entry->mutation));
  return DecodeSchemaChanges(entry->mutation);
}

TEST(CassandraSystemSchema, AlterRowsAddDropAndRetypeColumns) {
  const Schema schema = OrdersSchema();
  const TableSchema& orders = *schema.FindTable("shop", "orders");
  auto changes = Decode(schema, ColumnsUpdate("shop", "orders",
                                              {{.name = "coupon", .type = "frozen<set<text>>"},
                                               {.name = "note", .deleted = true},
                                               {.name = "total", .type = "varint"}}));
  ASSERT_TRUE(changes.ok()) << changes.error().message;
  ASSERT_EQ(changes->size(), 1u);
  const TableChange& c = changes->front();
  EXPECT_FALSE(c.defines_table());
  EXPECT_EQ(c.columns_deleted, std::vector<std::string>{"note"});
  ASSERT_EQ(c.columns_written.size(), 2u);
  auto next = ApplyTableChange(orders, c);
  ASSERT_TRUE(next.ok() && next->has_value());
  const TableSchema& t = **next;
  ASSERT_EQ(t.columns.size(), 4u);
  EXPECT_EQ(t.columns[2].name, "total");
  EXPECT_EQ(t.columns[2].type.ToString(), "varint");
  EXPECT_EQ(t.columns[3].name, "coupon");
  EXPECT_EQ(t.partition_key, std::vector<int>{0});
  EXPECT_EQ(t.clustering, std::vector<int>{1});
  EXPECT_EQ(DescribeColumnChanges(orders, t),
            "~total bigint -> varint, +coupon frozen<set<text>>, -note");
  // Written again unchanged (a replayed or repeated mutation): nothing changes.
  auto same = ApplyTableChange(t, c);
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->has_value());
}

TEST(CassandraSystemSchema, MalformedRowsAreErrorsNamingTheRow) {
  const Schema schema = OrdersSchema();
  const TableSchema& orders = *schema.FindTable("shop", "orders");
  // A column row without its type.
  auto no_type = Decode(schema, ColumnsUpdate("shop", "orders", {{.name = "c", .type = "int"}},
                                              /*omit=*/"type"));
  ASSERT_FALSE(no_type.ok());
  EXPECT_EQ(no_type.error().code, "cassandra.schema_mutation");
  EXPECT_NE(no_type.error().message.find("column shop.orders.c without type"), std::string::npos)
      << no_type.error().message;
  // A user-defined type and an unknown kind: the reader cannot decode such a column.
  for (const ColumnRow& row : {ColumnRow{.name = "addr", .type = "frozen<address>"},
                               ColumnRow{.name = "c", .type = "int", .kind = "sideways"}}) {
    auto changes = Decode(schema, ColumnsUpdate("shop", "orders", {row}));
    ASSERT_TRUE(changes.ok());
    auto next = ApplyTableChange(orders, changes->front());
    ASSERT_FALSE(next.ok());
    EXPECT_EQ(next.error().code, "cassandra.schema_change");
    EXPECT_NE(next.error().message.find("table shop.orders: column " + row.name), std::string::npos)
        << next.error().message;
  }
  // A truncated update is an undecodable entry naming the system table.
  std::string update = ColumnsUpdate("shop", "orders", {{.name = "c", .type = "int"}});
  update.resize(update.size() - 5);
  auto cut = DecodeMutation(MutationOf({update}), kMessagingVersion40, schema);
  ASSERT_FALSE(cut.ok());
  EXPECT_NE(cut.error().message.find("system_schema.columns"), std::string::npos)
      << cut.error().message;
}

TEST(CassandraSystemSchema, AShapeFromTheHistoryGivesBackTheTable) {
  auto s = Schema::FromCql(
      "CREATE TABLE ks.t (a int, b text, c timeuuid, d int STATIC, e map<text, int>, "
      "PRIMARY KEY ((a, b), c)) WITH CLUSTERING ORDER BY (c DESC) AND ID = "
      "5a1c395e-b41f-11e5-9f22-ba0be0483c18");
  ASSERT_TRUE(s.ok()) << s.error().message;
  const TableSchema& t = *s->FindTable("ks", "t");
  auto back = TableFromShape(t, ShapeOf(t));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(ShapeOf(*back) == ShapeOf(t));
  EXPECT_EQ(back->partition_key, t.partition_key);
  EXPECT_EQ(back->clustering, t.clustering);
  EXPECT_TRUE(back->id == t.id);
  EXPECT_TRUE(ParsePositionText("1699279786262:4711") == (CommitLogPosition{1699279786262, 4711}));
  EXPECT_FALSE(ParsePositionText("0/16B3748").has_value());
}

}  // namespace
}  // namespace rm::cdc::cassandra

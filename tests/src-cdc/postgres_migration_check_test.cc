// Migration checker: every rule, both ways.
#include <gtest/gtest.h>

#include "src-cdc/postgres/migration_check.h"

namespace rm::cdc::postgres {
namespace {

std::vector<CapturedTable> Tables() {
  CapturedTable orders;
  orders.name = TableName{"public", "orders"};
  orders.primary_key = {"id"};
  orders.column_types = {{"id", "bigint"},
                         {"customer", "integer"},
                         {"note", "text"},
                         {"code", "character varying(20)"},
                         {"amount", "numeric(12,2)"},
                         {"ratio", "double precision"},
                         {"created", "timestamp without time zone"}};
  CapturedTable items;
  items.name = TableName{"sales", "items"};
  items.primary_key = {"order_id", "line"};
  return {orders, items};
}

MigrationCheckResult Check(const std::string& sql) {
  return CheckMigration(sql, Tables(), "regionmirror");
}

void ExpectBreaks(const std::string& sql, const std::string& why_part) {
  auto r = Check(sql);
  ASSERT_FALSE(r.ok()) << sql;
  ASSERT_FALSE(r.findings.empty()) << sql << " " << r.parse_error;
  EXPECT_NE(r.findings[0].reason.find(why_part), std::string::npos)
      << sql << "\n  reason: " << r.findings[0].reason;
}

void ExpectSafe(const std::string& sql) {
  auto r = Check(sql);
  EXPECT_TRUE(r.ok()) << sql << "\n" << r.Format();
}

TEST(SqlSplitter, HonoursQuotesDollarQuotesAndComments) {
  auto r = SplitSqlStatements(
      "-- header; not a statement\n"
      "CREATE TABLE a (x text DEFAULT 'a;b''c');\n"
      "/* block; /* nested; */ still */ SELECT \"we;ird\" FROM a;\n"
      "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;\n"
      "\n\nSELECT E'it\\'s; fine'  ;  ;\n"
      "SELECT $$x;y$$");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 5u);
  EXPECT_EQ((*r)[0].line, 2);
  EXPECT_EQ((*r)[0].text, "CREATE TABLE a (x text DEFAULT 'a;b''c')");
  EXPECT_EQ((*r)[1].line, 3);
  EXPECT_NE((*r)[2].text.find("SELECT 1; $body$"), std::string::npos);
  EXPECT_EQ((*r)[3].line, 7);
  EXPECT_EQ((*r)[3].text, "SELECT E'it\\'s; fine'");
  EXPECT_EQ((*r)[4].number, 5);
}

TEST(SqlSplitter, ReportsUnterminatedQuotesWithTheirLine) {
  auto r = SplitSqlStatements("SELECT 1;\nSELECT 'oops;\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("line 2"), std::string::npos);
  EXPECT_FALSE(SplitSqlStatements("SELECT $a$ x").ok());
  EXPECT_FALSE(SplitSqlStatements("/* open").ok());
  auto res = CheckMigration("SELECT 'x", Tables());
  EXPECT_FALSE(res.ok());
  EXPECT_FALSE(res.parse_error.empty());
}

TEST(MigrationCheck, SetNotNull) {
  ExpectBreaks("ALTER TABLE orders ALTER COLUMN note SET NOT NULL", "SET NOT NULL");
  ExpectBreaks("alter table if exists only public.orders alter note set not null", "SET NOT NULL");
  ExpectSafe("ALTER TABLE orders ALTER COLUMN note DROP NOT NULL");
  ExpectSafe("ALTER TABLE other ALTER COLUMN note SET NOT NULL");
}

TEST(MigrationCheck, TypeNarrowing) {
  ExpectBreaks("ALTER TABLE orders ALTER COLUMN customer TYPE smallint", "narrows");
  ExpectBreaks("ALTER TABLE orders ALTER COLUMN note TYPE varchar(50)", "narrows");
  ExpectBreaks("ALTER TABLE orders ALTER COLUMN code SET DATA TYPE character varying(10)",
               "narrows");
  ExpectBreaks("ALTER TABLE orders ALTER COLUMN amount TYPE numeric(10,2)", "narrows");
  ExpectBreaks("ALTER TABLE orders ALTER COLUMN amount TYPE numeric(12,1)", "narrows");
  ExpectBreaks("ALTER TABLE orders ALTER COLUMN ratio TYPE real", "narrows");
  ExpectBreaks("ALTER TABLE orders ALTER COLUMN created TYPE timestamp(3)", "narrows");
  ExpectBreaks("ALTER TABLE orders ALTER COLUMN customer TYPE numeric(20,0)", "encoding");
  ExpectBreaks("ALTER TABLE orders ALTER COLUMN note TYPE integer USING note::integer", "encoding");
  ExpectSafe("ALTER TABLE orders ALTER COLUMN customer TYPE bigint");
  ExpectSafe("ALTER TABLE orders ALTER COLUMN code TYPE varchar(40)");
  ExpectSafe("ALTER TABLE orders ALTER COLUMN code TYPE text");
  ExpectSafe("ALTER TABLE orders ALTER COLUMN amount TYPE numeric(14,2)");
  ExpectSafe("ALTER TABLE orders ALTER COLUMN amount TYPE numeric");
  ExpectSafe("ALTER TABLE other ALTER COLUMN x TYPE smallint");
}

TEST(MigrationCheck, TypeChangeWithUnknownCurrentTypeIsPossibleNarrowing) {
  auto r = CheckMigration("ALTER TABLE orders ALTER COLUMN mystery TYPE varchar(5)", Tables());
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_NE(r.findings[0].reason.find("possible narrowing"), std::string::npos);
  EXPECT_TRUE(CheckMigration("ALTER TABLE orders ALTER COLUMN mystery TYPE text", Tables()).ok());
}

TEST(MigrationCheck, PrimaryKeyChanges) {
  ExpectBreaks("ALTER TABLE orders DROP COLUMN id", "primary key column id");
  ExpectBreaks("ALTER TABLE orders ALTER COLUMN id TYPE integer", "primary key column id");
  ExpectBreaks("ALTER TABLE sales.items DROP CONSTRAINT items_pkey", "primary key");
  ExpectBreaks("ALTER TABLE sales.items ADD PRIMARY KEY (order_id)", "primary key");
  ExpectBreaks("ALTER TABLE orders RENAME COLUMN id TO order_id", "primary key column id");
  ExpectSafe("ALTER TABLE orders ADD CONSTRAINT orders_note_check CHECK (note <> '')");
  ExpectSafe("ALTER TABLE orders DROP CONSTRAINT orders_note_check");
}

TEST(MigrationCheck, DroppingAndRenaming) {
  ExpectBreaks("DROP TABLE orders", "drops captured table public.orders");
  ExpectBreaks("DROP TABLE IF EXISTS tmp, sales.items CASCADE", "sales.items");
  ExpectBreaks("ALTER TABLE orders RENAME TO orders_old", "renames captured table");
  ExpectBreaks("ALTER TABLE orders RENAME note TO remark", "renames column note");
  ExpectBreaks("ALTER TABLE orders SET SCHEMA archive", "another schema");
  ExpectBreaks("ALTER TABLE orders DROP COLUMN note", "drops column note");
  ExpectSafe("DROP TABLE tmp");
  ExpectSafe("ALTER TABLE orders RENAME CONSTRAINT a TO b");
  ExpectBreaks("DROP PUBLICATION regionmirror", "publication");
  ExpectSafe("DROP PUBLICATION other_pub");
}

TEST(MigrationCheck, ReplicaIdentity) {
  ExpectBreaks("ALTER TABLE orders REPLICA IDENTITY NOTHING", "REPLICA IDENTITY NOTHING");
  ExpectSafe("ALTER TABLE orders REPLICA IDENTITY FULL");
  ExpectSafe("ALTER TABLE other REPLICA IDENTITY NOTHING");
}

TEST(MigrationCheck, SafeChangesPass) {
  ExpectSafe(
      "CREATE TABLE audit (id bigserial PRIMARY KEY, at timestamptz NOT NULL);\n"
      "CREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);\n"
      "ALTER TABLE orders ADD COLUMN discount numeric(5,2);\n"
      "ALTER TABLE orders ADD COLUMN flag boolean NOT NULL DEFAULT false;\n"
      "COMMENT ON TABLE orders IS 'drop table orders; -- not really';\n"
      "UPDATE orders SET note = 'x' WHERE id = 1;");
  ExpectBreaks("ALTER TABLE orders ADD COLUMN region text NOT NULL", "NOT NULL column region");
}

TEST(MigrationCheck, ModelFollowsTheMigrationAndOutputNamesStatementAndLine) {
  auto r = Check(
      "ALTER TABLE orders ADD COLUMN tag varchar(30);\n"
      "CREATE INDEX ON orders (tag);\n"
      "ALTER TABLE orders\n  ALTER COLUMN tag TYPE varchar(10),\n  ADD COLUMN ok int;\n");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].statement.number, 3);
  EXPECT_EQ(r.findings[0].statement.line, 3);
  std::string out = r.Format();
  EXPECT_NE(out.find("statement 3 (line 3): ALTER TABLE orders ALTER COLUMN tag TYPE "
                     "varchar(10), ADD COLUMN ok int"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("1 of 3 statement(s)"), std::string::npos) << out;
  EXPECT_NE(Check("SELECT 1").Format().find("ok:"), std::string::npos);
}

}  // namespace
}  // namespace rm::cdc::postgres

// Table schemas for the commit log reader, supplied as CQL CREATE TABLE statements. The commit
// log names tables only by id and columns only by name, so the reader needs, per table, its id
// and each column's type and role.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "src-cdc/cassandra/cql_type.h"
#include "src-cdc/cassandra/uuid.h"

namespace rm::cdc::cassandra {

enum class ColumnKind { kPartitionKey, kClustering, kRegular, kStatic };

struct ColumnSchema {
  std::string name;  // as stored by Cassandra: unquoted names lower-cased
  CqlType type;
  ColumnKind kind = ColumnKind::kRegular;
  // Index among the partition key or clustering columns; -1 for regular and static columns.
  int key_index = -1;
  bool descending = false;  // clustering column declared DESC in CLUSTERING ORDER BY
};

// One table. A value type; a TableSchema owned by a Schema never moves, so pointers to it and
// its columns (held by decoded mutations) stay valid as long as that Schema lives.
struct TableSchema {
  std::string keyspace;
  std::string name;
  std::optional<TableId> id;          // from `WITH ID = <uuid>` or set by the caller
  bool cdc = false;                   // `WITH cdc = true`
  std::vector<ColumnSchema> columns;  // declaration order
  std::vector<int> partition_key;     // indexes into columns, in key order
  std::vector<int> clustering;        // indexes into columns, in clustering order

  const ColumnSchema* FindColumn(std::string_view column_name) const;
  std::vector<CqlType> PartitionKeyTypes() const;
  std::string QualifiedName() const { return keyspace + "." + name; }
};

// Parses one CREATE TABLE statement:
//   CREATE TABLE [IF NOT EXISTS] ks.table (col type [STATIC] [PRIMARY KEY], ...,
//       [PRIMARY KEY ((pk1, pk2), ck1, ck2)]) [WITH option [AND option ...]] [;]
// Options other than `ID = <uuid>`, `cdc = <bool>`, CLUSTERING ORDER BY and COMPACT STORAGE are
// accepted and ignored. Errors (code "cql.parse" or "cql.schema") give the line and column or
// the column at fault, e.g. "CQL line 2, column 9: unknown type 'strng'".
common::Result<TableSchema> ParseCreateTable(std::string_view statement);

// Parses a script of CREATE TABLE statements separated by ';' (comments allowed). Other
// statements (CREATE KEYSPACE, CREATE TYPE, ...) are an error naming the statement.
common::Result<std::vector<TableSchema>> ParseCreateTables(std::string_view script);

// The tables a reader decodes, looked up by id. Tables not in the Schema are skipped whole by
// the reader. Build it once, then share it read-only: lookups are thread-safe, AddTable is not.
class Schema {
 public:
  Schema() = default;
  Schema(Schema&&) = default;
  Schema& operator=(Schema&&) = default;

  // Adds a table; `id` overrides the statement's ID. Fails when the table has no id or its id
  // is already used.
  common::Status AddTable(TableSchema table, std::optional<TableId> id = std::nullopt);
  // Parses `cql` (ParseCreateTables) and adds every table, which must all carry `WITH ID`.
  common::Status AddCql(std::string_view cql);
  static common::Result<Schema> FromCql(std::string_view cql);
  // Replaces the table with `table.id` (a schema change read from the commit log). The replaced
  // TableSchema stays allocated until the Schema is destroyed, so mutations decoded before keep
  // valid pointers. Fails when no table has that id.
  common::Status ReplaceTable(TableSchema table);
  // Removes the table with `id` (dropped: its entries are skipped as those of tables not in the
  // Schema); it stays allocated as ReplaceTable's replaced ones. False when none has that id.
  bool RemoveTable(const TableId& id);
  // A copy of every table (same ids, same order).
  Schema Copy() const;

  const TableSchema* FindTable(const TableId& id) const;
  const TableSchema* FindTable(std::string_view keyspace, std::string_view table) const;
  size_t size() const { return tables_.size(); }
  // Every table, in the order added.
  std::vector<const TableSchema*> Tables() const;

 private:
  std::vector<std::unique_ptr<TableSchema>> tables_;
  std::vector<std::unique_ptr<TableSchema>> replaced_;  // see ReplaceTable
  std::unordered_map<TableId, const TableSchema*, UuidHash> by_id_;
};

}  // namespace rm::cdc::cassandra

// Schema changes read from the commit log. Cassandra (3.0 and later) stores its schema in the
// tables of the `system_schema` keyspace and applies every CREATE/ALTER/DROP as a mutation of
// those tables, which goes through the commit log like any other write (SchemaKeyspace:
// makeCreateTableMutation, makeUpdateTableMutation, addColumnToSchemaMutation, ...). Their rows
// are regular CQL rows of tables whose definitions are fixed in Cassandra's source, so the reader
// decodes them once those tables are in its Schema (AddSystemSchemaTables).
//
// What an ALTER TABLE writes (one mutation of keyspace system_schema, partition key = the
// altered table's keyspace name):
//   system_schema.tables   row (table_name): the table's parameters and its `id`, rewritten
//                          whole after a deletion of the previous row;
//   system_schema.columns  row (table_name, column_name) per added or changed column, with
//                          `kind` (partition_key, clustering, regular, static), `position`
//                          (index in the partition key or clustering, -1 otherwise),
//                          `clustering_order` (asc, desc, none) and `type` (CQL text, for a
//                          DESC clustering column its base type); a row deletion per dropped one;
//   system_schema.dropped_columns  row per dropped column (time, type; `kind` from 4.0).
// A CREATE TABLE writes the tables row and one columns row per column (every fixture segment,
// 3.0.13 to 4.0.11, holds its table's). Cassandra 3.x keeps in cdc_raw only segments with CDC
// writes, so a schema change in a segment without any is not seen; the capture then falls back
// to the configured CQL (schema_guard.h).
//
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "src-cdc/cassandra/mutation.h"
#include "src-cdc/cassandra/table_schema.h"

namespace rm::cdc::cassandra {

inline constexpr char kSystemSchemaKeyspace[] = "system_schema";

// The id Cassandra gives a system table: UUID.nameUUIDFromBytes(keyspace bytes + table bytes)
// (TableId.forSystemTable; CFMetaData.generateLegacyCfId in 3.0), an MD5 name-based UUID.
TableId SystemTableId(std::string_view keyspace, std::string_view table);

// Adds the tables of the system_schema keyspace (keyspaces, tables, columns, column_masks,
// dropped_columns, triggers, views, types, functions, aggregates, indexes) to `schema`. Each
// holds the union of its columns in Cassandra 3.0 to 5.0 (a mutation names the columns it
// carries, so the union decodes every version's rows). All of them are needed: one schema
// mutation touches several, and an entry with a table not in the Schema is skipped whole.
common::Status AddSystemSchemaTables(Schema* schema);

bool IsSystemSchemaTable(const TableSchema& table);

// One column as a system_schema.columns row defines it.
struct ColumnDefinition {
  std::string name;
  std::string kind;              // partition_key, clustering, regular, static
  int position = -1;             // in the partition key or clustering; -1 otherwise
  std::string clustering_order;  // asc, desc, none
  std::string type;              // CQL text, e.g. "frozen<map<text, int>>"
};

// What one schema mutation says about one table.
struct TableChange {
  std::string keyspace;
  std::string table;
  std::optional<TableId> id;   // written with the tables row (CREATE and ALTER)
  bool table_dropped = false;  // its tables row deleted and not rewritten (DROP TABLE)
  std::vector<ColumnDefinition> columns_written;  // columns rows written, in mutation order
  std::vector<std::string> columns_deleted;       // columns rows deleted (ALTER ... DROP)

  // A whole table definition (CREATE TABLE, or a table created again): it writes the partition
  // key columns, which no ALTER TABLE can change.
  bool defines_table() const {
    for (const ColumnDefinition& c : columns_written) {
      if (c.kind == "partition_key") return true;
    }
    return false;
  }
  bool empty() const {
    return !id && !table_dropped && columns_written.empty() && columns_deleted.empty();
  }
};

// True when `m` is a mutation of the system_schema keyspace (a mutation holds one keyspace).
bool IsSchemaMutation(const Mutation& m);

// The table changes in a schema mutation, by table in first-seen order. Rows of the other
// system_schema tables are ignored. Errors (code "cassandra.schema_mutation") name the table
// and row that could not be read (a key or value of the wrong form, a column row without type
// or kind).
common::Result<std::vector<TableChange>> DecodeSchemaChanges(const Mutation& m);

// `current` after `change`: columns written that are new are added at the end (in the
// mutation's order, which is Cassandra's: by name), written ones that exist are redefined in
// place, deleted ones removed; nothing when the columns stay the same (e.g. a CREATE TABLE that
// matches the configured CQL, or an ALTER of table options). Errors (code
// "cassandra.schema_change") for a definition the reader cannot decode with (a user-defined or
// custom type, an unknown kind, a key left without partition key columns).
common::Result<std::optional<TableSchema>> ApplyTableChange(const TableSchema& current,
                                                            const TableChange& change);

// `base` (keyspace, name, id, options) with exactly the columns `change` writes, in its order:
// the table a CREATE TABLE defines. Errors as ApplyTableChange, and for a change writing none.
common::Result<TableSchema> DefinedTable(const TableSchema& base, const TableChange& change);

// What changed between two definitions of a table's columns, column order aside: "+c int",
// "-d", "~e text -> blob". Empty when they hold the same columns.
std::vector<std::string> ColumnChanges(const TableSchema& before, const TableSchema& after);
// The same joined with ", " ("no column changed" when empty).
std::string DescribeColumnChanges(const TableSchema& before, const TableSchema& after);

}  // namespace rm::cdc::cassandra

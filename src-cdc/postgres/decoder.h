// ChangeDecoder: turns pgoutput messages into ChangeEvents (Debezium envelope), with the
// table schemas learnt from Relation messages and the primary keys and user-defined types
// looked up through a Catalog. No I/O of its own, so it is unit-tested with a fake Catalog.
//
// Mapping (as Debezium's Postgres connector):
//   Insert -> op "c", after = new row.
//   Update -> op "u", before = old row under REPLICA IDENTITY FULL, else null; after = new
//             row, unchanged TOASTed columns as kUnavailableValuePlaceholder. When the primary
//             key changed: a delete of the old key followed by a create of the new one.
//   Delete -> op "d", before = old row (FULL) or the key columns with the rest null.
//   Truncate -> op "t" per captured table, null key, no before/after.
// Events for tables not in `captured` (e.g. the heartbeat table) are not emitted.
//
// Not thread-safe; one per replication stream.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "src-cdc/change_event.h"
#include "src-cdc/postgres/config.h"
#include "src-cdc/postgres/lsn.h"
#include "src-cdc/postgres/pgoutput.h"
#include "src-cdc/postgres/type_map.h"

namespace rm::cdc::postgres {

// What the decoder needs to ask the database.
class Catalog {
 public:
  virtual ~Catalog() = default;
  // Names of the primary key columns, in key order; empty when the table has none.
  virtual common::Result<std::vector<std::string>> PrimaryKeyColumns(uint32_t relation_oid) = 0;
  // A user-defined type (enum, domain, array of those); nothing when the OID is unknown.
  virtual common::Result<std::optional<TypeInfo>> LookupType(uint32_t type_oid) = 0;
};

struct ColumnSchema {
  std::string name;
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
};

// One table as the capture sees it.
struct TableSchema {
  uint32_t oid = 0;
  TableName name;
  std::vector<ColumnSchema> columns;
  std::vector<size_t> key_columns;  // indexes into `columns`; empty = no key (null Kafka key)
  char replica_identity = 'd';
  // No two columns share a name (Postgres's rule; a malformed Relation message may break it).
  bool distinct_names = true;
  // Where its events go: <server name>.<schema>.<table> (set by ChangeDecoder).
  std::string topic;
};

// Converts one row (text values in column order; nullopt = NULL) to a JSON object.
common::Result<Json> RowToJson(const TypeRegistry& types, const TableSchema& table,
                               const std::vector<std::optional<std::string>>& values);

// Makes sure every type used by `columns` is known to `types`, asking `catalog` for the
// others (and for array element types).
common::Status ResolveTypes(TypeRegistry& types, Catalog& catalog,
                            const std::vector<ColumnSchema>& columns);

struct DecoderOptions {
  std::string server_name;  // source.name and topic prefix
  std::string db;           // source.db
  std::vector<TableName> captured;
};

// Builds the source block for a Postgres event.
SourceInfo PostgresSource(const std::string& server_name, const std::string& db,
                          const TableName& table, int64_t ts_ms, SnapshotFlag snapshot,
                          std::optional<uint32_t> xid, Lsn lsn, Lsn last_commit_lsn);

class ChangeDecoder {
 public:
  ChangeDecoder(DecoderOptions options, Catalog& catalog, TypeRegistry& types);

  // Feeds one message that started at WAL position `lsn`; appends the resulting events.
  // Errors: malformed rows, unknown relations, catalog failures.
  common::Status Feed(const PgOutputMessage& message, Lsn lsn, std::vector<ChangeEvent>& out);

  bool in_transaction() const { return in_transaction_; }
  // The schema of a relation seen in a Relation message, or nullptr.
  const TableSchema* Table(uint32_t oid) const;
  // Relation messages received (schema changes included).
  uint64_t relation_messages() const { return relation_messages_; }

 private:
  common::Status OnRelation(const RelationMessage& m);
  common::Result<Json> TupleToJson(const TableSchema& t, const TupleData& tuple,
                                   bool key_only_image);
  std::optional<Json> KeyOf(const TableSchema& t, const Json& row) const;
  ChangeEvent MakeEvent(const TableSchema& t, Operation op, Lsn lsn);
  bool Captured(const TableName& name) const;

  DecoderOptions options_;
  Catalog& catalog_;
  TypeRegistry& types_;
  std::unordered_map<uint32_t, TableSchema> tables_;
  bool in_transaction_ = false;
  uint32_t xid_ = 0;
  int64_t commit_ts_ms_ = 0;
  Lsn last_commit_lsn_;
  uint64_t relation_messages_ = 0;
};

}  // namespace rm::cdc::postgres

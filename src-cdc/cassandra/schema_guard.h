// SchemaGuard: the Cassandra capture's schema history, run-time compatibility check and Kafka
// Connect schemas, over the connector-neutral SchemaEvolution (src-cdc/schema_evolution.h).
//
// Where shapes come from: the commit log names tables by id and columns by name but carries no
// types, so the capture decodes with the CQL of the captured tables from its configuration
// (CaptureConfig::tables_cql). That CQL is the table's shape. The capture observes each captured
// table's shape when it starts, at the position it resumes from (the checkpoint, or the first
// segment's start when there is none): a shape unlike the newest version in the history (the
// CQL was changed for an ALTER TABLE and the capture restarted) is a new version from that
// position, or stops the table when the change is incompatible.
//
// Schema mutations (system_schema.h): an ALTER TABLE that Cassandra wrote into a segment the
// capture reads is a new shape at the exact commit log position of that mutation
// (ObserveChange); the events after it carry the new version. A DROP TABLE closes the table's
// history at its position (ObserveDrop: a last version marked "dropped").
//
// At start, the configured CQL is compared with the history version that applies at the start
// position (by exact position order): equal, it is used as is; equal to another version of the
// history (a CQL not updated after an ALTER the capture read from the commit log, or a replay
// from before such an ALTER), the history's version at the start position is decoded with and
// used, nothing is written; else it is observed as a new shape from the start position (the
// fallback when the commit log showed no schema mutation for a change).
//
// Shape of a table (TableShape): its columns in declaration order, each with its CQL type and
// role as `type` ("text", "int (partition key 1)", "timeuuid (clustering 1, desc)",
// "int (static)"), `key` for partition key and clustering columns, `optional` for the others,
// and `connect` the Connect schema of its field in the `after` struct.
//
// Rules (backward, those of the migration checker): adding a regular or static column is
// compatible; dropping a column, any change to a key column (type, role, order, added or
// removed), a static column becoming regular or the reverse, and a type change other than a
// widening consumers read unchanged (CqlTypeChangeProblem) are not.
//
// Connect schemas (envelope: json_with_schema), after Debezium's Cassandra connector
// (CassandraSchemaFactory): `after` is a struct of one optional struct per column named
// "cell_value_<column>" with fields value (the column's type), deletion_ts (optional int64) and
// set (boolean), plus the optional `_range_start`/`_range_end` structs of range deletions; the
// key is a struct of the partition key and clustering columns with plain value schemas
// (clustering columns optional: null in partition deletions). Value types: ConnectValueSchema.
//
// Threading: the capture's thread; the SchemaStatus from any thread.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/result.h"
#include "src-cdc/cassandra/mutation.h"
#include "src-cdc/cassandra/table_schema.h"
#include "src-cdc/change_event.h"
#include "src-cdc/schema_evolution.h"
#include "src-cdc/schema_history.h"

namespace rm::cdc::cassandra {

// The Connect schema of a column's values as this capture writes them (cql_value.h ToJson):
//   ascii, text -> string           blob -> bytes (base64 in JSON)    boolean -> boolean
//   tinyint -> int8  smallint -> int16  int -> int32  bigint, counter -> int64
//   varint -> int64 (values beyond 64 bits are written as digit strings: not describable)
//   float -> float  double -> double    decimal -> string (decimal.handling.mode=string)
//   uuid, timeuuid -> string "io.debezium.data.Uuid"   inet -> string
//   timestamp -> int64 "org.apache.kafka.connect.data.Timestamp" (ms)
//   date -> int32 "io.debezium.time.Date" (days)   time -> int64 "io.debezium.time.NanoTime"
//   duration -> struct "io.debezium.data.CassandraDuration" {months int32, days int32,
//               nanos int64}
//   list, set -> array of the element   map -> map (JSON object for text keys, else an array
//   of [key, value] pairs, as JsonConverter writes maps)   tuple -> array of optional strings
//   (a tuple's items are written as a JSON array of mixed types; only text tuples conform)
// Every schema here is optional (a column may be null or deleted).
Json ConnectValueSchema(const CqlType& type);

// The shape of `table` (see the file comment).
TableShape ShapeOf(const TableSchema& table);

// A non-key column's type change `before` -> `after` (shape `type` texts): nothing when
// consumers read the new values unchanged (ascii -> text, timeuuid -> uuid, tinyint -> smallint
// -> int -> bigint/varint, float -> double), else the reason.
std::optional<std::string> CqlTypeChangeProblem(const std::string& before,
                                                const std::string& after);

// The source block's schema, as BuildChangeEvents writes it.
Json CassandraSourceSchema();

// Key and value schemas of `topic`'s events for `shape` (version 0: no history).
std::shared_ptr<const ConnectSchemas> BuildCassandraConnectSchemas(const std::string& topic,
                                                                   const TableShape& shape,
                                                                   int version);

// `base` (keyspace, name, id, options) with the columns of `shape` (ShapeOf's form), in its
// order. Errors for a type or role the shape text does not spell as ShapeOf writes it.
common::Result<TableSchema> TableFromShape(const TableSchema& base, const TableShape& shape);

// The position of a history version ("<segment id>:<offset>"), or nothing.
std::optional<CommitLogPosition> ParsePositionText(const std::string& text);

// "<segment id>:<offset>" (the history's position text) and its ordering value. Segment ids
// are milliseconds of Cassandra's clock (41 bits), offsets below 2^31: the value is
// id * 2^22 + offset / 2^10 for ordering only; versions are found by their text.
std::string PositionText(const CommitLogPosition& position);
uint64_t PositionValue(const CommitLogPosition& position);

struct SchemaGuardOptions {
  // Keep a history and enforce compatibility. Default: false.
  bool history = false;
  // Attach Connect schemas to events. Default: false.
  bool connect_schemas = false;
  std::string topic_prefix;
};

class SchemaGuard {
 public:
  using Decision = SchemaEvolution::Decision;
  using Outcome = SchemaEvolution::Outcome;

  SchemaGuard(SchemaGuardOptions options, SchemaHistory history,
              std::shared_ptr<SchemaStatus> status);

  // `table` has its configured shape from `position` on.
  Decision Observe(const TableSchema& table, const CommitLogPosition& position);

  struct StartDecision {
    Decision decision;
    // Set when the table is to be decoded with the history's columns rather than the
    // configured CQL's (see the file comment).
    std::optional<TableSchema> table;
  };
  // The run starts reading at `position` with `configured` (the table's CQL).
  StartDecision Start(const TableSchema& configured, const CommitLogPosition& position);
  // A schema mutation at `position` gave `table` this shape. A version the history already
  // holds at exactly that position with that shape (a replay after a restart) is used again
  // and nothing is written.
  Decision ObserveChange(const TableSchema& table, const CommitLogPosition& position);
  // A schema mutation at `position` dropped `table`: its history is closed there
  // (SchemaEvolution::Drop).
  Decision ObserveDrop(const TableSchema& table, const CommitLogPosition& position);

  bool Stopped(const std::string& topic) const { return evolution_.Stopped(topic); }
  std::shared_ptr<const ConnectSchemas> Schemas(const std::string& topic) const {
    return evolution_.Schemas(topic);
  }
  int Version(const std::string& topic) const { return evolution_.Version(topic); }
  bool any_stopped() const { return evolution_.any_stopped(); }
  bool Accepted(const SchemaHistory& fresh) const { return evolution_.Accepted(fresh); }

 private:
  SchemaGuardOptions options_;
  SchemaEvolution evolution_;
};

}  // namespace rm::cdc::cassandra

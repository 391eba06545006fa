// SchemaGuard: the Postgres capture's schema history and run-time compatibility check.
//
// pgoutput sends a Relation message before the first change of a table in a session and again
// after every change of its definition. At each one (and for each table the snapshot reads)
// the capture calls Observe() with the table as the message describes it (names, type OIDs
// and modifiers, in column order); nullability, defaults, attnums and the primary key come
// from the catalog (ShapeCatalog). The position is the commit LSN of the transaction the
// message belongs to (the snapshot's consistent point for the tables it reads): pgoutput gives
// Relation messages no WAL position of their own, and commit LSNs are what the stream is
// ordered by and resumes from. The guard then decides, against the table's history (replay is
// this file's; the other outcomes and the rules are SchemaEvolution's, src-cdc/schema_evolution.h,
// shared with the Cassandra capture):
//
//   replay      the position is within the known history (a restart re-reads WAL before the
//               newest version): the version that applies there is used if the message
//               matches its columns; nothing is written. So a replay after kill -9 gives
//               every event the version it had the first time.
//   unchanged   the shape equals the newest version's: nothing is written.
//   new version the change is compatible (CompareShapes() finds nothing), or an operator
//               accepted exactly this shape: version+1 from this position is written to the
//               history topic before any event in the new shape.
//   stopped     the change is incompatible: the table stops. Its events from this position
//               on are not emitted (in no shape); a pending record naming table, columns,
//               rules and position goes to the history topic; Problem() says it (/healthz).
//               The capture must not confirm any LSN at or after the stopped transaction.
//
// The rules are those of `cdc check-migration` (migration_check.h), applied to the shapes
// before and after: dropping a column (key or not), renaming one, SET NOT NULL, adding a NOT
// NULL column without a default, changing the primary key, and a type change that narrows or
// changes how values are written in events are incompatible; adding a nullable column (or a
// NOT NULL one with a default) and widening a type are compatible.
//
// Limits: nullability, defaults and keys are read from the catalog when the Relation message
// arrives, so a capture far behind sees the catalog as it is now, not as it was at that WAL
// position (Debezium has the same limit); names and types always come from the message.
//
// Threading: Observe() and the other methods on the capture thread; Problem() from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/result.h"
#include "src-cdc/change_event.h"
#include "src-cdc/postgres/config.h"
#include "src-cdc/postgres/decoder.h"
#include "src-cdc/postgres/lsn.h"
#include "src-cdc/postgres/type_map.h"
#include "src-cdc/schema_evolution.h"
#include "src-cdc/schema_history.h"

namespace rm::cdc::postgres {

using cdc::SchemaStatus;
using cdc::SchemaViolation;

// The check-migration rules applied to two shapes (empty = compatible, backward): the shared
// rules (src-cdc/schema_evolution.h) with Postgres's type rule (ColumnTypeChangeProblem).
std::vector<SchemaViolation> CompareShapes(const TableShape& before, const TableShape& after);

// Debezium's Kafka Connect field schema for a Postgres column (time.precision.mode=adaptive,
// decimal.handling.mode=string, binary.handling.mode=bytes, as type_map.h converts values).
Json ConnectFieldSchema(const TypeRegistry& types, uint32_t type_oid, int32_t type_modifier);

// What the catalog says about a table's columns.
struct ColumnFacts {
  std::string name;
  int attnum = 0;
  std::string type;  // format_type(atttypid, atttypmod)
  bool not_null = false;
  bool has_default = false;
};

class ShapeCatalog {
 public:
  virtual ~ShapeCatalog() = default;
  // The live columns of a relation, in attnum order.
  virtual common::Result<std::vector<ColumnFacts>> Columns(uint32_t relation_oid) = 0;
  // format_type(oid, typmod): a pure function of its arguments, so the name of a type a
  // Relation message gives is the same whenever it is asked.
  virtual common::Result<std::string> TypeName(uint32_t type_oid, int32_t type_modifier) = 0;
};

// The shape of `table` (as the decoder knows it: names and types) completed with the
// catalog's facts. `type_names[i]` is the type text of column i. A column the catalog no
// longer has (dropped or renamed since the message was written) takes its facts from
// `previous` (the newest known version) when it has the same name and type there.
TableShape BuildShape(const TableSchema& table, const std::vector<std::string>& type_names,
                      const std::vector<ColumnFacts>& facts, const TypeRegistry& types,
                      const TableShape* previous = nullptr);

struct SchemaGuardOptions {
  // Keep a history and enforce compatibility. Default: false.
  bool history = false;
  // Attach Connect schemas to events. Default: false.
  bool connect_schemas = false;
  std::string topic_prefix;
  std::string history_topic;
};

class SchemaGuard {
 public:
  using Record = cdc::SchemaEvolution::Record;
  using Outcome = cdc::SchemaEvolution::Outcome;
  using Decision = cdc::SchemaEvolution::Decision;

  SchemaGuard(SchemaGuardOptions options, SchemaHistory history, TypeRegistry& types,
              ShapeCatalog& catalog, std::shared_ptr<SchemaStatus> status);

  // See the file comment. Errors: catalog failures only.
  common::Result<Decision> Observe(const TableSchema& table, Lsn position);

  // Events of `topic` must not be emitted.
  bool Stopped(const std::string& topic) const { return evolution_.Stopped(topic); }
  // The schemas to attach to events of `topic` (null: plain envelope).
  std::shared_ptr<const ConnectSchemas> Schemas(const std::string& topic) const {
    return evolution_.Schemas(topic);
  }
  // The current version of `topic`'s table (0: none yet / no history).
  int Version(const std::string& topic) const { return evolution_.Version(topic); }
  bool any_stopped() const { return evolution_.any_stopped(); }
  // True when `fresh` (the history re-read) holds an acceptance of the shape a stopped table
  // waits for: the capture then restarts its stream from the held position.
  bool Accepted(const SchemaHistory& fresh) const { return evolution_.Accepted(fresh); }

 private:
  common::Result<std::vector<std::string>> TypeNames(const TableSchema& table);

  SchemaGuardOptions options_;
  TypeRegistry& types_;
  ShapeCatalog& catalog_;
  std::map<std::pair<uint32_t, int32_t>, std::string> type_names_;  // format_type() cache
  cdc::SchemaEvolution evolution_;  // versions, stops, schemas (shared with Cassandra)
};

}  // namespace rm::cdc::postgres

namespace rm::cdc::postgres {

// `regionmirror cdc postgres accept-schema --config F --table T`: after the consumers of T's
// events were rolled out for its new shape, accepts the shape T stopped at (the pending record
// in the history topic) by writing an acceptance record; the running capture sees it within
// schema.accept_poll_ms, records the shape as the next version and streams T again from where
// it stopped (a capture started later does the same). Prints what it accepts, or why not, to
// `out`. Returns 0 when accepted, 1 when T is not stopped or the history is unreachable.
// Throws ConfigError (config unreadable, no kafka: section, schema.history off, T not
// captured).
int RunAcceptSchema(const std::filesystem::path& config_path, const std::string& table,
                    std::ostream& out);

}  // namespace rm::cdc::postgres

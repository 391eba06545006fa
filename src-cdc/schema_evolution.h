// Schema evolution shared by the captures (Postgres, Cassandra): the `schema:` block of their
// configuration, the compatibility rules applied to two shapes of a table, and SchemaEvolution,
// which decides what a table's newly seen shape means against its history (schema_history.h).
//
// Each capture learns shapes its own way (Postgres: pgoutput Relation messages completed from
// the catalog, postgres/schema_guard.h; Cassandra: the CQL of the captured tables,
// cassandra/schema_guard.h) and at its own positions (LSN, commit log position), then hands
// every shape to SchemaEvolution::Observe(), which answers:
//
//   unchanged   the shape equals the newest version's: nothing is written.
//   new version the change is compatible (CompareShapes() finds nothing), or an operator
//               accepted exactly this shape: version+1 from this position is to be written to
//               the history topic before any event in the new shape.
//   stopped     the change is incompatible: the table stops. Its events from this position on
//               must not be emitted (in no shape); a pending record naming table, columns,
//               rules and position is to be written to the history topic; the SchemaStatus
//               says it (/healthz). The capture must not confirm any position at or after it
//               until `regionmirror cdc <connector> accept-schema --table T` accepted the shape.
//
// The rules are those of `cdc check-migration` (backward, as a schema registry runs them):
// dropping a column (key or not), renaming one, making a column required, adding a required
// column without a default, changing the key, and a type change the connector's TypeChangeRule
// refuses are incompatible; adding an optional column (or a required one with a default) and
// widening a type are compatible.
//
// Threading: SchemaEvolution on the capture's thread; SchemaStatus from any thread.
#pragma once

#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/config_reader.h"
#include "common/kafka_config.h"
#include "src-cdc/change_event.h"
#include "src-cdc/schema_history.h"

namespace rm::cdc {

// How events are written: the plain JSON envelope (payload only, Debezium's JsonConverter with
// schemas.enable=false) or with Kafka Connect schemas ({"schema":..., "payload":...}).
enum class EnvelopeFormat { kPlain, kJsonWithSchema };

// A capture's `schema:` block: event schemas and schema evolution.
struct SchemaConfig {
  // Default: plain.
  EnvelopeFormat envelope = EnvelopeFormat::kPlain;
  // Keep each captured table's schema history in a compacted Kafka topic and enforce
  // compatibility at run time (an incompatible change stops that table). Default: false.
  bool history = false;
  // The history topic. Default: empty = <topic_prefix>.schema-history.
  std::string history_topic;
  // While a table is stopped, how often the history topic is read for an operator's
  // acceptance. Default: 2000 ms.
  std::chrono::milliseconds accept_poll{2000};
};

// Reads the `schema:` block `node` (absent: the defaults) at YAML path `path`
// ("postgres.schema", "cassandra.schema"); problems go to the reader.
void ReadSchemaConfig(common::YamlFieldReader& r, const YAML::Node& node, const std::string& path,
                      SchemaConfig& s);

// One incompatibility between two shapes of a table.
struct SchemaViolation {
  std::string column;
  std::string rule;  // drop_column, drop_key_column, rename_column, set_not_null,
                     // add_required_column, key_change, type_change
  std::string detail;
};

// Whether a non-key column's type change from `before` to `after` (their `type` texts differ)
// breaks consumers: the reason, or nothing when it is a widening they read unchanged.
using TypeChangeRule =
    std::function<std::optional<std::string>(const ColumnShape& before, const ColumnShape& after)>;

// The rules applied to two shapes (empty = compatible, backward). A column missing from `after`
// whose attnum (when positive) another new column has is a rename.
std::vector<SchemaViolation> CompareShapes(const TableShape& before, const TableShape& after,
                                           const TypeChangeRule& type_change);

// "column c: rule r: detail; ..."
std::string DescribeViolations(const std::vector<SchemaViolation>& violations);

// What the guard reports to the CLI: the /healthz problem text, the stopped tables (metric
// rm_cdc_table_stopped) and the incompatible changes found (thread-safe).
class SchemaStatus {
 public:
  struct StoppedTable {
    std::string table;   // "public.t", "ks.t"
    std::string reason;  // the rules broken, comma-separated ("drop_column,type_change")
    bool operator==(const StoppedTable&) const = default;
  };

  void Set(std::string problem);
  std::string Get() const;
  // Replaces the stopped tables (a new guard, after an acceptance, starts with none).
  void SetStopped(std::vector<StoppedTable> stopped);
  std::vector<StoppedTable> Stopped() const;
  // One more incompatible change of `table` found (a pending record written for the first
  // time; a restart meeting the same pending shape again does not count).
  void CountIncompatible(const std::string& table);
  // Incompatible changes found per table since the process started.
  std::map<std::string, uint64_t> IncompatibleChanges() const;

 private:
  mutable std::mutex mu_;
  std::string problem_;
  std::vector<StoppedTable> stopped_;
  std::map<std::string, uint64_t> incompatible_;
};

struct SchemaEvolutionOptions {
  // Keep a history and enforce compatibility. Default: false.
  bool history = false;
  // Attach Connect schemas to events. Default: false.
  bool connect_schemas = false;
  // The connector: "postgres" or "cassandra" (logs "<connector> capture: ...", the resume
  // command `regionmirror cdc <connector> accept-schema`).
  std::string connector;
  // How positions are named in messages: "LSN", "commit log position".
  std::string position_name;
  // The source block's Connect schema (connect_envelope.h).
  Json source_schema = Json::object();
  // The connector's type rule for CompareShapes. Required.
  TypeChangeRule type_change;
  // Builds the Connect schemas of a table version; default BuildConnectSchemas(topic, shape,
  // version, source_schema). Connectors whose key fields are shaped unlike their value fields
  // (Cassandra) set their own.
  std::function<std::shared_ptr<const ConnectSchemas>(const std::string& topic,
                                                      const TableShape& shape, int version)>
      build_schemas;
};

class SchemaEvolution {
 public:
  // A history record the capture must produce (to its history topic) before going on.
  using Record = std::pair<std::string, std::optional<std::string>>;

  enum class Outcome { kUnchanged, kNewVersion, kStopped };
  struct Decision {
    Outcome outcome = Outcome::kUnchanged;
    std::vector<Record> records;
    std::string error;  // for kStopped
  };

  SchemaEvolution(SchemaEvolutionOptions options, SchemaHistory history,
                  std::shared_ptr<SchemaStatus> status);

  // `table` ("public.t", "ks.t") has `shape` from `position` on (see the file comment). Its
  // events go to `topic`.
  Decision Observe(const std::string& table, const std::string& topic, const TableShape& shape,
                   const std::string& position, uint64_t position_value);
  // `table` was dropped at `position`: with a history, a last version with "dropped" closes it
  // there (nothing when the history already holds exactly that version: a replay). A stopped
  // table stays stopped (the drop is read again once its shape is accepted). A table whose
  // newest version is dropped starts again, uncompared, when a shape is observed.
  Decision Drop(const std::string& table, const std::string& topic, const std::string& position,
                uint64_t position_value);
  // The decision for a table already stopped (nothing else is looked at), or nothing.
  std::optional<Decision> IfStopped(const std::string& topic) const;
  // Events of `topic` carry `version` of `shape` from now on (a replayed version).
  void Use(const std::string& topic, const TableShape& shape, int version);

  const SchemaHistory& history() const { return history_; }
  const SchemaEvolutionOptions& options() const { return options_; }
  // Events of `topic` must not be emitted.
  bool Stopped(const std::string& topic) const;
  // The schemas to attach to events of `topic` (null: plain envelope).
  std::shared_ptr<const ConnectSchemas> Schemas(const std::string& topic) const;
  // The current version of `topic`'s table (0: none yet / no history).
  int Version(const std::string& topic) const;
  bool any_stopped() const { return !stopped_.empty(); }
  // True when `fresh` (the history re-read) holds an acceptance of the shape a stopped table
  // waits for: the capture then starts again from the held position.
  bool Accepted(const SchemaHistory& fresh) const;

 private:
  struct TableState {
    int version = 0;
    std::shared_ptr<const ConnectSchemas> schemas;
  };
  // A stopped table: the shape it waits to have accepted, and why.
  struct Stop {
    std::string table;
    TableShape shape;
    std::string error;
    std::string rules;  // comma-separated, for the metric
  };
  void SetProblem();

  SchemaEvolutionOptions options_;
  SchemaHistory history_;
  std::shared_ptr<SchemaStatus> status_;
  std::unordered_map<std::string, TableState> tables_;  // by topic
  std::unordered_map<std::string, Stop> stopped_;       // by topic
};

// `regionmirror cdc <connector> accept-schema --table T` once the configuration is loaded:
// accepts the shape T stopped at (the pending record in `history_topic`) by writing an
// acceptance record. Prints what it accepts, or why not, to `out`. Returns 0 when accepted, 1
// when T is not stopped or the history is unreachable.
int AcceptPendingSchema(const common::KafkaProperties& properties, const std::string& history_topic,
                        const std::string& table, const std::string& position_name,
                        std::chrono::milliseconds accept_poll, std::ostream& out);

}  // namespace rm::cdc

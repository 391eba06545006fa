// Schema history: the shapes a captured table had, one version per shape, each with the source
// position (Postgres LSN, Cassandra commit log position) from which it applies. Kept durably
// in a compacted Kafka topic beside the events, so another region or a rebuilt capture reads
// the same history; the capture writes it through its EventSink (same producer, same acks,
// same rule: a position is confirmed only after the history records before it are stored).
//
// Records of the history topic (key and value are JSON; compaction keeps the last value per
// key, so every version has a key of its own and nothing of the history is compacted away):
//
//   key {"table":"public.t","version":3}
//   value {"table":"public.t","version":3,"position":"0/16B3748","position_value":23803720,
//          "accepted":false,"shape":{"columns":[{"name":"id","type":"integer",...},...]}}
//       A version. Written once; writing it again (a replay after kill -9) writes the same
//       bytes: the value holds no wall-clock time, and version numbers follow from the history.
//       "dropped":true (present only then) closes the table's history: dropped at "position".
//
//   key {"table":"public.t","pending":true}
//   value {"table":...,"position":...,"position_value":...,"shape":{...},"error":"..."}
//       The table stopped at an incompatible shape (what `accept-schema` accepts). A null
//       value (tombstone) clears it once an accepted version was written.
//
//   key {"table":"public.t","accepted":true}
//   value {"table":...,"position":...,"position_value":...,"shape":{...}}
//       An operator accepted that shape (`regionmirror cdc postgres accept-schema`): the
//       capture then records it as the next version (with "accepted":true) and goes on.
//
// Thread-safety: plain values; SchemaHistory is not thread-safe (one per capture run).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/kafka_config.h"
#include "common/result.h"
#include "src-cdc/change_event.h"

namespace rm::cdc {

// One column as consumers see it.
struct ColumnShape {
  std::string name;
  // The source's own type name (Postgres: format_type(), e.g. "character varying(20)").
  std::string type;
  // Postgres: the type OID and modifier from the Relation message (0 / -1 elsewhere).
  uint32_t type_oid = 0;
  int32_t type_modifier = -1;
  // Postgres attnum (1-based place in the table; tells a rename from a drop and an add).
  int attnum = 0;
  // Nullable (an optional field for consumers).
  bool optional = true;
  // The column has a default (a required column added with a default is compatible).
  bool has_default = false;
  // Part of the primary key (the Kafka key).
  bool key = false;
  // The Kafka Connect field schema of its values ({"type":"int32","optional":false,...}).
  Json connect = Json::object();

  bool operator==(const ColumnShape&) const = default;
};

struct TableShape {
  std::vector<ColumnShape> columns;

  bool operator==(const TableShape&) const = default;
  const ColumnShape* Find(std::string_view name) const;
  Json ToJson() const;
  static common::Result<TableShape> FromJson(const Json& j);
};

struct SchemaVersion {
  std::string table;        // "public.t"
  int version = 0;          // 1, 2, ...
  std::string position;     // as the source prints it ("0/16B3748")
  uint64_t position_value;  // the same, as a number (ordering)
  bool accepted = false;    // recorded after an operator accepted an incompatible change
  TableShape shape;
  // The table was dropped at `position` (Cassandra: DROP TABLE read from the commit log): the
  // history is closed there, `shape` is the last one it had. A table created again under the
  // same name starts a new version without comparison (it is a new table).
  bool dropped = false;
};

// A table stopped at an incompatible shape, or an operator's acceptance of one.
struct SchemaPending {
  std::string table;
  std::string position;
  uint64_t position_value = 0;
  TableShape shape;
  std::string error;  // empty in acceptances
};

// The Kafka records (key, value) of the three kinds above.
std::pair<std::string, std::string> EncodeVersionRecord(const SchemaVersion& v);
std::pair<std::string, std::string> EncodePendingRecord(const SchemaPending& p);
std::pair<std::string, std::string> EncodeAcceptRecord(const SchemaPending& p);
std::string PendingRecordKey(const std::string& table);

// Every table's versions and its pending and accepted shapes, built from the topic's records
// in the order read (later records of a key replace earlier ones; null values delete).
class SchemaHistory {
 public:
  // Applies one record; error "schema.bad_record" for a record that is not one of the kinds
  // above (it is not applied).
  common::Status Apply(std::string_view key, std::optional<std::string_view> value);

  // Versions of `table` in version order (empty if none).
  const std::vector<SchemaVersion>& Versions(const std::string& table) const;
  const SchemaVersion* Latest(const std::string& table) const;
  // The version that applies at `position`: the highest whose position is at or before it.
  const SchemaVersion* At(const std::string& table, uint64_t position) const;
  const SchemaPending* Pending(const std::string& table) const;
  const SchemaPending* Accepted(const std::string& table) const;
  std::vector<std::string> Tables() const;

  // Records the capture wrote itself (so it need not read them back).
  void Add(const SchemaVersion& v);
  void SetPending(const SchemaPending& p);
  void ClearPending(const std::string& table);

 private:
  std::map<std::string, std::vector<SchemaVersion>> versions_;
  std::map<std::string, SchemaPending> pending_;
  std::map<std::string, SchemaPending> accepted_;
};

// Reads a history topic from the beginning to its end (every partition) into a SchemaHistory.
// The topic missing counts as empty. Errors: "schema.history_read" (cluster unreachable,
// partition unreadable within `timeout`), and undecodable records.
common::Result<SchemaHistory> ReadSchemaHistory(const common::KafkaProperties& properties,
                                                const std::string& topic,
                                                std::chrono::milliseconds timeout);

// Produces records to the history topic and waits for their acks (the `accept-schema` command;
// the capture writes through its EventSink instead).
common::Status WriteSchemaHistoryRecords(
    const common::KafkaProperties& properties, const std::string& topic,
    const std::vector<std::pair<std::string, std::optional<std::string>>>& records,
    std::chrono::milliseconds timeout);

}  // namespace rm::cdc

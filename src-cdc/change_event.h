// ChangeEvent: one row change in Debezium's JSON envelope, shared by every capture.
//
// Value (JSON, payload only, as Debezium's JsonConverter with schemas.enable=false; an event
// carrying ConnectSchemas is wrapped as {"schema": ..., "payload": <this>}, see
// connect_envelope.h):
//   {"before": {...}|null, "after": {...}|null,
//    "source": {"version", "connector", "name", "ts_ms", "snapshot", "db", <connector fields>},
//    "op": "c"|"u"|"d"|"r"|"t", "ts_ms": <when the connector processed it>,
//    "transaction": null}
// Key: JSON object of the primary key columns ({"id": 7}); null key for tables without one.
// After a delete, a tombstone (same key, null value) follows unless disabled, so that log
// compaction can drop the key.
//
// Each connector builds its own `source` block: the common fields are typed members of
// SourceInfo, the connector-specific ones go into SourceInfo::fields in the order Debezium
// prints them (Postgres: sequence, schema, table, txId, lsn, xmin; Cassandra: cluster, file,
// pos, keyspace, table).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace rm::cdc {

// Column values are JSON; field order follows the table's column order.
using Json = nlohmann::ordered_json;

// What Debezium puts in a column whose value the source did not send (Postgres: an unchanged
// TOASTed column under REPLICA IDENTITY DEFAULT). Bytes columns carry its UTF-8 bytes.
inline constexpr std::string_view kUnavailableValuePlaceholder = "__debezium_unavailable_value";

// Version string written to source.version.
inline constexpr std::string_view kConnectorVersion = "regionmirror-0.1.0";

enum class Operation { kCreate, kUpdate, kDelete, kRead, kTruncate };

// "c", "u", "d", "r", "t".
std::string_view OperationCode(Operation op);

// source.snapshot: "true" for snapshot records, "last" on the last record of a snapshot,
// "false" while streaming (Debezium's values; "first" marks the first snapshot record).
enum class SnapshotFlag { kFalse, kTrue, kFirst, kLast };
std::string_view SnapshotFlagName(SnapshotFlag flag);

struct SourceInfo {
  std::string connector;  // "postgresql", "cassandra"
  std::string name;       // logical server name (= topic prefix)
  int64_t ts_ms = 0;      // when the change happened in the source (commit time)
  SnapshotFlag snapshot = SnapshotFlag::kFalse;
  std::string db;                // database name (Postgres); empty = omitted
  Json fields = Json::object();  // connector-specific fields, appended in this order
};

// Pre-rendered Kafka Connect schemas of one table version (connect_envelope.h). When an event
// carries them, its key and value are written as JsonConverter envelopes with schemas
// ({"schema": ..., "payload": <the plain JSON>}); `key` empty = the key stays plain.
struct ConnectSchemas {
  std::string key;
  std::string value;
};

struct ChangeEvent {
  std::string topic;
  Operation op = Operation::kCreate;
  // Written as "op" instead of OperationCode(op) when not empty: connectors whose Debezium
  // counterpart uses other codes (Cassandra: "i" insert, "r" range tombstone). `op` still says
  // what kind of change it is (e.g. kDelete decides the tombstone after it).
  std::string op_code;
  // Row images; absent = JSON null (no before image on insert, no after image on delete).
  std::optional<Json> before;
  std::optional<Json> after;
  SourceInfo source;
  int64_t ts_ms = 0;  // when the connector processed the event
  // Primary key columns as a JSON object; absent = null record key.
  std::optional<Json> key;
  // Set by transforms (src-cdc/transforms/). `flattened`: ExtractNewRecordState unwrapped the
  // envelope, the record value is the row in `after` (absent = null value). `drop_tombstone`:
  // no tombstone follows this event, whatever tombstones_on_delete says.
  bool flattened = false;
  bool drop_tombstone = false;
  // Set for pipelines that chose the envelope with schemas; null = plain JSON (the default).
  std::shared_ptr<const ConnectSchemas> schemas;
};

// One Kafka record ready for EventSink::Produce.
struct EncodedRecord {
  std::string topic;
  std::optional<std::string> key;
  std::optional<std::string> value;  // absent = tombstone
};

// The envelope JSON (see top of file).
std::string EncodeValue(const ChangeEvent& event);
// The key JSON, or nothing for a null key.
std::optional<std::string> EncodeKey(const ChangeEvent& event);
// The records for one event: the event itself (its envelope, or its row when `flattened`), plus
// a tombstone after a delete with a key when `tombstones_on_delete` and not `drop_tombstone`.
std::vector<EncodedRecord> EncodeRecords(const ChangeEvent& event, bool tombstones_on_delete);

// Encodes events as EncodeRecords() does, byte for byte, with less work per event: the
// envelope is written in one pass into a buffer kept across events (the constant keys as
// literals; row images walked here, their keys and ASCII text appended as they are when the
// serializer would not change them, every other value through nlohmann's own serializer), and the
// escaped forms of the source block's strings that repeat from event to event (connector, name,
// db) are kept.
// Captures keep one per stream; EncodeRecords() makes one per call.
//
// Not thread-safe (one per thread); not copyable.
class EventEncoder {
 public:
  EventEncoder();
  ~EventEncoder();
  EventEncoder(const EventEncoder&) = delete;
  EventEncoder& operator=(const EventEncoder&) = delete;

  // Appends the event's records to `out` (as EncodeRecords()).
  void Encode(const ChangeEvent& event, bool tombstones_on_delete, std::vector<EncodedRecord>& out);
  // As EncodeValue() and EncodeKey().
  std::string Value(const ChangeEvent& event);
  std::optional<std::string> Key(const ChangeEvent& event);

 private:
  struct Serializer;
  // A string value and its JSON text, kept while the value repeats.
  struct CachedString {
    std::string raw;
    std::string json;
  };
  void AppendJson(const Json& j);
  void AppendString(CachedString& cache, const std::string& value);
  void AppendSource(const SourceInfo& s);
  void AppendEnvelope(const ChangeEvent& event);
  // The buffer's content as a new string, sized to it.
  std::string Take();

  std::string buf_;  // the record being written; the serializer appends to it
  std::unique_ptr<Serializer> serializer_;
  CachedString connector_, name_, db_, op_code_;
};

// Milliseconds since the Unix epoch, from the system clock.
int64_t NowMillis();

}  // namespace rm::cdc

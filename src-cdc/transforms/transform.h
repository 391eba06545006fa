// Transform: one step of a per-table chain that reshapes change events before they are
// serialized, named and behaving like Kafka Connect's single message transforms (SMTs) and
// Debezium's, so teams recognize them (README.md in this folder lists each one's options).
//
// A transform works on the structured ChangeEvent, never on bytes: the capture builds the event,
// the chain (TransformPipeline) reshapes it, then the usual serializer (EncodeRecords) writes
// it. Field transforms address the row:
//   - before ExtractNewRecordState, both row images of the envelope (`before` and `after`,
//     where present); a predicate or ValueToKey reads `after`, or `before` when there is no
//     `after` (deletes);
//   - after it (event.flattened), the flat row in `after`; `before` is kept only to read from
//     (the key of a delete whose value became a tombstone).
//
// Data path: Apply() returns an error Result for an event it cannot transform (a value that
// does not cast, a missing key field); it never throws per event. Transforms are immutable
// after construction and may be shared between chains; Apply() is const and thread-compatible.
#pragma once

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "common/result.h"
#include "src-cdc/change_event.h"

namespace rm::cdc::transforms {

enum class Verdict {
  kKeep,  // go on with the next transform
  kDrop,  // deliberately filtered out: no record is written, the position may pass it
};

// Which events a transform applies to (Kafka Connect's predicates, written inline). Every set
// condition must hold; an empty predicate matches every event.
struct Predicate {
  // Operation codes ("c", "u", "d", "r", "t", or a connector's own such as Cassandra's "i");
  // empty = any.
  std::vector<std::string> ops;
  // Full match on the event's topic as it is at this point of the chain (Connect's
  // TopicNameMatches).
  std::optional<std::regex> topic;
  std::string topic_text;
  // A condition on one field of the row (see the top of the file for which image).
  std::string field;
  enum class FieldTest { kNone, kEquals, kIn, kMatches, kIsNull };
  FieldTest test = FieldTest::kNone;
  std::vector<std::string> values;    // kEquals (one), kIn (any): compared with the value's text
  std::optional<std::regex> pattern;  // kMatches: full match on the value's text
  bool is_null = false;               // kIsNull: the field is absent or null (or, false: not)

  bool Matches(const ChangeEvent& event) const;
};

// The Kafka Connect schemas of a record as a chain reshapes it (envelope json_with_schema,
// connect_envelope.h). Each transform maps them as its Connect SMT maps a record's schema, so
// the schema written with a transformed event describes that event, not the captured row.
struct RecordSchema {
  // The key's struct schema; null = none (the key is written without a schema).
  Json key;
  // The envelope struct ({before, after, source, op, ts_ms, transaction}), or after
  // ExtractNewRecordState the row struct.
  Json value;
  bool flattened = false;
};

class Transform {
 public:
  virtual ~Transform() = default;
  // Reshapes `event` in place. kDrop: filtered out on purpose. An error names the field and
  // the reason (the pipeline adds table, transform and position).
  virtual common::Result<Verdict> Apply(ChangeEvent& event) const = 0;
  // Maps `schema` as Apply() maps an event (called for the events this step applied to).
  // Default: unchanged (RegexRouter and Filter leave the schema as it is). An error names the
  // field (a ValueToKey field the row schema lacks).
  virtual common::Status MapSchema(RecordSchema& schema) const {
    (void)schema;
    return common::Status::Ok();
  }
};

// ---- Helpers shared by the transforms (and their tests).

// The image a field is read from: `after`, else `before`; nullptr when the event has neither.
const Json* ReadRow(const ChangeEvent& event);
// The images a field transform writes: the flat row, or both envelope images (present ones).
std::vector<Json*> WritableRows(ChangeEvent& event);
// A JSON value as text for comparisons and topic names: strings as they are, null as "null",
// everything else as compact JSON.
std::string ValueText(const Json& value);
// Where the event comes from, for error messages: "lsn 0/16B3748" (Postgres) or
// "file CommitLog-7-12.log pos 4711" (Cassandra), from the source block.
std::string DescribePosition(const ChangeEvent& event);
// The captured table ("public.orders", "shop.orders") from the source block.
std::string TableOf(const ChangeEvent& event);

// The row structs of a schema a field transform rewrites: the flat row, or the envelope's
// `before` and `after` field schemas.
std::vector<Json*> SchemaRows(RecordSchema& schema);
// The field schema named `name` in a struct schema's "fields" (nullptr if none).
Json* SchemaField(Json& struct_schema, const std::string& name);

}  // namespace rm::cdc::transforms

// The built-in transforms, each named after the Kafka Connect / Debezium SMT it behaves like.
// Options are plain structs (the YAML loader in config.h fills them; tests build them directly).
// Behaviour beyond what the options say is documented in README.md in this folder.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "src-cdc/transforms/transform.h"

namespace rm::cdc::transforms {

// ---- ExtractNewRecordState (io.debezium.transforms.ExtractNewRecordState)

// What becomes of a delete (Debezium's delete.tombstone.handling.mode, with the older
// delete.handling.mode + drop.tombstones pairs mapped onto it).
enum class DeleteHandling {
  kDrop,                  // neither the delete nor its tombstone is written
  kTombstone,             // the delete becomes one tombstone (key, null value)
  kRewrite,               // the delete's `before` row with __deleted "true"; no tombstone
  kRewriteWithTombstone,  // the same, then the tombstone
  kNullValue,             // delete.handling.mode=none: a null-value record, the tombstone kept
};

struct ExtractNewRecordStateOptions {
  // Default: kTombstone (Debezium 2.5 and later).
  DeleteHandling deletes = DeleteHandling::kTombstone;
  // Metadata copied into the row: "op", "ts_ms", "source.<field>" or a bare source field name
  // ("table", "lsn", "db", ...). Written as <prefix><name with '.' as '_'>. Default: none.
  std::vector<std::string> add_fields;
  // Default: "__".
  std::string add_fields_prefix = "__";
  // When set, the topic becomes this field's value in the row. Default: none.
  std::string route_by_field;
};

class ExtractNewRecordState : public Transform {
 public:
  explicit ExtractNewRecordState(ExtractNewRecordStateOptions options)
      : options_(std::move(options)) {}
  common::Result<Verdict> Apply(ChangeEvent& event) const override;
  common::Status MapSchema(RecordSchema& schema) const override;

 private:
  ExtractNewRecordStateOptions options_;
};

// ---- ReplaceField$Value (org.apache.kafka.connect.transforms.ReplaceField$Value)

struct ReplaceFieldOptions {
  std::vector<std::string> exclude;  // fields removed. Default: none
  std::vector<std::string> include;  // when not empty, only these are kept. Default: all
  std::vector<std::pair<std::string, std::string>> renames;  // old -> new. Default: none
};

class ReplaceField : public Transform {
 public:
  explicit ReplaceField(ReplaceFieldOptions options) : options_(std::move(options)) {}
  common::Result<Verdict> Apply(ChangeEvent& event) const override;
  common::Status MapSchema(RecordSchema& schema) const override;

 private:
  ReplaceFieldOptions options_;
};

// ---- InsertField$Value (org.apache.kafka.connect.transforms.InsertField$Value)

struct InsertFieldOptions {
  std::string static_field;  // with static_value: a constant (a tenant id, a region)
  std::string static_value;
  std::string topic_field;      // the event's topic at this point of the chain
  std::string timestamp_field;  // the commit time in the source, ms (source.ts_ms)
  std::string offset_field;     // the source position: Postgres lsn, Cassandra file pos
};

class InsertField : public Transform {
 public:
  explicit InsertField(InsertFieldOptions options) : options_(std::move(options)) {}
  common::Result<Verdict> Apply(ChangeEvent& event) const override;
  common::Status MapSchema(RecordSchema& schema) const override;

 private:
  InsertFieldOptions options_;
};

// ---- Cast$Value (org.apache.kafka.connect.transforms.Cast$Value)

enum class CastType { kInt8, kInt16, kInt32, kInt64, kFloat32, kFloat64, kBoolean, kString };
// "int8", ... "string"; nullopt for anything else.
std::optional<CastType> ParseCastType(std::string_view name);

struct CastOptions {
  std::vector<std::pair<std::string, CastType>> spec;  // field -> type, in spec order
};

class Cast : public Transform {
 public:
  explicit Cast(CastOptions options) : options_(std::move(options)) {}
  common::Result<Verdict> Apply(ChangeEvent& event) const override;
  common::Status MapSchema(RecordSchema& schema) const override;

 private:
  CastOptions options_;
};

// ---- ValueToKey (org.apache.kafka.connect.transforms.ValueToKey)

struct ValueToKeyOptions {
  std::vector<std::string> fields;  // the key's fields, in this order (a composite key)
};

class ValueToKey : public Transform {
 public:
  explicit ValueToKey(ValueToKeyOptions options) : options_(std::move(options)) {}
  common::Result<Verdict> Apply(ChangeEvent& event) const override;
  common::Status MapSchema(RecordSchema& schema) const override;

 private:
  ValueToKeyOptions options_;
};

// ---- RegexRouter (org.apache.kafka.connect.transforms.RegexRouter)

struct RegexRouterOptions {
  std::regex regex;         // must match the whole topic; otherwise the topic is left as it is
  std::string replacement;  // $1, $2, ... name the groups
};

class RegexRouter : public Transform {
 public:
  explicit RegexRouter(RegexRouterOptions options) : options_(std::move(options)) {}
  common::Result<Verdict> Apply(ChangeEvent& event) const override;
  // The topic a record of `topic` goes to (for provisioning).
  std::string Route(const std::string& topic) const;

 private:
  RegexRouterOptions options_;
  // Route()'s results so far: they depend only on the topic, and matching and replacing with
  // std::regex costs about a microsecond per event. At most kMaxRoutes topics are kept (a
  // capture has a few); the mutex because Apply() is const and a transform may be shared.
  static constexpr size_t kMaxRoutes = 1024;
  mutable std::mutex routes_mu_;
  mutable std::unordered_map<std::string, std::string> routes_;
};

// ---- Filter (org.apache.kafka.connect.transforms.Filter)

// Drops every event it is applied to; the predicate (required by the loader) chooses which.
class Filter : public Transform {
 public:
  common::Result<Verdict> Apply(ChangeEvent&) const override { return Verdict::kDrop; }
};

}  // namespace rm::cdc::transforms

#include "src-cdc/transforms/builtin.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_map>
#include <unordered_set>

namespace rm::cdc::transforms {

using common::Error;
using common::Result;

namespace {

Error TransformError(std::string message) { return Error{"transform.failed", std::move(message)}; }

std::string_view OpCode(const ChangeEvent& event) {
  return event.op_code.empty() ? OperationCode(event.op) : std::string_view(event.op_code);
}

// A source block field by Debezium's name: the typed members first, then the connector's own.
Json SourceValue(const ChangeEvent& event, const std::string& name) {
  const SourceInfo& s = event.source;
  if (name == "version") return std::string(kConnectorVersion);
  if (name == "connector") return s.connector;
  if (name == "name") return s.name;
  if (name == "ts_ms") return s.ts_ms;
  if (name == "snapshot") return std::string(SnapshotFlagName(s.snapshot));
  if (name == "db") return s.db.empty() ? Json(nullptr) : Json(s.db);
  auto it = s.fields.find(name);
  return it == s.fields.end() ? Json(nullptr) : *it;
}

// The value of one add.fields entry: "op", "ts_ms" (the envelope's), "source.<f>" or <f>
// (the source block's).
Json MetadataValue(const ChangeEvent& event, const std::string& name) {
  if (name == "op") return std::string(OpCode(event));
  if (name == "ts_ms") return event.ts_ms;
  if (name.rfind("source.", 0) == 0) return SourceValue(event, name.substr(7));
  return SourceValue(event, name);
}

std::string MetadataFieldName(const std::string& prefix, std::string name) {
  for (char& c : name) {
    if (c == '.') c = '_';
  }
  return prefix + name;
}

}  // namespace

// ---- ExtractNewRecordState

Result<Verdict> ExtractNewRecordState::Apply(ChangeEvent& event) const {
  if (event.flattened) return Verdict::kKeep;  // a second unwrap in one chain changes nothing
  // A truncate has no row; Debezium's unwrap drops it too.
  if (event.op == Operation::kTruncate) return Verdict::kDrop;
  const bool rewrite = options_.deletes == DeleteHandling::kRewrite ||
                       options_.deletes == DeleteHandling::kRewriteWithTombstone;
  const std::string deleted_field = options_.add_fields_prefix + "deleted";
  if (event.op == Operation::kDelete) {
    switch (options_.deletes) {
      case DeleteHandling::kDrop:
        return Verdict::kDrop;
      case DeleteHandling::kTombstone:
        // The delete's record becomes the tombstone; without a key there is nothing to compact.
        if (!event.key) return Verdict::kDrop;
        event.after.reset();
        event.drop_tombstone = true;
        break;
      case DeleteHandling::kNullValue:
        event.after.reset();
        break;
      case DeleteHandling::kRewrite:
      case DeleteHandling::kRewriteWithTombstone:
        if (!event.before || !event.before->is_object()) {
          return TransformError("the delete has no before image to rewrite");
        }
        event.after = *event.before;
        (*event.after)[deleted_field] = "true";
        event.drop_tombstone = options_.deletes == DeleteHandling::kRewrite;
        break;
    }
  } else {
    if (!event.after || !event.after->is_object()) {
      return TransformError(fmt::format("the '{}' event has no after image", OpCode(event)));
    }
    if (rewrite) (*event.after)[deleted_field] = "false";
  }
  if (event.after) {
    for (const std::string& name : options_.add_fields) {
      (*event.after)[MetadataFieldName(options_.add_fields_prefix, name)] =
          MetadataValue(event, name);
    }
  }
  event.flattened = true;
  if (!options_.route_by_field.empty()) {
    const Json* row = ReadRow(event);
    auto it = row == nullptr ? Json::const_iterator() : row->find(options_.route_by_field);
    if (row == nullptr || it == row->end() || it->is_null()) {
      return TransformError(
          fmt::format("route.by.field: field '{}' is missing or null", options_.route_by_field));
    }
    event.topic = ValueText(*it);
  }
  return Verdict::kKeep;
}

namespace {

// A field schema of `type`, optional, named `name` in its struct.
Json OptionalField(const std::string& name, Json type_schema) {
  Json f = std::move(type_schema);
  f["optional"] = true;
  f["field"] = name;
  return f;
}

// Sets field `field.field` of a struct schema: replaced in place when it exists (the event's
// JSON object keeps its place too), appended otherwise.
void PutField(Json& struct_schema, Json field) {
  const std::string name = field["field"].get<std::string>();
  if (Json* existing = SchemaField(struct_schema, name)) {
    *existing = std::move(field);
  } else {
    struct_schema["fields"].push_back(std::move(field));
  }
}

// The schema of a source block field (from the envelope's "source" struct), without its name
// in the struct; an optional string when the block has no such field (its value is null).
Json SourceFieldSchema(Json& envelope, const std::string& name) {
  if (Json* source = SchemaField(envelope, "source")) {
    if (Json* f = SchemaField(*source, name)) {
      Json copy = *f;
      copy.erase("field");
      copy.erase("default");
      return copy;
    }
  }
  return Json{{"type", "string"}};
}

Json MetadataSchema(Json& envelope, const std::string& name) {
  if (name == "op") return Json{{"type", "string"}};
  if (name == "ts_ms") return Json{{"type", "int64"}};
  if (name.rfind("source.", 0) == 0) return SourceFieldSchema(envelope, name.substr(7));
  return SourceFieldSchema(envelope, name);
}

}  // namespace

common::Status ExtractNewRecordState::MapSchema(RecordSchema& schema) const {
  if (schema.flattened) return common::Status::Ok();
  Json envelope = schema.value;
  Json* after = SchemaField(envelope, "after");
  if (after == nullptr) return Error{"transform.failed", "the value schema has no 'after' field"};
  Json row = *after;
  row.erase("field");
  // Debezium: __deleted is an optional string, add.fields keep their source schema, made
  // optional.
  if (options_.deletes == DeleteHandling::kRewrite ||
      options_.deletes == DeleteHandling::kRewriteWithTombstone) {
    PutField(row, OptionalField(options_.add_fields_prefix + "deleted", Json{{"type", "string"}}));
  }
  for (const std::string& name : options_.add_fields) {
    PutField(row, OptionalField(MetadataFieldName(options_.add_fields_prefix, name),
                                MetadataSchema(envelope, name)));
  }
  schema.value = std::move(row);
  schema.flattened = true;
  return common::Status::Ok();
}

// ---- ReplaceField

Result<Verdict> ReplaceField::Apply(ChangeEvent& event) const {
  const std::unordered_set<std::string> exclude(options_.exclude.begin(), options_.exclude.end());
  const std::unordered_set<std::string> include(options_.include.begin(), options_.include.end());
  std::unordered_map<std::string, std::string> renames(options_.renames.begin(),
                                                       options_.renames.end());
  for (Json* row : WritableRows(event)) {
    Json out = Json::object();
    for (auto it = row->begin(); it != row->end(); ++it) {
      const std::string& name = it.key();
      if (exclude.count(name) || (!include.empty() && !include.count(name))) continue;
      auto renamed = renames.find(name);
      out[renamed == renames.end() ? name : renamed->second] = std::move(it.value());
    }
    *row = std::move(out);
  }
  return Verdict::kKeep;
}

common::Status ReplaceField::MapSchema(RecordSchema& schema) const {
  const std::unordered_set<std::string> exclude(options_.exclude.begin(), options_.exclude.end());
  const std::unordered_set<std::string> include(options_.include.begin(), options_.include.end());
  std::unordered_map<std::string, std::string> renames(options_.renames.begin(),
                                                       options_.renames.end());
  for (Json* row : SchemaRows(schema)) {
    Json fields = Json::array();
    for (Json& f : (*row)["fields"]) {
      const std::string name = f.value("field", "");
      if (exclude.count(name) || (!include.empty() && !include.count(name))) continue;
      auto renamed = renames.find(name);
      if (renamed != renames.end()) f["field"] = renamed->second;
      fields.push_back(std::move(f));
    }
    (*row)["fields"] = std::move(fields);
  }
  return common::Status::Ok();
}

// ---- InsertField

Result<Verdict> InsertField::Apply(ChangeEvent& event) const {
  const InsertFieldOptions& o = options_;
  for (Json* row : WritableRows(event)) {
    if (!o.static_field.empty()) (*row)[o.static_field] = o.static_value;
    if (!o.topic_field.empty()) (*row)[o.topic_field] = event.topic;
    if (!o.timestamp_field.empty()) (*row)[o.timestamp_field] = event.source.ts_ms;
    if (!o.offset_field.empty()) {
      const Json& f = event.source.fields;
      (*row)[o.offset_field] = f.contains("lsn")   ? f["lsn"]
                               : f.contains("pos") ? f["pos"]
                                                   : Json(nullptr);
    }
  }
  return Verdict::kKeep;
}

common::Status InsertField::MapSchema(RecordSchema& schema) const {
  const InsertFieldOptions& o = options_;
  // As Connect's InsertField: optional fields; the timestamp is Connect's Timestamp (epoch ms).
  Json offset_type = Json{{"type", "int64"}};
  if (!o.offset_field.empty() && !schema.flattened) {
    Json* source = SchemaField(schema.value, "source");
    if (source != nullptr && SchemaField(*source, "lsn") == nullptr) {
      if (Json* pos = SchemaField(*source, "pos")) offset_type = Json{{"type", (*pos)["type"]}};
    }
  }
  for (Json* row : SchemaRows(schema)) {
    if (!o.static_field.empty()) {
      PutField(*row, OptionalField(o.static_field, Json{{"type", "string"}}));
    }
    if (!o.topic_field.empty()) {
      PutField(*row, OptionalField(o.topic_field, Json{{"type", "string"}}));
    }
    if (!o.timestamp_field.empty()) {
      PutField(*row, OptionalField(o.timestamp_field,
                                   Json{{"type", "int64"},
                                        {"name", "org.apache.kafka.connect.data.Timestamp"},
                                        {"version", 1}}));
    }
    if (!o.offset_field.empty()) PutField(*row, OptionalField(o.offset_field, offset_type));
  }
  return common::Status::Ok();
}

// ---- Cast

std::optional<CastType> ParseCastType(std::string_view name) {
  static const std::pair<std::string_view, CastType> kTypes[] = {
      {"int8", CastType::kInt8},       {"int16", CastType::kInt16},
      {"int32", CastType::kInt32},     {"int64", CastType::kInt64},
      {"float32", CastType::kFloat32}, {"float64", CastType::kFloat64},
      {"boolean", CastType::kBoolean}, {"string", CastType::kString}};
  for (const auto& [n, t] : kTypes) {
    if (n == name) return t;
  }
  return std::nullopt;
}

namespace {

std::string_view CastTypeName(CastType t) {
  switch (t) {
    case CastType::kInt8:
      return "int8";
    case CastType::kInt16:
      return "int16";
    case CastType::kInt32:
      return "int32";
    case CastType::kInt64:
      return "int64";
    case CastType::kFloat32:
      return "float32";
    case CastType::kFloat64:
      return "float64";
    case CastType::kBoolean:
      return "boolean";
    case CastType::kString:
      return "string";
  }
  return "?";
}

std::pair<int64_t, int64_t> IntRange(CastType t) {
  switch (t) {
    case CastType::kInt8:
      return {INT8_MIN, INT8_MAX};
    case CastType::kInt16:
      return {INT16_MIN, INT16_MAX};
    case CastType::kInt32:
      return {INT32_MIN, INT32_MAX};
    default:
      return {INT64_MIN, INT64_MAX};
  }
}

template <typename T>
bool ParseWhole(const std::string& s, T& out) {
  const char* end = s.data() + s.size();
  auto [ptr, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && ptr == end && !s.empty();
}

std::optional<Json> CastValue(const Json& v, CastType type) {
  switch (type) {
    case CastType::kString:
      return Json(ValueText(v));
    case CastType::kBoolean:
      if (v.is_boolean()) return v;
      if (v.is_number()) return Json(v.get<double>() != 0);
      if (v.is_string()) {
        const std::string& s = v.get_ref<const std::string&>();
        if (s == "true" || s == "TRUE" || s == "True") return Json(true);
        if (s == "false" || s == "FALSE" || s == "False") return Json(false);
      }
      return std::nullopt;
    case CastType::kFloat32:
    case CastType::kFloat64: {
      double d = 0;
      if (v.is_number()) {
        d = v.get<double>();
      } else if (v.is_boolean()) {
        d = v.get<bool>() ? 1 : 0;
      } else if (!v.is_string() || !ParseWhole(v.get_ref<const std::string&>(), d)) {
        return std::nullopt;
      }
      if (type == CastType::kFloat32) {
        if (std::isfinite(d) && std::abs(d) > std::numeric_limits<float>::max()) {
          return std::nullopt;
        }
        d = static_cast<float>(d);
      }
      return Json(d);
    }
    default: {
      int64_t i = 0;
      if (v.is_number_integer() && !v.is_number_unsigned()) {
        i = v.get<int64_t>();
      } else if (v.is_number_unsigned()) {
        if (v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
        i = static_cast<int64_t>(v.get<uint64_t>());
      } else if (v.is_number_float()) {
        const double d = v.get<double>();
        // Truncated toward zero, as Connect's Number.intValue() does; only values that fit.
        if (!std::isfinite(d) || d >= 9.2233720368547758e18 || d < -9.2233720368547758e18) {
          return std::nullopt;
        }
        i = static_cast<int64_t>(d);
      } else if (v.is_boolean()) {
        i = v.get<bool>() ? 1 : 0;
      } else if (!v.is_string() || !ParseWhole(v.get_ref<const std::string&>(), i)) {
        return std::nullopt;
      }
      auto [lo, hi] = IntRange(type);
      if (i < lo || i > hi) return std::nullopt;
      return Json(i);
    }
  }
}

}  // namespace

Result<Verdict> Cast::Apply(ChangeEvent& event) const {
  for (Json* row : WritableRows(event)) {
    for (const auto& [field, type] : options_.spec) {
      auto it = row->find(field);
      if (it == row->end() || it->is_null()) continue;  // absent and null stay as they are
      auto cast = CastValue(*it, type);
      if (!cast) {
        return TransformError(fmt::format("field '{}': {} cannot be cast to {}", field,
                                          it->dump(-1, ' ', false, Json::error_handler_t::replace),
                                          CastTypeName(type)));
      }
      *it = std::move(*cast);
    }
  }
  return Verdict::kKeep;
}

common::Status Cast::MapSchema(RecordSchema& schema) const {
  for (Json* row : SchemaRows(schema)) {
    for (const auto& [field, type] : options_.spec) {
      Json* f = SchemaField(*row, field);
      if (f == nullptr) continue;  // as Apply(): an absent field stays absent
      // Connect's Cast: the new primitive type, the field's optionality; the logical name,
      // version and parameters of the old type no longer apply.
      std::string_view name = CastTypeName(type);
      std::string json_type = name == "float32"   ? "float"
                              : name == "float64" ? "double"
                                                  : std::string(name);
      Json cast = Json::object();
      cast["type"] = json_type;
      cast["optional"] = f->value("optional", true);
      cast["field"] = field;
      *f = std::move(cast);
    }
  }
  return common::Status::Ok();
}

// ---- ValueToKey

Result<Verdict> ValueToKey::Apply(ChangeEvent& event) const {
  const Json* row = ReadRow(event);
  if (row == nullptr) return TransformError("no row image to read the key fields from");
  Json key = Json::object();
  for (const std::string& field : options_.fields) {
    auto it = row->find(field);
    if (it == row->end()) {
      return TransformError(fmt::format("key field '{}' is not in the row", field));
    }
    key[field] = *it;
  }
  event.key = std::move(key);
  return Verdict::kKeep;
}

common::Status ValueToKey::MapSchema(RecordSchema& schema) const {
  // The key fields' schemas come from the row the values are read from (`after`; its schema is
  // the `before` one's too).
  Json* row = schema.flattened ? &schema.value : SchemaField(schema.value, "after");
  if (row == nullptr) return Error{"transform.failed", "the value schema has no row struct"};
  Json fields = Json::array();
  for (const std::string& name : options_.fields) {
    Json* f = SchemaField(*row, name);
    if (f == nullptr) {
      return Error{"transform.failed",
                   fmt::format("key field '{}' is not in the row's schema", name)};
    }
    fields.push_back(*f);
  }
  // Connect's ValueToKey builds an unnamed struct of the fields.
  Json key = Json::object();
  key["type"] = "struct";
  key["fields"] = std::move(fields);
  key["optional"] = false;
  schema.key = std::move(key);
  return common::Status::Ok();
}

// ---- RegexRouter

std::string RegexRouter::Route(const std::string& topic) const {
  if (!std::regex_match(topic, options_.regex)) return topic;
  return std::regex_replace(topic, options_.regex, options_.replacement,
                            std::regex_constants::format_first_only);
}

Result<Verdict> RegexRouter::Apply(ChangeEvent& event) const {
  std::lock_guard lock(routes_mu_);
  auto it = routes_.find(event.topic);
  if (it == routes_.end()) {
    std::string routed = Route(event.topic);
    if (routes_.size() >= kMaxRoutes) {
      event.topic = std::move(routed);
      return Verdict::kKeep;
    }
    it = routes_.emplace(event.topic, std::move(routed)).first;
  }
  event.topic = it->second;
  return Verdict::kKeep;
}

}  // namespace rm::cdc::transforms

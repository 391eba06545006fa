#include "src-cdc/change_event.h"

#include <fmt/format.h>

#include <chrono>

namespace rm::cdc {

std::string_view OperationCode(Operation op) {
  switch (op) {
    case Operation::kCreate:
      return "c";
    case Operation::kUpdate:
      return "u";
    case Operation::kDelete:
      return "d";
    case Operation::kRead:
      return "r";
    case Operation::kTruncate:
      return "t";
  }
  return "?";
}

std::string_view SnapshotFlagName(SnapshotFlag flag) {
  switch (flag) {
    case SnapshotFlag::kFalse:
      return "false";
    case SnapshotFlag::kTrue:
      return "true";
    case SnapshotFlag::kFirst:
      return "first";
    case SnapshotFlag::kLast:
      return "last";
  }
  return "false";
}

namespace {

Json SourceJson(const SourceInfo& s) {
  Json j = Json::object();
  j["version"] = kConnectorVersion;
  j["connector"] = s.connector;
  j["name"] = s.name;
  j["ts_ms"] = s.ts_ms;
  j["snapshot"] = SnapshotFlagName(s.snapshot);
  if (!s.db.empty()) j["db"] = s.db;
  for (const auto& [k, v] : s.fields.items()) j[k] = v;
  return j;
}

}  // namespace

std::string EncodeValue(const ChangeEvent& event) {
  // Written piece by piece: building one Json object for the envelope deep-copied both row
  // images (a third of the Cassandra capture's CPU). Same bytes as dumping that object.
  // Invalid UTF-8 in text columns is replaced rather than throwing on the data path.
  const auto dump = [](const Json& j) {
    return j.dump(-1, ' ', false, Json::error_handler_t::replace);
  };
  const auto image = [&dump](const std::optional<Json>& j) {
    return j ? dump(*j) : std::string("null");
  };
  const std::string_view op =
      event.op_code.empty() ? OperationCode(event.op) : std::string_view(event.op_code);
  std::string plain = fmt::format(
      "{{\"before\":{},\"after\":{},\"source\":{},\"op\":{},\"ts_ms\":{},\"transaction\":null}}",
      image(event.before), image(event.after), dump(SourceJson(event.source)), dump(Json(op)),
      event.ts_ms);
  if (!event.schemas) return plain;
  return fmt::format("{{\"schema\":{},\"payload\":{}}}", event.schemas->value, plain);
}

std::optional<std::string> EncodeKey(const ChangeEvent& event) {
  if (!event.key) return std::nullopt;
  std::string plain = event.key->dump(-1, ' ', false, Json::error_handler_t::replace);
  if (!event.schemas || event.schemas->key.empty()) return plain;
  return fmt::format("{{\"schema\":{},\"payload\":{}}}", event.schemas->key, plain);
}

std::vector<EncodedRecord> EncodeRecords(const ChangeEvent& event, bool tombstones_on_delete) {
  std::vector<EncodedRecord> out;
  if (event.flattened) {
    std::optional<std::string> value;
    if (event.after) value = event.after->dump(-1, ' ', false, Json::error_handler_t::replace);
    // With schemas, the row's own (transforms map them: src-cdc/transforms/pipeline.h).
    if (value && event.schemas) {
      value = fmt::format("{{\"schema\":{},\"payload\":{}}}", event.schemas->value, *value);
    }
    out.push_back({event.topic, EncodeKey(event), std::move(value)});
  } else {
    out.push_back({event.topic, EncodeKey(event), EncodeValue(event)});
  }
  if (event.op == Operation::kDelete && tombstones_on_delete && !event.drop_tombstone &&
      out.front().key) {
    out.push_back({event.topic, out.front().key, std::nullopt});
  }
  return out;
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace rm::cdc

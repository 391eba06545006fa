#include "src-cdc/change_event.h"

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
  Json j = Json::object();
  j["before"] = event.before ? *event.before : Json(nullptr);
  j["after"] = event.after ? *event.after : Json(nullptr);
  j["source"] = SourceJson(event.source);
  j["op"] = event.op_code.empty() ? OperationCode(event.op) : std::string_view(event.op_code);
  j["ts_ms"] = event.ts_ms;
  j["transaction"] = nullptr;
  // Invalid UTF-8 in text columns is replaced rather than throwing on the data path.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::optional<std::string> EncodeKey(const ChangeEvent& event) {
  if (!event.key) return std::nullopt;
  return event.key->dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::vector<EncodedRecord> EncodeRecords(const ChangeEvent& event, bool tombstones_on_delete) {
  std::vector<EncodedRecord> out;
  out.push_back({event.topic, EncodeKey(event), EncodeValue(event)});
  if (event.op == Operation::kDelete && tombstones_on_delete && out.front().key) {
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

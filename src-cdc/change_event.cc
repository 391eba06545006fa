#include "src-cdc/change_event.h"

#include <fmt/format.h>

#include <chrono>
#include <iterator>
#include <string_view>

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

// nlohmann's serializer writing into EventEncoder::buf_: what Json::dump() runs, minus the
// string it returns (dump() makes a serializer over a new string each call). Same options as
// dump(-1, ' ', false, error_handler_t::replace): compact, UTF-8 kept, invalid UTF-8 in text
// columns replaced rather than throwing on the data path.
struct EventEncoder::Serializer {
  explicit Serializer(std::string& out)
      : s(nlohmann::detail::output_adapter<char, std::string>(out), ' ',
          Json::error_handler_t::replace) {}
  nlohmann::detail::serializer<Json> s;
};

EventEncoder::EventEncoder() : serializer_(std::make_unique<Serializer>(buf_)) {}
EventEncoder::~EventEncoder() = default;

namespace {

// True when nlohmann's serializer writes `s` unchanged between quotes: ASCII from 0x20 up, without
// a quote or a backslash. It escapes control characters, quotes and backslashes, passes 0x7F as it
// is (no ensure_ascii), and checks (and repairs) UTF-8 beyond ASCII: such strings still go to it.
bool WrittenVerbatim(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x80 || c == '"' || c == '\\') return false;
  }
  return true;
}

}  // namespace

// Writes what the serializer's compact dump writes, walking objects and arrays here so that the
// common strings (keys, ASCII text values) are appended as they are instead of going through
// the serializer's byte-by-byte UTF-8 state machine; everything else is dumped by it.
void EventEncoder::AppendJson(const Json& j) {
  switch (j.type()) {
    case Json::value_t::object: {
      const auto& members = j.get_ref<const Json::object_t&>();
      buf_ += '{';
      bool first = true;
      for (const auto& [k, v] : members) {
        if (!first) buf_ += ',';
        first = false;
        if (WrittenVerbatim(k)) {
          buf_ += '"';
          buf_ += k;
          buf_ += '"';
        } else {
          serializer_->s.dump(Json(k), false, false, 0);
        }
        buf_ += ':';
        AppendJson(v);
      }
      buf_ += '}';
      return;
    }
    case Json::value_t::array: {
      const auto& items = j.get_ref<const Json::array_t&>();
      buf_ += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i > 0) buf_ += ',';
        AppendJson(items[i]);
      }
      buf_ += ']';
      return;
    }
    case Json::value_t::string: {
      const auto& text = j.get_ref<const std::string&>();
      if (WrittenVerbatim(text)) {
        buf_ += '"';
        buf_ += text;
        buf_ += '"';
        return;
      }
      break;
    }
    default:
      break;
  }
  serializer_->s.dump(j, false, false, 0);
}

void EventEncoder::AppendString(CachedString& cache, const std::string& value) {
  if (cache.json.empty() || cache.raw != value) {
    cache.raw = value;
    cache.json = Json(value).dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  buf_ += cache.json;
}

namespace {

// The source block's own members, in the order SourceJson() writes them.
bool IsCommonSourceField(const std::string& k) {
  return k == "version" || k == "connector" || k == "name" || k == "ts_ms" || k == "snapshot" ||
         k == "db";
}

}  // namespace

void EventEncoder::AppendSource(const SourceInfo& s) {
  // A connector field named like a common member replaces it in place in SourceJson(), and
  // a non-object `fields` is iterated by items(): both are written the slow way, as before.
  bool plain_fields = s.fields.is_object();
  if (plain_fields) {
    for (const auto& [k, v] : s.fields.items()) {
      if (IsCommonSourceField(k)) plain_fields = false;
    }
  }
  if (!plain_fields) {
    AppendJson(SourceJson(s));
    return;
  }
  static const std::string kVersion = Json(kConnectorVersion).dump();
  buf_ += "{\"version\":";
  buf_ += kVersion;
  buf_ += ",\"connector\":";
  AppendString(connector_, s.connector);
  buf_ += ",\"name\":";
  AppendString(name_, s.name);
  buf_ += ",\"ts_ms\":";
  fmt::format_to(std::back_inserter(buf_), "{}", s.ts_ms);
  buf_ += ",\"snapshot\":\"";
  buf_ += SnapshotFlagName(s.snapshot);  // plain ASCII words: nothing to escape
  buf_ += '"';
  if (!s.db.empty()) {
    buf_ += ",\"db\":";
    AppendString(db_, s.db);
  }
  if (!s.fields.empty()) {
    // The fields object's members continue the block: its '{' becomes the separator.
    const size_t at = buf_.size();
    AppendJson(s.fields);
    buf_[at] = ',';
    buf_.pop_back();  // its '}', written again below
  }
  buf_ += '}';
}

void EventEncoder::AppendEnvelope(const ChangeEvent& event) {
  if (event.schemas) {
    buf_ += "{\"schema\":";
    buf_ += event.schemas->value;
    buf_ += ",\"payload\":";
  }
  buf_ += "{\"before\":";
  if (event.before) {
    AppendJson(*event.before);
  } else {
    buf_ += "null";
  }
  buf_ += ",\"after\":";
  if (event.after) {
    AppendJson(*event.after);
  } else {
    buf_ += "null";
  }
  buf_ += ",\"source\":";
  AppendSource(event.source);
  buf_ += ",\"op\":";
  if (event.op_code.empty()) {
    buf_ += '"';
    buf_ += OperationCode(event.op);  // one letter
    buf_ += '"';
  } else {
    AppendString(op_code_, event.op_code);
  }
  buf_ += ",\"ts_ms\":";
  fmt::format_to(std::back_inserter(buf_), "{}", event.ts_ms);
  buf_ += ",\"transaction\":null}";
  if (event.schemas) buf_ += '}';
}

std::string EventEncoder::Take() {
  std::string out(buf_);
  buf_.clear();
  return out;
}

std::string EventEncoder::Value(const ChangeEvent& event) {
  buf_.clear();
  AppendEnvelope(event);
  return Take();
}

std::optional<std::string> EventEncoder::Key(const ChangeEvent& event) {
  if (!event.key) return std::nullopt;
  buf_.clear();
  const bool wrap = event.schemas && !event.schemas->key.empty();
  if (wrap) {
    buf_ += "{\"schema\":";
    buf_ += event.schemas->key;
    buf_ += ",\"payload\":";
  }
  AppendJson(*event.key);
  if (wrap) buf_ += '}';
  return Take();
}

void EventEncoder::Encode(const ChangeEvent& event, bool tombstones_on_delete,
                          std::vector<EncodedRecord>& out) {
  const size_t first = out.size();
  std::optional<std::string> key = Key(event);
  std::optional<std::string> value;
  if (!event.flattened) {
    value = Value(event);
  } else if (event.after) {
    // With schemas, the row's own (transforms map them: src-cdc/transforms/pipeline.h).
    buf_.clear();
    if (event.schemas) {
      buf_ += "{\"schema\":";
      buf_ += event.schemas->value;
      buf_ += ",\"payload\":";
    }
    AppendJson(*event.after);
    if (event.schemas) buf_ += '}';
    value = Take();
  }
  out.push_back({event.topic, std::move(key), std::move(value)});
  if (event.op == Operation::kDelete && tombstones_on_delete && !event.drop_tombstone &&
      out[first].key) {
    out.push_back({event.topic, out[first].key, std::nullopt});
  }
}

std::string EncodeValue(const ChangeEvent& event) { return EventEncoder().Value(event); }

std::optional<std::string> EncodeKey(const ChangeEvent& event) { return EventEncoder().Key(event); }

std::vector<EncodedRecord> EncodeRecords(const ChangeEvent& event, bool tombstones_on_delete) {
  std::vector<EncodedRecord> out;
  EventEncoder().Encode(event, tombstones_on_delete, out);
  return out;
}

int64_t NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace rm::cdc

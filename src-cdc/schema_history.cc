#include "src-cdc/schema_history.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>

#include "common/kafka_client.h"
#include "src-cdc/kafka_event_sink.h"

namespace rm::cdc {

namespace {

using common::Error;
using common::Result;
using common::Status;

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json PendingJson(const SchemaPending& p, bool with_error) {
  Json v = Json::object();
  v["table"] = p.table;
  v["position"] = p.position;
  v["position_value"] = p.position_value;
  if (with_error) v["error"] = p.error;
  v["shape"] = p.shape.ToJson();
  return v;
}

Result<SchemaPending> PendingFromJson(const Json& v) {
  SchemaPending p;
  p.table = v.at("table").get<std::string>();
  p.position = v.at("position").get<std::string>();
  p.position_value = v.at("position_value").get<uint64_t>();
  if (v.contains("error")) p.error = v.at("error").get<std::string>();
  auto shape = TableShape::FromJson(v.at("shape"));
  if (!shape.ok()) return shape.error();
  p.shape = std::move(*shape);
  return p;
}

}  // namespace

const ColumnShape* TableShape::Find(std::string_view name) const {
  for (const auto& c : columns) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Json TableShape::ToJson() const {
  Json cols = Json::array();
  for (const auto& c : columns) {
    Json j = Json::object();
    j["name"] = c.name;
    j["type"] = c.type;
    j["type_oid"] = c.type_oid;
    j["type_modifier"] = c.type_modifier;
    j["attnum"] = c.attnum;
    j["optional"] = c.optional;
    j["has_default"] = c.has_default;
    j["key"] = c.key;
    j["connect"] = c.connect;
    cols.push_back(std::move(j));
  }
  Json out = Json::object();
  out["columns"] = std::move(cols);
  return out;
}

Result<TableShape> TableShape::FromJson(const Json& j) {
  TableShape t;
  try {
    for (const auto& c : j.at("columns")) {
      ColumnShape s;
      s.name = c.at("name").get<std::string>();
      s.type = c.at("type").get<std::string>();
      s.type_oid = c.value("type_oid", 0u);
      s.type_modifier = c.value("type_modifier", -1);
      s.attnum = c.value("attnum", 0);
      s.optional = c.at("optional").get<bool>();
      s.has_default = c.value("has_default", false);
      s.key = c.at("key").get<bool>();
      s.connect = c.value("connect", Json::object());
      t.columns.push_back(std::move(s));
    }
  } catch (const Json::exception& e) {
    return Error{"schema.bad_record", std::string("shape: ") + e.what()};
  }
  return t;
}

std::pair<std::string, std::string> EncodeVersionRecord(const SchemaVersion& v) {
  Json key = Json::object();
  key["table"] = v.table;
  key["version"] = v.version;
  Json value = Json::object();
  value["table"] = v.table;
  value["version"] = v.version;
  value["position"] = v.position;
  value["position_value"] = v.position_value;
  value["accepted"] = v.accepted;
  if (v.dropped) value["dropped"] = true;  // absent otherwise: earlier records stay byte-equal
  value["shape"] = v.shape.ToJson();
  return {Dump(key), Dump(value)};
}

std::string PendingRecordKey(const std::string& table) {
  Json key = Json::object();
  key["table"] = table;
  key["pending"] = true;
  return Dump(key);
}

std::pair<std::string, std::string> EncodePendingRecord(const SchemaPending& p) {
  return {PendingRecordKey(p.table), Dump(PendingJson(p, true))};
}

std::pair<std::string, std::string> EncodeAcceptRecord(const SchemaPending& p) {
  Json key = Json::object();
  key["table"] = p.table;
  key["accepted"] = true;
  return {Dump(key), Dump(PendingJson(p, false))};
}

Status SchemaHistory::Apply(std::string_view key_text, std::optional<std::string_view> value) {
  try {
    Json key = Json::parse(key_text);
    const std::string table = key.at("table").get<std::string>();
    if (key.contains("version")) {
      if (!value) return Status::Ok();  // versions are never deleted
      Json v = Json::parse(*value);
      SchemaVersion ver;
      ver.table = table;
      ver.version = v.at("version").get<int>();
      ver.position = v.at("position").get<std::string>();
      ver.position_value = v.at("position_value").get<uint64_t>();
      ver.accepted = v.value("accepted", false);
      ver.dropped = v.value("dropped", false);
      auto shape = TableShape::FromJson(v.at("shape"));
      if (!shape.ok()) return shape.error();
      ver.shape = std::move(*shape);
      Add(ver);
      return Status::Ok();
    }
    const bool pending = key.value("pending", false);
    const bool accepted = key.value("accepted", false);
    if (!pending && !accepted) {
      return Error{"schema.bad_record", fmt::format("unknown history key {}", key_text)};
    }
    auto& map = pending ? pending_ : accepted_;
    if (!value) {
      map.erase(table);
      return Status::Ok();
    }
    auto p = PendingFromJson(Json::parse(*value));
    if (!p.ok()) return p.error();
    map[table] = std::move(*p);
    return Status::Ok();
  } catch (const Json::exception& e) {
    return Error{"schema.bad_record",
                 fmt::format("history record with key {}: {}", key_text, e.what())};
  }
}

void SchemaHistory::Add(const SchemaVersion& v) {
  auto& list = versions_[v.table];
  auto it =
      std::lower_bound(list.begin(), list.end(), v.version,
                       [](const SchemaVersion& a, int version) { return a.version < version; });
  if (it != list.end() && it->version == v.version) {
    *it = v;  // the same key again: the later record wins, as compaction would keep it
  } else {
    list.insert(it, v);
  }
}

void SchemaHistory::SetPending(const SchemaPending& p) { pending_[p.table] = p; }
void SchemaHistory::ClearPending(const std::string& table) { pending_.erase(table); }

const std::vector<SchemaVersion>& SchemaHistory::Versions(const std::string& table) const {
  static const std::vector<SchemaVersion> kNone;
  auto it = versions_.find(table);
  return it == versions_.end() ? kNone : it->second;
}

const SchemaVersion* SchemaHistory::Latest(const std::string& table) const {
  const auto& v = Versions(table);
  return v.empty() ? nullptr : &v.back();
}

const SchemaVersion* SchemaHistory::At(const std::string& table, uint64_t position) const {
  const SchemaVersion* best = nullptr;
  for (const auto& v : Versions(table)) {
    if (v.position_value <= position) best = &v;
  }
  return best;
}

const SchemaPending* SchemaHistory::Pending(const std::string& table) const {
  auto it = pending_.find(table);
  return it == pending_.end() ? nullptr : &it->second;
}

const SchemaPending* SchemaHistory::Accepted(const std::string& table) const {
  auto it = accepted_.find(table);
  return it == accepted_.end() ? nullptr : &it->second;
}

std::vector<std::string> SchemaHistory::Tables() const {
  std::vector<std::string> out;
  for (const auto& [t, _] : versions_) out.push_back(t);
  for (const auto& [t, _] : pending_) {
    if (!versions_.count(t)) out.push_back(t);
  }
  return out;
}

Result<SchemaHistory> ReadSchemaHistory(const common::KafkaProperties& properties,
                                        const std::string& topic,
                                        std::chrono::milliseconds timeout) {
  using namespace std::chrono_literals;
  common::KafkaProperties props;
  // Only the connection settings of a producer's properties apply to this reader.
  for (const auto& [k, v] : properties) {
    if (k == "bootstrap.servers" || k.rfind("security.", 0) == 0 || k.rfind("sasl.", 0) == 0 ||
        k.rfind("ssl.", 0) == 0 || k == "client.id") {
      props[k] = v;
    }
  }
  props["enable.auto.commit"] = "false";
  props["enable.partition.eof"] = "false";
  props["group.id"] = "regionmirror-schema-history";  // assign() needs one; nothing committed
  props["fetch.wait.max.ms"] = "10";
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  SchemaHistory history;
  try {
    common::Consumer consumer(props, nullptr, "schema history");
    // Listing all topics does not auto-create the one we read.
    auto md = consumer.Metadata(std::nullopt, timeout);
    if (!md.ok()) return Error{"schema.history_read", md.error().message};
    const common::TopicMetadata* tm = md->Find(topic);
    if (tm == nullptr) return history;
    std::vector<common::TopicPartition> parts;
    for (const auto& p : tm->partitions) parts.push_back({topic, p.id, 0});
    auto wms = consumer.QueryWatermarks(parts, timeout);
    if (!wms.ok()) return Error{"schema.history_read", wms.error().message};
    std::map<int32_t, int64_t> end;  // partition -> high watermark still to reach
    std::vector<common::TopicPartition> assign;
    for (size_t i = 0; i < parts.size(); ++i) {
      const auto& wm = (*wms)[i];
      if (!wm.ok()) return Error{"schema.history_read", wm.error().message};
      if (wm->high > wm->low) {
        end[parts[i].partition] = wm->high;
        assign.push_back({topic, parts[i].partition, wm->low});
      }
    }
    if (assign.empty()) return history;
    if (auto st = consumer.Assign(assign); !st.ok()) {
      return Error{"schema.history_read", st.error().message};
    }
    while (!end.empty()) {
      if (std::chrono::steady_clock::now() > deadline) {
        return Error{"schema.history_read",
                     fmt::format("reading {} took longer than {} ms", topic, timeout.count())};
      }
      common::KafkaMessage msg = consumer.Poll(100ms);
      if (!msg) continue;
      if (msg->err) {
        return Error{"schema.history_read",
                     fmt::format("reading {}: {}", topic, rd_kafka_message_errstr(msg.get()))};
      }
      std::string_view key(static_cast<const char*>(msg->key), msg->key ? msg->key_len : 0);
      std::optional<std::string_view> value;
      if (msg->payload) value = std::string_view(static_cast<const char*>(msg->payload), msg->len);
      if (auto st = history.Apply(key, value); !st.ok()) {
        return Error{st.error().code, fmt::format("{} partition {} offset {}: {}", topic,
                                                  msg->partition, msg->offset, st.error().message)};
      }
      auto it = end.find(msg->partition);
      if (it != end.end() && msg->offset + 1 >= it->second) end.erase(it);
    }
  } catch (const common::ConfigError& e) {
    return Error{"schema.history_read", e.what()};
  }
  return history;
}

Status WriteSchemaHistoryRecords(
    const common::KafkaProperties& properties, const std::string& topic,
    const std::vector<std::pair<std::string, std::optional<std::string>>>& records,
    std::chrono::milliseconds timeout) {
  KafkaEventSinkOptions opts;
  opts.properties = properties;
  opts.context = "schema history";
  KafkaEventSink sink(opts);
  auto failure = std::make_shared<std::optional<common::Error>>();
  auto mu = std::make_shared<std::mutex>();
  for (const auto& [key, value] : records) {
    auto st = sink.Produce(topic, key, value, [failure, mu](Status s) {
      std::lock_guard lock(*mu);
      if (!s.ok() && !*failure) *failure = s.error();
    });
    if (!st.ok()) return st;
  }
  if (auto st = sink.Flush(timeout); !st.ok()) return st;
  std::lock_guard lock(*mu);
  if (*failure) return **failure;
  return Status::Ok();
}

}  // namespace rm::cdc

#include "src-cdc/postgres/schema_guard.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <set>

#include "common/log.h"
#include "src-cdc/connect_envelope.h"
#include "src-cdc/postgres/migration_check.h"

namespace rm::cdc::postgres {

namespace {

using common::Result;

Json Named(const std::string& type, const std::string& name) {
  Json j = Json::object();
  j["type"] = type;
  j["name"] = name;
  j["version"] = 1;
  return j;
}

Json Plain(const std::string& type) {
  Json j = Json::object();
  j["type"] = type;
  return j;
}

// The message's view of the columns (names, types) equals the shape's.
bool SameColumns(const TableSchema& t, const TableShape& shape) {
  if (t.columns.size() != shape.columns.size()) return false;
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const auto& a = t.columns[i];
    const auto& b = shape.columns[i];
    if (a.name != b.name || a.type_oid != b.type_oid || a.type_modifier != b.type_modifier) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::vector<SchemaViolation> CompareShapes(const TableShape& before, const TableShape& after) {
  return cdc::CompareShapes(before, after, [](const ColumnShape& o, const ColumnShape& n) {
    return ColumnTypeChangeProblem(o.type, n.type);
  });
}

Json ConnectFieldSchema(const TypeRegistry& types, uint32_t type_oid, int32_t type_modifier) {
  const TypeInfo* t = types.Find(type_oid);
  if (t == nullptr) return Plain("string");
  switch (t->kind) {
    case ValueKind::kInteger:
      return Plain(t->name == "int2" ? "int16" : t->name == "int4" ? "int32" : "int64");
    case ValueKind::kFloat:
      return Plain(t->name == "float4" ? "float" : "double");
    case ValueKind::kBool:
      return Plain("boolean");
    case ValueKind::kDecimalString:
      return Plain("string");
    case ValueKind::kString:
      if (t->is_enum) return Named("string", "io.debezium.data.Enum");
      if (t->name == "uuid") return Named("string", "io.debezium.data.Uuid");
      if (t->name == "xml") return Named("string", "io.debezium.data.Xml");
      return Plain("string");
    case ValueKind::kJsonText:
      return Named("string", "io.debezium.data.Json");
    case ValueKind::kBytes:
      return Plain("bytes");
    case ValueKind::kDate:
      return Named("int32", "io.debezium.time.Date");
    case ValueKind::kTime:
      if (type_modifier >= 0 && type_modifier <= 3) {
        return Named("int32", "io.debezium.time.Time");
      }
      return Named("int64", "io.debezium.time.MicroTime");
    case ValueKind::kTimeTz:
      return Named("string", "io.debezium.time.ZonedTime");
    case ValueKind::kTimestamp:
      if (type_modifier >= 0 && type_modifier <= 3) {
        return Named("int64", "io.debezium.time.Timestamp");
      }
      return Named("int64", "io.debezium.time.MicroTimestamp");
    case ValueKind::kTimestampTz:
      return Named("string", "io.debezium.time.ZonedTimestamp");
    case ValueKind::kInterval:
      return Named("int64", "io.debezium.time.MicroDuration");
    case ValueKind::kArray: {
      Json items = ConnectFieldSchema(types, t->element_oid, type_modifier);
      items["optional"] = true;
      Json j = Plain("array");
      j["items"] = std::move(items);
      return j;
    }
  }
  return Plain("string");
}

TableShape BuildShape(const TableSchema& table, const std::vector<std::string>& type_names,
                      const std::vector<ColumnFacts>& facts, const TypeRegistry& types,
                      const TableShape* previous) {
  TableShape shape;
  for (size_t i = 0; i < table.columns.size(); ++i) {
    const auto& c = table.columns[i];
    ColumnShape s;
    s.name = c.name;
    s.type_oid = c.type_oid;
    s.type_modifier = c.type_modifier;
    s.type = i < type_names.size() ? type_names[i] : std::to_string(c.type_oid);
    bool known = false;
    for (const auto& f : facts) {
      if (f.name != c.name) continue;
      known = true;
      s.attnum = f.attnum;
      s.optional = !f.not_null;
      s.has_default = f.has_default;
    }
    const ColumnShape* before = previous ? previous->Find(c.name) : nullptr;
    if (!known && before != nullptr && before->type_oid == c.type_oid &&
        before->type_modifier == c.type_modifier) {
      // Dropped or renamed since the message was written: as it was.
      s.attnum = before->attnum;
      s.optional = before->optional;
      s.has_default = before->has_default;
    }
    s.key =
        std::find(table.key_columns.begin(), table.key_columns.end(), i) != table.key_columns.end();
    s.connect = ConnectFieldSchema(types, c.type_oid, c.type_modifier);
    s.connect["optional"] = s.optional;
    shape.columns.push_back(std::move(s));
  }
  return shape;
}

SchemaGuard::SchemaGuard(SchemaGuardOptions options, SchemaHistory history, TypeRegistry& types,
                         ShapeCatalog& catalog, std::shared_ptr<SchemaStatus> status)
    : options_(options),
      types_(types),
      catalog_(catalog),
      evolution_(cdc::SchemaEvolutionOptions{.history = options.history,
                                             .connect_schemas = options.connect_schemas,
                                             .connector = "postgres",
                                             .position_name = "LSN",
                                             .source_schema = PostgresSourceSchema(),
                                             .type_change =
                                                 [](const ColumnShape& o, const ColumnShape& n) {
                                                   return ColumnTypeChangeProblem(o.type, n.type);
                                                 },
                                             .build_schemas = {}},
                 std::move(history), std::move(status)) {}

Result<std::vector<std::string>> SchemaGuard::TypeNames(const TableSchema& table) {
  std::vector<std::string> out;
  for (const auto& c : table.columns) {
    auto key = std::make_pair(c.type_oid, c.type_modifier);
    auto it = type_names_.find(key);
    if (it == type_names_.end()) {
      auto name = catalog_.TypeName(c.type_oid, c.type_modifier);
      if (!name.ok()) return name.error();
      it = type_names_.emplace(key, *name).first;
    }
    out.push_back(it->second);
  }
  return out;
}

Result<SchemaGuard::Decision> SchemaGuard::Observe(const TableSchema& table, Lsn position) {
  const std::string topic =
      options_.topic_prefix + "." + table.name.schema + "." + table.name.table;
  const std::string name = table.name.Qualified();
  if (auto stopped = evolution_.IfStopped(topic)) return *stopped;
  const SchemaHistory& history = evolution_.history();
  if (options_.history) {
    // Replay: a position the history already covers gets the version it had then.
    const SchemaVersion* latest = history.Latest(name);
    if (latest != nullptr && position.value() <= latest->position_value) {
      const SchemaVersion* at = history.At(name, position.value());
      if (at != nullptr && SameColumns(table, at->shape)) {
        evolution_.Use(topic, at->shape, at->version);
        return Decision{};
      }
    }
  }
  auto facts = catalog_.Columns(table.oid);
  if (!facts.ok()) return facts.error();
  auto type_names = TypeNames(table);
  if (!type_names.ok()) return type_names.error();
  const SchemaVersion* newest = options_.history ? history.Latest(name) : nullptr;
  TableShape shape =
      BuildShape(table, *type_names, *facts, types_, newest ? &newest->shape : nullptr);
  return evolution_.Observe(name, topic, shape, position.ToString(), position.value());
}

}  // namespace rm::cdc::postgres

#include "src-cdc/cassandra/schema_guard.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <limits>

#include "common/log.h"
#include "src-cdc/cassandra/change_events.h"
#include "src-cdc/cassandra/system_schema.h"
#include "src-cdc/connect_envelope.h"

namespace rm::cdc::cassandra {

namespace {

Json Plain(const std::string& type) {
  Json j = Json::object();
  j["type"] = type;
  j["optional"] = true;
  return j;
}

Json Named(const std::string& type, const std::string& name) {
  Json j = Plain(type);
  j["name"] = name;
  j["version"] = 1;
  return j;
}

Json Field(const std::string& name, Json schema) {
  schema["field"] = name;
  return schema;
}

// "int (partition key 1)" -> "int"; "int" -> "int".
std::string BaseType(const std::string& type) {
  const auto paren = type.find(" (");
  return paren == std::string::npos ? type : type.substr(0, paren);
}

std::string RoleOf(const std::string& type) {
  const auto paren = type.find(" (");
  return paren == std::string::npos ? "" : type.substr(paren);
}

// Each group lists types in widening order: a later one holds every value of an earlier one
// and writes it the same way in JSON.
constexpr std::array<std::array<const char*, 5>, 4> kWidenings = {{
    {"ascii", "text", nullptr, nullptr, nullptr},
    {"timeuuid", "uuid", nullptr, nullptr, nullptr},
    {"tinyint", "smallint", "int", "bigint", "varint"},
    {"float", "double", nullptr, nullptr, nullptr},
}};

int RankIn(const std::array<const char*, 5>& group, const std::string& type) {
  for (size_t i = 0; i < group.size(); ++i) {
    if (group[i] != nullptr && type == group[i]) return static_cast<int>(i);
  }
  return -1;
}

Json RangeBoundSchema(const std::string& name) {
  Json values = Plain("map");
  values["keys"] = Json{{"type", "string"}, {"optional", false}};
  values["values"] = Plain("string");
  Json s = Json::object();
  s["type"] = "struct";
  s["fields"] = Json::array({Field("method", Json{{"type", "string"}, {"optional", false}}),
                             Field("values", std::move(values))});
  s["optional"] = true;
  s["name"] = name;
  s["version"] = 1;
  return s;
}

}  // namespace

Json ConnectValueSchema(const CqlType& type) {
  switch (type.kind) {
    case CqlKind::kAscii:
    case CqlKind::kText:
    case CqlKind::kInet:
    case CqlKind::kDecimal:
      return Plain("string");
    case CqlKind::kBlob:
      return Plain("bytes");
    case CqlKind::kBoolean:
      return Plain("boolean");
    case CqlKind::kTinyint:
      return Plain("int8");
    case CqlKind::kSmallint:
      return Plain("int16");
    case CqlKind::kInt:
      return Plain("int32");
    case CqlKind::kBigint:
    case CqlKind::kCounter:
    case CqlKind::kVarint:
      return Plain("int64");
    case CqlKind::kFloat:
      return Plain("float");
    case CqlKind::kDouble:
      return Plain("double");
    case CqlKind::kUuid:
    case CqlKind::kTimeuuid:
      return Named("string", "io.debezium.data.Uuid");
    case CqlKind::kTimestamp:
      return Named("int64", "org.apache.kafka.connect.data.Timestamp");
    case CqlKind::kDate:
      return Named("int32", "io.debezium.time.Date");
    case CqlKind::kTime:
      return Named("int64", "io.debezium.time.NanoTime");
    case CqlKind::kDuration: {
      Json s = Named("struct", "io.debezium.data.CassandraDuration");
      s["fields"] = Json::array({Field("months", Json{{"type", "int32"}, {"optional", false}}),
                                 Field("days", Json{{"type", "int32"}, {"optional", false}}),
                                 Field("nanos", Json{{"type", "int64"}, {"optional", false}})});
      return s;
    }
    case CqlKind::kList:
    case CqlKind::kSet: {
      Json s = Plain("array");
      s["items"] = type.params.empty() ? Plain("string") : ConnectValueSchema(type.params[0]);
      return s;
    }
    case CqlKind::kMap: {
      Json s = Plain("map");
      s["keys"] = type.params.size() > 0 ? ConnectValueSchema(type.params[0]) : Plain("string");
      s["values"] = type.params.size() > 1 ? ConnectValueSchema(type.params[1]) : Plain("string");
      return s;
    }
    case CqlKind::kTuple: {
      Json s = Plain("array");
      s["items"] = Plain("string");
      return s;
    }
  }
  return Plain("string");
}

TableShape ShapeOf(const TableSchema& table) {
  TableShape shape;
  for (const ColumnSchema& c : table.columns) {
    ColumnShape s;
    s.name = c.name;
    s.type = c.type.ToString();
    switch (c.kind) {
      case ColumnKind::kPartitionKey:
        s.type += fmt::format(" (partition key {})", c.key_index + 1);
        s.key = true;
        break;
      case ColumnKind::kClustering:
        s.type += fmt::format(" (clustering {}{})", c.key_index + 1, c.descending ? ", desc" : "");
        s.key = true;
        break;
      case ColumnKind::kStatic:
        s.type += " (static)";
        break;
      case ColumnKind::kRegular:
        break;
    }
    s.optional = !s.key;
    // The field of `after`: Debezium's cell struct.
    Json cell = Json::object();
    cell["type"] = "struct";
    cell["fields"] = Json::array({Field("value", ConnectValueSchema(c.type)),
                                  Field("deletion_ts", Plain("int64")),
                                  Field("set", Json{{"type", "boolean"}, {"optional", false}})});
    cell["optional"] = true;
    cell["name"] = "cell_value_" + c.name;
    cell["version"] = 1;
    s.connect = std::move(cell);
    shape.columns.push_back(std::move(s));
  }
  return shape;
}

std::optional<std::string> CqlTypeChangeProblem(const std::string& before,
                                                const std::string& after) {
  if (RoleOf(before) != RoleOf(after)) {
    return fmt::format("changed from {} to {}: consumers read its cells differently", before,
                       after);
  }
  const std::string from = BaseType(before);
  const std::string to = BaseType(after);
  if (from == to) return std::nullopt;
  for (const auto& group : kWidenings) {
    const int a = RankIn(group, from);
    const int b = RankIn(group, to);
    if (a >= 0 && b >= 0) {
      if (b > a) return std::nullopt;
      return fmt::format("narrowed {} -> {}: values written before may not fit", from, to);
    }
  }
  return fmt::format("retyped {} -> {}: values are written differently in events", from, to);
}

Json CassandraSourceSchema() {
  const auto required = [](const std::string& name, const std::string& type) {
    return Field(name, Json{{"type", type}, {"optional", false}});
  };
  Json snapshot = Field("snapshot", Named("string", "io.debezium.data.Enum"));
  snapshot["parameters"] = Json{{"allowed", "true,first,last,false,incremental"}};
  snapshot["default"] = "false";
  Json s = Json::object();
  s["type"] = "struct";
  s["fields"] = Json::array(
      {required("version", "string"), required("connector", "string"), required("name", "string"),
       required("ts_ms", "int64"), std::move(snapshot), required("cluster", "string"),
       required("file", "string"), required("pos", "int64"), required("segment_id", "int64"),
       required("keyspace", "string"), required("table", "string")});
  s["optional"] = false;
  s["name"] = "io.debezium.connector.cassandra.Source";
  return s;
}

std::shared_ptr<const ConnectSchemas> BuildCassandraConnectSchemas(const std::string& topic,
                                                                   const TableShape& shape,
                                                                   int version) {
  // The key holds plain values; partition key columns are never null, clustering columns are
  // in partition and range deletions.
  TableShape key_shape;
  for (const ColumnShape& c : shape.columns) {
    if (!c.key) continue;
    ColumnShape k = c;
    Json plain = c.connect.contains("fields") ? c.connect["fields"][0] : Plain("string");
    plain.erase("field");
    plain["optional"] = RoleOf(c.type).rfind(" (clustering", 0) == 0;
    k.connect = std::move(plain);
    key_shape.columns.push_back(std::move(k));
  }
  TableShape value_shape = shape;
  for (const char* range : {"_range_start", "_range_end"}) {
    ColumnShape r;
    r.name = range;
    r.type = "range bound";
    r.connect = RangeBoundSchema(range);
    value_shape.columns.push_back(std::move(r));
  }
  const Json source = CassandraSourceSchema();
  auto keyed = BuildConnectSchemas(topic, key_shape, version, source);
  auto valued = BuildConnectSchemas(topic, value_shape, version, source);
  auto out = std::make_shared<ConnectSchemas>();
  out->key = keyed->key;
  out->value = valued->value;
  return out;
}

common::Result<TableSchema> TableFromShape(const TableSchema& base, const TableShape& shape) {
  // The shape as a CREATE's columns rows, applied to the table without columns: the columns
  // come out in the shape's order.
  TableChange change;
  for (const ColumnShape& c : shape.columns) {
    ColumnDefinition def;
    def.name = c.name;
    def.type = BaseType(c.type);
    def.kind = "regular";
    def.clustering_order = "none";
    const std::string role = RoleOf(c.type);
    int index = 0;
    char desc[8] = {0};
    if (role == " (static)") {
      def.kind = "static";
    } else if (std::sscanf(role.c_str(), " (partition key %d)", &index) == 1) {
      def.kind = "partition_key";
      def.position = index - 1;
    } else if (std::sscanf(role.c_str(), " (clustering %d, %4[a-z])", &index, desc) == 2 &&
               std::string(desc) == "desc") {
      def.kind = "clustering";
      def.position = index - 1;
      def.clustering_order = "desc";
    } else if (std::sscanf(role.c_str(), " (clustering %d)", &index) == 1) {
      def.kind = "clustering";
      def.position = index - 1;
      def.clustering_order = "asc";
    } else if (!role.empty()) {
      return common::Error{"cassandra.schema_change",
                           fmt::format("table {}: column {}: unknown role '{}' in the history",
                                       base.QualifiedName(), c.name, c.type)};
    }
    change.columns_written.push_back(std::move(def));
  }
  // The history keeps every column, so the shape is defined from nothing, as a CREATE is.
  return DefinedTable(base, change);
}

std::optional<CommitLogPosition> ParsePositionText(const std::string& text) {
  long long id = 0;
  unsigned long offset = 0;
  char tail = 0;
  if (std::sscanf(text.c_str(), "%lld:%lu%c", &id, &offset, &tail) != 2 ||
      offset > std::numeric_limits<uint32_t>::max()) {
    return std::nullopt;
  }
  return CommitLogPosition{static_cast<int64_t>(id), static_cast<uint32_t>(offset)};
}

std::string PositionText(const CommitLogPosition& position) {
  return fmt::format("{}:{}", position.segment_id, position.offset);
}

uint64_t PositionValue(const CommitLogPosition& position) {
  return (static_cast<uint64_t>(position.segment_id) << 22) + (position.offset >> 10);
}

SchemaGuard::SchemaGuard(SchemaGuardOptions options, SchemaHistory history,
                         std::shared_ptr<SchemaStatus> status)
    : options_(options),
      evolution_(SchemaEvolutionOptions{.history = options.history,
                                        .connect_schemas = options.connect_schemas,
                                        .connector = "cassandra",
                                        .position_name = "commit log position",
                                        .source_schema = CassandraSourceSchema(),
                                        .type_change =
                                            [](const ColumnShape& o, const ColumnShape& n) {
                                              return CqlTypeChangeProblem(o.type, n.type);
                                            },
                                        .build_schemas = BuildCassandraConnectSchemas},
                 std::move(history), std::move(status)) {}

SchemaGuard::Decision SchemaGuard::Observe(const TableSchema& table,
                                           const CommitLogPosition& position) {
  return evolution_.Observe(table.QualifiedName(), TopicFor(options_.topic_prefix, table),
                            ShapeOf(table), PositionText(position), PositionValue(position));
}

}  // namespace rm::cdc::cassandra

namespace rm::cdc::cassandra {

SchemaGuard::StartDecision SchemaGuard::Start(const TableSchema& configured,
                                              const CommitLogPosition& position) {
  StartDecision out;
  const std::string name = configured.QualifiedName();
  const std::string topic = TopicFor(options_.topic_prefix, configured);
  if (options_.history && !evolution_.IfStopped(topic)) {
    const TableShape shape = ShapeOf(configured);
    const auto& versions = evolution_.history().Versions(name);
    const SchemaVersion* at = nullptr;  // the version that applies at `position`
    for (const SchemaVersion& v : versions) {
      auto p = ParsePositionText(v.position);
      if (p && *p <= position) at = &v;
    }
    if (at != nullptr && at->dropped) at = nullptr;  // a new table of that name: observed anew
    if (at != nullptr && at->shape == shape) {
      evolution_.Use(topic, at->shape, at->version);
      return out;
    }
    const auto known = std::find_if(versions.begin(), versions.end(),
                                    [&](const SchemaVersion& v) { return v.shape == shape; });
    if (at != nullptr && known != versions.end()) {
      auto table = TableFromShape(configured, at->shape);
      if (table.ok()) {
        RM_LOG_WARN(
            "cassandra capture: table {}: its CQL is version {} of the schema history, but "
            "version {} (from {}) applies at {}: decoding with version {}'s columns{}",
            name, known->version, at->version, at->position, PositionText(position), at->version,
            known->version < at->version ? " (update the configured CQL)" : "");
        evolution_.Use(topic, at->shape, at->version);
        out.table = std::move(table).value();
        return out;
      }
      RM_LOG_WARN("cassandra capture: {}: using the configured CQL", table.error().message);
    }
  }
  out.decision = Observe(configured, position);
  return out;
}

SchemaGuard::Decision SchemaGuard::ObserveChange(const TableSchema& table,
                                                 const CommitLogPosition& position) {
  const std::string topic = TopicFor(options_.topic_prefix, table);
  if (auto d = evolution_.IfStopped(topic)) return *d;
  if (options_.history) {
    const TableShape shape = ShapeOf(table);
    const std::string at = PositionText(position);
    for (const SchemaVersion& v : evolution_.history().Versions(table.QualifiedName())) {
      if (v.position == at && v.shape == shape) {
        evolution_.Use(topic, v.shape, v.version);
        return Decision{};
      }
    }
  }
  return Observe(table, position);
}

SchemaGuard::Decision SchemaGuard::ObserveDrop(const TableSchema& table,
                                               const CommitLogPosition& position) {
  return evolution_.Drop(table.QualifiedName(), TopicFor(options_.topic_prefix, table),
                         PositionText(position), PositionValue(position));
}

}  // namespace rm::cdc::cassandra

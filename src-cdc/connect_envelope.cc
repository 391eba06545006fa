#include "src-cdc/connect_envelope.h"

namespace rm::cdc {

namespace {

std::string Dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

Json Field(const std::string& name, const std::string& type, bool optional) {
  Json f = Json::object();
  f["type"] = type;
  f["optional"] = optional;
  f["field"] = name;
  return f;
}

// The row struct (Key or Value) from the shape's column schemas.
Json RowStruct(const TableShape& shape, bool key_only, const std::string& name, bool optional,
               int version) {
  Json fields = Json::array();
  for (const auto& c : shape.columns) {
    if (key_only && !c.key) continue;
    Json f = c.connect.is_object() && !c.connect.empty() ? c.connect : Json{{"type", "string"}};
    if (!f.contains("optional")) f["optional"] = c.optional;
    f["field"] = c.name;
    fields.push_back(std::move(f));
  }
  Json s = Json::object();
  s["type"] = "struct";
  s["fields"] = std::move(fields);
  s["optional"] = optional;
  s["name"] = name;
  if (version > 0) s["version"] = version;
  return s;
}

}  // namespace

Json PostgresSourceSchema() {
  Json fields = Json::array();
  fields.push_back(Field("version", "string", false));
  fields.push_back(Field("connector", "string", false));
  fields.push_back(Field("name", "string", false));
  fields.push_back(Field("ts_ms", "int64", false));
  Json snapshot = Field("snapshot", "string", true);
  snapshot["name"] = "io.debezium.data.Enum";
  snapshot["version"] = 1;
  snapshot["parameters"] = Json{{"allowed", "true,first,last,false,incremental"}};
  snapshot["default"] = "false";
  fields.push_back(std::move(snapshot));
  fields.push_back(Field("db", "string", false));
  fields.push_back(Field("sequence", "string", true));
  fields.push_back(Field("schema", "string", false));
  fields.push_back(Field("table", "string", false));
  fields.push_back(Field("txId", "int64", true));
  fields.push_back(Field("lsn", "int64", true));
  fields.push_back(Field("xmin", "int64", true));
  Json s = Json::object();
  s["type"] = "struct";
  s["fields"] = std::move(fields);
  s["optional"] = false;
  s["name"] = "io.debezium.connector.postgresql.Source";
  return s;
}

std::shared_ptr<const ConnectSchemas> BuildConnectSchemas(const std::string& topic,
                                                          const TableShape& shape, int version,
                                                          const Json& source_schema) {
  auto out = std::make_shared<ConnectSchemas>();
  bool has_key = false;
  for (const auto& c : shape.columns) has_key = has_key || c.key;
  if (has_key) out->key = Dump(RowStruct(shape, true, topic + ".Key", false, 0));

  Json value_struct = RowStruct(shape, false, topic + ".Value", true, version);
  Json before = value_struct;
  before["field"] = "before";
  Json after = value_struct;
  after["field"] = "after";
  Json source = source_schema;
  source["field"] = "source";
  Json transaction = Json::object();
  transaction["type"] = "struct";
  transaction["fields"] =
      Json::array({Field("id", "string", false), Field("total_order", "int64", false),
                   Field("data_collection_order", "int64", false)});
  transaction["optional"] = true;
  transaction["name"] = "event.block";
  transaction["version"] = 1;
  transaction["field"] = "transaction";

  Json envelope = Json::object();
  envelope["type"] = "struct";
  envelope["fields"] = Json::array({std::move(before), std::move(after), std::move(source),
                                    Field("op", "string", false), Field("ts_ms", "int64", true),
                                    std::move(transaction)});
  envelope["optional"] = false;
  envelope["name"] = topic + ".Envelope";
  envelope["version"] = 1;
  out->value = Dump(envelope);
  return out;
}

}  // namespace rm::cdc

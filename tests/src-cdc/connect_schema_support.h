// Checks that a Kafka Connect JsonConverter record's payload fits its schema, for the tests of
// the envelope with schemas (json_with_schema) and of transformed schemas.
#pragma once

#include <string>

#include "src-cdc/change_event.h"

namespace rm::cdc::test {

// Why `payload` does not fit `schema` ("" when it does): structs name exactly the payload's
// fields in its order, primitives have the JSON type their Connect type is written as, and
// only optional fields are null.
inline std::string Misfit(const Json& schema, const Json& payload, const std::string& path = "$") {
  const bool optional = schema.value("optional", false);
  if (payload.is_null()) return optional ? "" : path + ": null in a required field";
  const std::string type = schema.value("type", "");
  if (type == "struct") {
    if (!payload.is_object()) return path + ": not an object";
    const Json& fields = schema["fields"];
    if (fields.size() != payload.size()) {
      return path + ": " + std::to_string(fields.size()) + " schema fields for " +
             std::to_string(payload.size()) + " payload fields: " + payload.dump();
    }
    size_t i = 0;
    for (auto it = payload.begin(); it != payload.end(); ++it, ++i) {
      const std::string name = fields[i]["field"];
      if (name != it.key())
        return path + ": field " + std::to_string(i) + " is " + name + " in the schema, " +
               it.key() + " in the payload";
      if (auto m = Misfit(fields[i], it.value(), path + "." + name); !m.empty()) return m;
    }
    return "";
  }
  bool fits = (type == "string" && payload.is_string()) ||
              (type == "boolean" && payload.is_boolean()) ||
              ((type == "int8" || type == "int16" || type == "int32" || type == "int64") &&
               payload.is_number_integer()) ||
              ((type == "float" || type == "double") && payload.is_number());
  return fits ? "" : path + ": " + payload.dump() + " is not a " + type;
}

}  // namespace rm::cdc::test

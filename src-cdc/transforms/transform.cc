#include "src-cdc/transforms/transform.h"

#include <fmt/format.h>

#include <algorithm>

namespace rm::cdc::transforms {

const Json* ReadRow(const ChangeEvent& event) {
  if (event.after && event.after->is_object()) return &*event.after;
  if (event.before && event.before->is_object()) return &*event.before;
  return nullptr;
}

std::vector<Json*> WritableRows(ChangeEvent& event) {
  std::vector<Json*> rows;
  if (event.after && event.after->is_object()) rows.push_back(&*event.after);
  if (!event.flattened && event.before && event.before->is_object()) {
    rows.push_back(&*event.before);
  }
  return rows;
}

Json* SchemaField(Json& struct_schema, const std::string& name) {
  auto it = struct_schema.find("fields");
  if (it == struct_schema.end() || !it->is_array()) return nullptr;
  for (Json& f : *it) {
    if (f.is_object() && f.value("field", "") == name) return &f;
  }
  return nullptr;
}

std::vector<Json*> SchemaRows(RecordSchema& schema) {
  if (schema.flattened) return {&schema.value};
  std::vector<Json*> rows;
  for (const char* image : {"after", "before"}) {
    if (Json* f = SchemaField(schema.value, image); f != nullptr && f->contains("fields")) {
      rows.push_back(f);
    }
  }
  return rows;
}

std::string ValueText(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string DescribePosition(const ChangeEvent& event) {
  const Json& f = event.source.fields;
  if (f.contains("lsn") && f["lsn"].is_number_unsigned()) {
    const uint64_t lsn = f["lsn"].get<uint64_t>();
    return fmt::format("lsn {:X}/{:X}", lsn >> 32, lsn & 0xffffffffu);
  }
  if (f.contains("file") && f.contains("pos")) {
    return fmt::format("file {} pos {}", ValueText(f["file"]), ValueText(f["pos"]));
  }
  return "unknown position";
}

std::string TableOf(const ChangeEvent& event) {
  const Json& f = event.source.fields;
  std::string ns;
  if (f.contains("schema") && f["schema"].is_string()) {
    ns = f["schema"].get<std::string>();
  } else if (f.contains("keyspace") && f["keyspace"].is_string()) {
    ns = f["keyspace"].get<std::string>();
  }
  std::string table =
      f.contains("table") && f["table"].is_string() ? f["table"].get<std::string>() : std::string();
  return ns.empty() ? table : ns + "." + table;
}

bool Predicate::Matches(const ChangeEvent& event) const {
  if (!ops.empty()) {
    const std::string_view code =
        event.op_code.empty() ? OperationCode(event.op) : std::string_view(event.op_code);
    if (std::find(ops.begin(), ops.end(), code) == ops.end()) return false;
  }
  if (topic && !std::regex_match(event.topic, *topic)) return false;
  if (test == FieldTest::kNone) return true;
  const Json* row = ReadRow(event);
  const Json* value = nullptr;
  if (row != nullptr) {
    auto it = row->find(field);
    if (it != row->end() && !it->is_null()) value = &*it;
  }
  switch (test) {
    case FieldTest::kIsNull:
      return (value == nullptr) == is_null;
    case FieldTest::kEquals:
    case FieldTest::kIn: {
      if (value == nullptr) return false;
      const std::string text = ValueText(*value);
      return std::find(values.begin(), values.end(), text) != values.end();
    }
    case FieldTest::kMatches:
      return value != nullptr && std::regex_match(ValueText(*value), *pattern);
    case FieldTest::kNone:
      break;
  }
  return true;
}

}  // namespace rm::cdc::transforms

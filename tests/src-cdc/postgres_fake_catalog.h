// For the Postgres decoder's unit tests: a Catalog answering from maps, and tuple values.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "src-cdc/postgres/decoder.h"

namespace rm::cdc::postgres::test {

class FakeCatalog : public Catalog {
 public:
  common::Result<std::vector<std::string>> PrimaryKeyColumns(uint32_t oid) override {
    return pks[oid];
  }
  common::Result<std::optional<TypeInfo>> LookupType(uint32_t oid) override {
    auto it = types.find(oid);
    if (it == types.end()) return std::optional<TypeInfo>();
    return std::optional<TypeInfo>(it->second);
  }
  std::map<uint32_t, std::vector<std::string>> pks;
  std::map<uint32_t, TypeInfo> types;
};

inline TupleValue T(const std::string& s) { return {TupleValueKind::kText, s}; }
inline TupleValue Null() { return {TupleValueKind::kNull, ""}; }
inline TupleValue Toast() { return {TupleValueKind::kUnchangedToast, ""}; }

}  // namespace rm::cdc::postgres::test

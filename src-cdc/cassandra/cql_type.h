// CQL column types as far as the commit log reader needs them: how a value is laid out on disk
// (fixed width or length-prefixed), whether a column is multi-cell (non-frozen collection), and
// how to turn its bytes into a typed value (cql_value.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rm::cdc::cassandra {

enum class CqlKind {
  kAscii,
  kText,  // also `varchar`
  kBlob,
  kBoolean,
  kTinyint,
  kSmallint,
  kInt,
  kBigint,
  kCounter,
  kVarint,
  kFloat,
  kDouble,
  kDecimal,
  kUuid,
  kTimeuuid,
  kTimestamp,
  kDate,
  kTime,
  kInet,
  kDuration,
  kList,
  kSet,
  kMap,
  kTuple,
};

// A parsed CQL type. Value type; immutable after parsing.
struct CqlType {
  CqlKind kind = CqlKind::kBlob;
  // Collections only: false for a multi-cell (non-frozen) collection, whose elements are stored
  // as separate cells with a cell path. Collections nested inside another type are always frozen.
  bool frozen = false;
  std::vector<CqlType> params;  // element types: list/set 1, map 2, tuple n

  bool IsCollection() const {
    return kind == CqlKind::kList || kind == CqlKind::kSet || kind == CqlKind::kMap;
  }
  // A multi-cell column is serialized as a "complex column": deletion, count, cells with paths.
  bool IsMultiCell() const { return IsCollection() && !frozen; }
  // Bytes of a value when the type has a fixed width on disk (AbstractType.valueLengthIfFixed),
  // else -1 for vint-length-prefixed values. smallint, tinyint, date and time are variable on
  // disk in Cassandra 3.x/4.x even though their values have a fixed size.
  int FixedLength() const;
  // CQL spelling, e.g. "frozen<map<text, int>>".
  std::string ToString() const;

  friend bool operator==(const CqlType&, const CqlType&) = default;
};

// Parses a CQL type such as "int", "frozen<list<text>>" or "map<text, frozen<set<int>>>".
// Errors (code "cql.type") name the offending text; user-defined and custom types are
// rejected because their layout cannot be known from the statement alone.
common::Result<CqlType> ParseCqlType(std::string_view text);

}  // namespace rm::cdc::cassandra

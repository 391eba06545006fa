// Typed CQL values decoded from the raw bytes of cells, keys and clustering values, and their
// JSON form for change events.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/result.h"
#include "src-cdc/cassandra/cql_type.h"
#include "src-cdc/cassandra/uuid.h"

namespace rm::cdc::cassandra {

// One CQL value. A value type (copyable, comparable); collections hold their elements.
class CqlValue {
 public:
  struct Null {
    friend bool operator==(const Null&, const Null&) = default;
  };
  struct Blob {
    std::string bytes;
    friend bool operator==(const Blob&, const Blob&) = default;
  };
  // timestamp: milliseconds since the Unix epoch (UTC).
  struct Timestamp {
    int64_t millis = 0;
    friend bool operator==(const Timestamp&, const Timestamp&) = default;
  };
  // date: days since 1970-01-01 (negative before); Cassandra stores it biased by 2^31.
  struct Date {
    int64_t days = 0;
    friend bool operator==(const Date&, const Date&) = default;
  };
  // time: nanoseconds since midnight.
  struct Time {
    int64_t nanos = 0;
    friend bool operator==(const Time&, const Time&) = default;
  };
  struct Inet {
    std::string address;  // 4 or 16 raw bytes
    std::string ToString() const;
    friend bool operator==(const Inet&, const Inet&) = default;
  };
  // varint: arbitrary precision integer, kept in decimal text.
  struct Varint {
    std::string digits;  // e.g. "-123456789012345678901234567890"
    friend bool operator==(const Varint&, const Varint&) = default;
  };
  // decimal: unscaled varint and a scale; value = unscaled * 10^-scale.
  struct Decimal {
    std::string unscaled;  // decimal text of the unscaled value
    int32_t scale = 0;
    std::string ToString() const;  // plain notation, e.g. "-12.50"
    friend bool operator==(const Decimal&, const Decimal&) = default;
  };
  struct Duration {
    int64_t months = 0;
    int64_t days = 0;
    int64_t nanos = 0;
    friend bool operator==(const Duration&, const Duration&) = default;
  };
  struct List {
    std::vector<CqlValue> items;
    friend bool operator==(const List& a, const List& b);
  };
  struct Set {
    std::vector<CqlValue> items;
    friend bool operator==(const Set& a, const Set& b);
  };
  struct MapEntry;  // {key, value}; defined after CqlValue, which it contains
  struct Map {
    std::vector<MapEntry> entries;
    friend bool operator==(const Map& a, const Map& b);
  };
  struct Tuple {
    std::vector<CqlValue> items;  // a missing or null field is Null
    friend bool operator==(const Tuple& a, const Tuple& b);
  };

  // text and ascii are std::string; every integer kind (tinyint ... bigint, counter) is int64_t;
  // float and double are double; uuid and timeuuid are Uuid.
  using Variant = std::variant<Null, bool, int64_t, double, std::string, Blob, Uuid, Timestamp,
                               Date, Time, Inet, Varint, Decimal, Duration, List, Set, Map, Tuple>;

  CqlValue() = default;
  template <typename T>
  CqlValue(T v) : v_(std::move(v)) {}  // NOLINT: implicit by design, like std::variant

  const Variant& variant() const { return v_; }
  bool is_null() const { return std::holds_alternative<Null>(v_); }
  template <typename T>
  bool is() const {
    return std::holds_alternative<T>(v_);
  }
  template <typename T>
  const T& as() const {
    return std::get<T>(v_);
  }

  // JSON for change events: integers as numbers (varint as a number when it fits in int64,
  // else a string), decimal as a string, blob as base64, uuid/inet as strings, timestamp as
  // epoch milliseconds, date as days since epoch, time as nanoseconds, list/set/tuple as arrays,
  // map as an object when its keys are text/ascii, else as an array of [key, value] pairs.
  // Text that is not valid UTF-8 has its invalid bytes replaced by U+FFFD, so the result can
  // always be dumped.
  nlohmann::json ToJson() const;

  friend bool operator==(const CqlValue&, const CqlValue&) = default;

 private:
  Variant v_;
};

struct CqlValue::MapEntry {
  CqlValue key;
  CqlValue value;
  friend bool operator==(const MapEntry&, const MapEntry&) = default;
};

// Comparisons of the recursive aggregates, defined once CqlValue is complete.
inline bool operator==(const CqlValue::List& a, const CqlValue::List& b) {
  return a.items == b.items;
}
inline bool operator==(const CqlValue::Set& a, const CqlValue::Set& b) {
  return a.items == b.items;
}
inline bool operator==(const CqlValue::Tuple& a, const CqlValue::Tuple& b) {
  return a.items == b.items;
}
inline bool operator==(const CqlValue::Map& a, const CqlValue::Map& b) {
  return a.entries == b.entries;
}

// Decodes a value in its storage form (what a simple cell, a key component or a frozen
// collection element holds). An empty byte string is Null for every type except text, ascii
// and blob (Cassandra allows "empty" values for most types; they read as null in CQL). Errors
// (code "cassandra.value") say which type and why (wrong size, bad UTF-8 is accepted as is).
common::Result<CqlValue> DecodeValue(const CqlType& type, std::string_view bytes);

// Decodes a partition key into one value per partition key column: a single column key is the
// value itself; a composite key is Cassandra's CompositeType layout (per component: unsigned
// short length, bytes, end-of-component byte).
common::Result<std::vector<CqlValue>> DecodePartitionKey(const std::vector<CqlType>& key_types,
                                                         std::string_view key);

// Sum of a counter cell's shards (CounterContext.total).
common::Result<int64_t> DecodeCounterContext(std::string_view context);

}  // namespace rm::cdc::cassandra

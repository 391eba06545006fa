// Conversion of column values from Postgres's text output format (what pgoutput sends, and
// what a snapshot SELECT returns) to JSON, following Debezium's Postgres connector defaults
// (decimal.handling.mode=string, time.precision.mode=adaptive, binary.handling.mode=bytes
// rendered as base64 by the JSON converter, interval.handling.mode=numeric):
//
//   int2/int4/int8/oid          JSON integer
//   float4/float8               JSON number; NaN, Infinity, -Infinity as strings
//   numeric, money              string, exactly as Postgres prints it ("12.50", "NaN")
//   bool                        true/false
//   text, varchar, bpchar, name, string (bpchar keeps its padding)
//   uuid, xml, inet, ...        string
//   json, jsonb                 string holding the JSON text (io.debezium.data.Json)
//   enum types                  string (io.debezium.data.Enum)
//   bytea                       base64 of the bytes
//   date                        integer days since 1970-01-01 (io.debezium.time.Date)
//   time(0..3)                  integer milliseconds since midnight (Time)
//   time, time(4..6)            integer microseconds since midnight (MicroTime)
//   timetz                      string in UTC, "HH:MM:SS[.fff]Z" (ZonedTime)
//   timestamp(0..3)             integer milliseconds since the epoch (Timestamp)
//   timestamp, timestamp(4..6)  integer microseconds since the epoch (MicroTimestamp)
//   timestamptz                 string in UTC, ISO 8601, "2024-03-01T12:30:00.25Z"
//                               (ZonedTimestamp; fraction digits as needed, none if zero)
//   interval                    integer microseconds, a month counted as 365.25/12 days
//                               (MicroDuration)
//   arrays                      JSON arrays of the element type's values (nested if
//                               multi-dimensional)
//   anything else               string, as Postgres prints it
// Infinite dates/timestamps: date +/-infinity -> INT32 max/min, timestamp -> INT64 max/min,
// timestamptz -> "infinity"/"-infinity".
//
// The input must come from a session with DateStyle=ISO, TimeZone=UTC, IntervalStyle=
// iso_8601, bytea_output=hex and extra_float_digits=3: SessionOptions() gives these as a
// libpq `options` value; every connection the capture opens uses it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "src-cdc/change_event.h"

namespace rm::cdc::postgres {

enum class ValueKind {
  kInteger,
  kFloat,
  kBool,
  kDecimalString,
  kString,
  kJsonText,
  kBytes,
  kDate,
  kTime,
  kTimeTz,
  kTimestamp,
  kTimestampTz,
  kInterval,
  kArray,
};

struct TypeInfo {
  uint32_t oid = 0;
  std::string name;  // e.g. "int4", "_text", "public.mood"
  ValueKind kind = ValueKind::kString;
  uint32_t element_oid = 0;  // for kArray
  bool is_enum = false;
};

// Known types: Postgres's built-in OIDs from the start; user-defined types (enums, domains,
// arrays of them) are added from pgoutput Type messages or pg_type look-ups. Unknown OIDs
// convert as strings. Not thread-safe; one per capture.
class TypeRegistry {
 public:
  TypeRegistry();

  // nullptr when unknown.
  const TypeInfo* Find(uint32_t oid) const;
  void Add(TypeInfo info);

 private:
  std::unordered_map<uint32_t, TypeInfo> types_;
};

// libpq `options` that make the server print values the way the converters expect.
std::string SessionOptions();

// Converts one non-null text value. `type_modifier` is atttypmod (-1 when none). Errors
// ("pg.bad_value") name the type and the value.
common::Result<Json> ConvertTextValue(const TypeRegistry& types, uint32_t type_oid,
                                      int32_t type_modifier, std::string_view text);

// The Debezium placeholder for a value the server did not send (unchanged TOAST), shaped for
// the column's type: base64 of the placeholder for bytea, a one-element array for arrays, the
// plain string otherwise.
Json UnavailableValue(const TypeRegistry& types, uint32_t type_oid);

// Pieces exposed for tests.
// Days since 1970-01-01 of a proleptic Gregorian date (year 0 = 1 BC).
int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day);

}  // namespace rm::cdc::postgres

#include "src-cdc/postgres/type_map.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <limits>
#include <optional>

#include "src-cdc/base64.h"

namespace rm::cdc::postgres {

namespace {

using common::Error;
using common::Result;

struct Builtin {
  uint32_t oid;
  const char* name;
  ValueKind kind;
  uint32_t element;
};

// Built-in type OIDs (pg_type.dat); stable across Postgres versions.
constexpr Builtin kBuiltins[] = {
    {16, "bool", ValueKind::kBool, 0},
    {17, "bytea", ValueKind::kBytes, 0},
    {18, "char", ValueKind::kString, 0},
    {19, "name", ValueKind::kString, 0},
    {20, "int8", ValueKind::kInteger, 0},
    {21, "int2", ValueKind::kInteger, 0},
    {23, "int4", ValueKind::kInteger, 0},
    {25, "text", ValueKind::kString, 0},
    {26, "oid", ValueKind::kInteger, 0},
    {114, "json", ValueKind::kJsonText, 0},
    {142, "xml", ValueKind::kString, 0},
    {700, "float4", ValueKind::kFloat, 0},
    {701, "float8", ValueKind::kFloat, 0},
    {790, "money", ValueKind::kDecimalString, 0},
    {1042, "bpchar", ValueKind::kString, 0},
    {1043, "varchar", ValueKind::kString, 0},
    {1082, "date", ValueKind::kDate, 0},
    {1083, "time", ValueKind::kTime, 0},
    {1114, "timestamp", ValueKind::kTimestamp, 0},
    {1184, "timestamptz", ValueKind::kTimestampTz, 0},
    {1186, "interval", ValueKind::kInterval, 0},
    {1266, "timetz", ValueKind::kTimeTz, 0},
    {1700, "numeric", ValueKind::kDecimalString, 0},
    {2950, "uuid", ValueKind::kString, 0},
    {3802, "jsonb", ValueKind::kJsonText, 0},
    {3220, "pg_lsn", ValueKind::kString, 0},
    {869, "inet", ValueKind::kString, 0},
    {650, "cidr", ValueKind::kString, 0},
    {829, "macaddr", ValueKind::kString, 0},
    // Arrays.
    {1000, "_bool", ValueKind::kArray, 16},
    {1001, "_bytea", ValueKind::kArray, 17},
    {1002, "_char", ValueKind::kArray, 18},
    {1003, "_name", ValueKind::kArray, 19},
    {1005, "_int2", ValueKind::kArray, 21},
    {1007, "_int4", ValueKind::kArray, 23},
    {1009, "_text", ValueKind::kArray, 25},
    {1014, "_bpchar", ValueKind::kArray, 1042},
    {1015, "_varchar", ValueKind::kArray, 1043},
    {1016, "_int8", ValueKind::kArray, 20},
    {1021, "_float4", ValueKind::kArray, 700},
    {1022, "_float8", ValueKind::kArray, 701},
    {1028, "_oid", ValueKind::kArray, 26},
    {1115, "_timestamp", ValueKind::kArray, 1114},
    {1182, "_date", ValueKind::kArray, 1082},
    {1183, "_time", ValueKind::kArray, 1083},
    {1185, "_timestamptz", ValueKind::kArray, 1184},
    {1187, "_interval", ValueKind::kArray, 1186},
    {1231, "_numeric", ValueKind::kArray, 1700},
    {1270, "_timetz", ValueKind::kArray, 1266},
    {2951, "_uuid", ValueKind::kArray, 2950},
    {199, "_json", ValueKind::kArray, 114},
    {3807, "_jsonb", ValueKind::kArray, 3802},
    {791, "_money", ValueKind::kArray, 790},
    {1041, "_inet", ValueKind::kArray, 869},
    {651, "_cidr", ValueKind::kArray, 650},
    {143, "_xml", ValueKind::kArray, 142},
};

Error BadValue(std::string_view type, std::string_view text, std::string_view why) {
  constexpr size_t kMaxShown = 64;
  std::string shown(text.substr(0, kMaxShown));
  if (text.size() > kMaxShown) shown += "...";
  return Error{"pg.bad_value", fmt::format("cannot convert {} value '{}': {}", type, shown, why)};
}

// Cursor over a date/time literal.
class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool done() const { return pos_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[pos_]; }
  bool Consume(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  bool ConsumeWord(std::string_view w) {
    if (s_.substr(pos_, w.size()) != w) return false;
    pos_ += w.size();
    return true;
  }
  // Unsigned decimal with between min and max digits.
  std::optional<int64_t> Digits(size_t min, size_t max) {
    size_t start = pos_;
    int64_t v = 0;
    while (!done() && pos_ - start < max && s_[pos_] >= '0' && s_[pos_] <= '9') {
      v = v * 10 + (s_[pos_] - '0');
      ++pos_;
    }
    if (pos_ - start < min) return std::nullopt;
    return v;
  }
  // ".ffffff" -> microseconds (digits past the sixth are ignored); 0 when absent.
  int64_t FractionMicros() {
    if (!Consume('.')) return 0;
    int64_t v = 0;
    int digits = 0;
    while (!done() && s_[pos_] >= '0' && s_[pos_] <= '9') {
      if (digits < 6) v = v * 10 + (s_[pos_] - '0');
      ++digits;
      ++pos_;
    }
    for (; digits < 6; ++digits) v *= 10;
    return v;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
};

struct Date {
  int64_t year;
  unsigned month;
  unsigned day;
};

std::optional<Date> ScanDate(Scanner& sc) {
  auto y = sc.Digits(4, 9);
  if (!y || !sc.Consume('-')) return std::nullopt;
  auto m = sc.Digits(2, 2);
  if (!m || !sc.Consume('-')) return std::nullopt;
  auto d = sc.Digits(2, 2);
  if (!d || *m < 1 || *m > 12 || *d < 1 || *d > 31) return std::nullopt;
  return Date{*y, static_cast<unsigned>(*m), static_cast<unsigned>(*d)};
}

// "HH:MM:SS[.ffffff]" -> microseconds since midnight (24:00:00 allowed, as in Postgres).
std::optional<int64_t> ScanTimeOfDay(Scanner& sc) {
  auto h = sc.Digits(2, 2);
  if (!h || !sc.Consume(':')) return std::nullopt;
  auto m = sc.Digits(2, 2);
  if (!m || !sc.Consume(':')) return std::nullopt;
  auto s = sc.Digits(2, 2);
  if (!s || *h > 24 || *m > 59 || *s > 60) return std::nullopt;
  int64_t frac = sc.FractionMicros();
  return ((*h * 60 + *m) * 60 + *s) * 1000000 + frac;
}

// "+HH[:MM[:SS]]" -> seconds east of UTC.
std::optional<int64_t> ScanOffset(Scanner& sc) {
  int sign = 0;
  if (sc.Consume('+')) {
    sign = 1;
  } else if (sc.Consume('-')) {
    sign = -1;
  } else {
    return std::nullopt;
  }
  auto h = sc.Digits(2, 2);
  if (!h) return std::nullopt;
  int64_t secs = *h * 3600;
  if (sc.Consume(':')) {
    auto m = sc.Digits(2, 2);
    if (!m) return std::nullopt;
    secs += *m * 60;
    if (sc.Consume(':')) {
      auto s = sc.Digits(2, 2);
      if (!s) return std::nullopt;
      secs += *s;
    }
  }
  return sign * secs;
}

// Applies a trailing " BC": year N BC is astronomical year 1 - N.
bool ScanEra(Scanner& sc, Date& d) {
  if (sc.ConsumeWord(" BC")) d.year = 1 - d.year;
  return sc.done();
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Inverse of DaysFromCivil.
Date CivilFromDays(int64_t days) {
  days += 719468;  // shift the epoch to 0000-03-01
  int64_t era = FloorDiv(days, 146097);
  int64_t doe = days - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  unsigned d = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  unsigned m = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return Date{y, m, d};
}

// "HH:MM:SS" plus the fraction with trailing zeros removed (none when zero).
// Appends HH:MM:SS[.ffffff], the fraction without trailing zeros (none when zero). One buffer
// and compiled formats: a timestamptz column is converted on every change of its table.
void AppendTimeOfDay(fmt::memory_buffer& out, int64_t micros) {
  int64_t secs = micros / 1000000;
  int64_t frac = micros % 1000000;
  fmt::format_to(std::back_inserter(out), FMT_COMPILE("{:02}:{:02}:{:02}"), secs / 3600,
                 secs / 60 % 60, secs % 60);
  if (frac != 0) {
    const size_t at = out.size();
    fmt::format_to(std::back_inserter(out), FMT_COMPILE(".{:06}"), frac);
    size_t end = out.size();
    while (end > at + 1 && out[end - 1] == '0') --end;
    out.resize(end);
  }
}

std::string FormatTimeOfDay(int64_t micros) {
  fmt::memory_buffer out;
  AppendTimeOfDay(out, micros);
  return fmt::to_string(out);
}

std::string FormatUtcTimestamp(int64_t unix_micros) {
  int64_t days = FloorDiv(unix_micros, 86400LL * 1000000);
  int64_t tod = unix_micros - days * 86400LL * 1000000;
  Date d = CivilFromDays(days);
  fmt::memory_buffer out;
  // ISO 8601 extended years: 4 digits, sign and more digits outside 0000..9999.
  if (d.year >= 0 && d.year <= 9999) {
    fmt::format_to(std::back_inserter(out), FMT_COMPILE("{:04}"), d.year);
  } else {
    fmt::format_to(std::back_inserter(out), FMT_COMPILE("{:+05}"), d.year);
  }
  fmt::format_to(std::back_inserter(out), FMT_COMPILE("-{:02}-{:02}T"), d.month, d.day);
  AppendTimeOfDay(out, tod);
  out.push_back('Z');
  return fmt::to_string(out);
}

Result<Json> ConvertTimestamp(std::string_view text, int32_t typmod, bool with_tz,
                              std::string_view type) {
  if (text == "infinity" || text == "-infinity") {
    bool neg = text[0] == '-';
    if (with_tz) return Json(std::string(text));
    return Json(neg ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max());
  }
  Scanner sc(text);
  auto date = ScanDate(sc);
  if (!date || !sc.Consume(' ')) return BadValue(type, text, "expected 'YYYY-MM-DD HH:MM:SS'");
  auto tod = ScanTimeOfDay(sc);
  if (!tod) return BadValue(type, text, "bad time of day");
  int64_t offset = 0;
  if (with_tz) {
    auto off = ScanOffset(sc);
    if (!off) return BadValue(type, text, "missing UTC offset");
    offset = *off;
  }
  if (!ScanEra(sc, *date)) return BadValue(type, text, "unexpected trailing text");
  // The scanner takes years of up to nine digits; Postgres ends at 294276 AD, whose last 30 years
  // already pass int64 microseconds since 1970. What does not fit is refused, never wrapped.
  int64_t micros = 0;
  if (__builtin_mul_overflow(DaysFromCivil(date->year, date->month, date->day), 86400LL * 1000000,
                             &micros) ||
      __builtin_add_overflow(micros, *tod - offset * 1000000, &micros)) {
    return BadValue(type, text, "beyond int64 microseconds since 1970");
  }
  if (with_tz) return Json(FormatUtcTimestamp(micros));
  if (typmod >= 0 && typmod <= 3) return Json(FloorDiv(micros, 1000));
  return Json(micros);
}

Result<Json> ConvertDate(std::string_view text) {
  if (text == "infinity") return Json(std::numeric_limits<int32_t>::max());
  if (text == "-infinity") return Json(std::numeric_limits<int32_t>::min());
  Scanner sc(text);
  auto date = ScanDate(sc);
  if (!date || !ScanEra(sc, *date)) return BadValue("date", text, "expected 'YYYY-MM-DD'");
  return Json(DaysFromCivil(date->year, date->month, date->day));
}

Result<Json> ConvertTime(std::string_view text, int32_t typmod, bool with_tz) {
  Scanner sc(text);
  auto tod = ScanTimeOfDay(sc);
  std::string_view type = with_tz ? "timetz" : "time";
  if (!tod) return BadValue(type, text, "expected 'HH:MM:SS'");
  if (with_tz) {
    auto off = ScanOffset(sc);
    if (!off || !sc.done()) return BadValue(type, text, "expected 'HH:MM:SS+HH'");
    int64_t day = 86400LL * 1000000;
    int64_t utc = ((*tod - *off * 1000000) % day + day) % day;
    return Json(FormatTimeOfDay(utc) + "Z");
  }
  if (!sc.done()) return BadValue(type, text, "unexpected trailing text");
  if (typmod >= 0 && typmod <= 3) return Json(*tod / 1000);
  return Json(*tod);
}

// ISO 8601 interval as printed with IntervalStyle=iso_8601: "P1Y2M3DT4H5M6.5S", "PT-1H",
// "PT0S". Converted like Debezium's MicroDuration (a month = 365.25 / 12 days).
Result<Json> ConvertInterval(std::string_view text) {
  if (text.empty() || text[0] != 'P') return BadValue("interval", text, "expected 'P...'");
  constexpr int64_t kSec = 1000000;
  constexpr int64_t kMonthSeconds = 2629800;  // 30.4375 days
  int64_t micros = 0;
  bool time_part = false;
  size_t i = 1;
  while (i < text.size()) {
    if (text[i] == 'T') {
      time_part = true;
      ++i;
      continue;
    }
    size_t start = i;
    if (text[i] == '-' || text[i] == '+') ++i;
    while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
    if (i == start || i >= text.size()) return BadValue("interval", text, "number without unit");
    std::string_view num = text.substr(start, i - start);
    char unit = text[i++];
    double value = 0;
    auto [p, ec] = std::from_chars(num.data() + (num[0] == '+'), num.data() + num.size(), value);
    if (ec != std::errc() || p != num.data() + num.size()) {
      return BadValue("interval", text, "bad number");
    }
    int64_t unit_seconds = 0;
    if (!time_part) {
      switch (unit) {
        case 'Y':
          unit_seconds = 12 * kMonthSeconds;
          break;
        case 'M':
          unit_seconds = kMonthSeconds;
          break;
        case 'W':
          unit_seconds = 7 * 86400;
          break;
        case 'D':
          unit_seconds = 86400;
          break;
      }
    } else {
      switch (unit) {
        case 'H':
          unit_seconds = 3600;
          break;
        case 'M':
          unit_seconds = 60;
          break;
        case 'S':
          unit_seconds = 1;
          break;
      }
    }
    if (unit_seconds == 0) return BadValue("interval", text, "unknown unit");
    // Postgres keeps months, days and microseconds apart (a month count alone reaches 178
    // million years), so the total can exceed int64 microseconds: it saturates at the int64
    // limits, as Debezium's MicroDuration does (a Java double-to-long cast).
    const double scaled = value * static_cast<double>(unit_seconds * kSec);
    constexpr double kTwo63 = 9223372036854775808.0;
    int64_t part = 0;
    if (scaled >= kTwo63) {
      part = std::numeric_limits<int64_t>::max();
    } else if (scaled <= -kTwo63) {
      part = std::numeric_limits<int64_t>::min();
    } else {
      part = std::llround(scaled);
    }
    if (__builtin_add_overflow(micros, part, &micros)) {
      micros = part > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
    }
  }
  return Json(micros);
}

Result<Json> ConvertBytes(std::string_view text) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0) {
    return BadValue("bytea", text, "expected hex format '\\x...' (bytea_output=hex)");
  }
  std::string bytes;
  bytes.reserve((text.size() - 2) / 2);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 2; i < text.size(); i += 2) {
    int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return BadValue("bytea", text, "bad hex digit");
    bytes.push_back(static_cast<char>(hi * 16 + lo));
  }
  return Json(Base64Encode(bytes));
}

Result<Json> ConvertFloat(std::string_view text, std::string_view type) {
  if (text == "NaN" || text == "Infinity" || text == "-Infinity") return Json(std::string(text));
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return BadValue(type, text, "not a number");
  }
  return Json(v);
}

Result<Json> ConvertInteger(std::string_view text, std::string_view type) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) {
    // oid is unsigned 32-bit and fits int64; anything else here is malformed.
    return BadValue(type, text, "not an integer");
  }
  return Json(v);
}

// Array literal parser: "{1,2,NULL}", "{{1,2},{3,4}}", "[0:1]={a,b}", quoted elements with
// backslash escapes.
class ArrayParser {
 public:
  ArrayParser(const TypeRegistry& types, const TypeInfo& array_type, int32_t typmod,
              std::string_view text)
      : types_(types), type_(array_type), typmod_(typmod), text_(text) {}

  Result<Json> Parse() {
    if (!text_.empty() && text_[0] == '[') {
      auto eq = text_.find('=');
      if (eq == std::string_view::npos) return Fail("dimension decoration without '='");
      pos_ = eq + 1;
    }
    auto result = ParseLevel(0);
    if (!result.ok()) return result;
    if (pos_ != text_.size()) return Fail("trailing text after '}'");
    return result;
  }

 private:
  Result<Json> Fail(std::string_view why) { return BadValue(type_.name, text_, why); }

  Result<Json> ParseLevel(int depth) {
    if (depth > 6) return Fail("nested too deep");
    if (pos_ >= text_.size() || text_[pos_] != '{') return Fail("expected '{'");
    ++pos_;
    Json out = Json::array();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return out;
    }
    while (true) {
      if (pos_ >= text_.size()) return Fail("unterminated array");
      if (text_[pos_] == '{') {
        auto sub = ParseLevel(depth + 1);
        if (!sub.ok()) return sub;
        out.push_back(std::move(*sub));
      } else {
        auto elem = ParseElement();
        if (!elem.ok()) return elem;
        out.push_back(std::move(*elem));
      }
      if (pos_ >= text_.size()) return Fail("unterminated array");
      if (text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (text_[pos_] == '}') {
        ++pos_;
        return out;
      }
      return Fail("expected ',' or '}'");
    }
  }

  Result<Json> ParseElement() {
    std::string value;
    if (text_[pos_] == '"') {
      ++pos_;
      while (true) {
        if (pos_ >= text_.size()) return Fail("unterminated quoted element");
        char c = text_[pos_++];
        if (c == '"') break;
        if (c == '\\') {
          if (pos_ >= text_.size()) return Fail("dangling backslash");
          c = text_[pos_++];
        }
        value.push_back(c);
      }
    } else {
      while (pos_ < text_.size() && text_[pos_] != ',' && text_[pos_] != '}') {
        char c = text_[pos_++];
        if (c == '\\' && pos_ < text_.size()) c = text_[pos_++];
        value.push_back(c);
      }
      if (value.empty()) return Fail("empty element");
      if (value.size() == 4 && (value[0] | 0x20) == 'n' && (value[1] | 0x20) == 'u' &&
          (value[2] | 0x20) == 'l' && (value[3] | 0x20) == 'l') {
        return Json(nullptr);
      }
    }
    return ConvertTextValue(types_, type_.element_oid, typmod_, value);
  }

  const TypeRegistry& types_;
  const TypeInfo& type_;
  int32_t typmod_;
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

TypeRegistry::TypeRegistry() {
  for (const auto& b : kBuiltins) {
    types_[b.oid] = TypeInfo{b.oid, b.name, b.kind, b.element, false};
  }
}

const TypeInfo* TypeRegistry::Find(uint32_t oid) const {
  auto it = types_.find(oid);
  return it == types_.end() ? nullptr : &it->second;
}

void TypeRegistry::Add(TypeInfo info) { types_[info.oid] = std::move(info); }

std::string SessionOptions() {
  return "-c DateStyle=ISO -c TimeZone=UTC -c IntervalStyle=iso_8601 -c bytea_output=hex "
         "-c extra_float_digits=3";
}

Result<Json> ConvertTextValue(const TypeRegistry& types, uint32_t type_oid, int32_t typmod,
                              std::string_view text) {
  const TypeInfo* t = types.Find(type_oid);
  if (t == nullptr) return Json(std::string(text));
  switch (t->kind) {
    case ValueKind::kInteger:
      return ConvertInteger(text, t->name);
    case ValueKind::kFloat:
      return ConvertFloat(text, t->name);
    case ValueKind::kBool:
      if (text == "t") return Json(true);
      if (text == "f") return Json(false);
      return BadValue(t->name, text, "expected 't' or 'f'");
    case ValueKind::kDecimalString:
    case ValueKind::kString:
    case ValueKind::kJsonText:
      return Json(std::string(text));
    case ValueKind::kBytes:
      return ConvertBytes(text);
    case ValueKind::kDate:
      return ConvertDate(text);
    case ValueKind::kTime:
      return ConvertTime(text, typmod, false);
    case ValueKind::kTimeTz:
      return ConvertTime(text, typmod, true);
    case ValueKind::kTimestamp:
      return ConvertTimestamp(text, typmod, false, t->name);
    case ValueKind::kTimestampTz:
      return ConvertTimestamp(text, typmod, true, t->name);
    case ValueKind::kInterval:
      return ConvertInterval(text);
    case ValueKind::kArray:
      return ArrayParser(types, *t, typmod, text).Parse();
  }
  return Json(std::string(text));
}

Json UnavailableValue(const TypeRegistry& types, uint32_t type_oid) {
  const TypeInfo* t = types.Find(type_oid);
  std::string placeholder(kUnavailableValuePlaceholder);
  if (t != nullptr && t->kind == ValueKind::kBytes) return Json(Base64Encode(placeholder));
  if (t != nullptr && t->kind == ValueKind::kArray) {
    Json a = Json::array();
    a.push_back(placeholder);
    return a;
  }
  return Json(placeholder);
}

int64_t DaysFromCivil(int64_t year, unsigned month, unsigned day) {
  // Count from 0000-03-01 so that the leap day is the last day of the counting year.
  int64_t y = month <= 2 ? year - 1 : year;
  int64_t era = FloorDiv(y, 400);
  int64_t yoe = y - era * 400;                          // [0, 399]
  int64_t mp = month > 2 ? month - 3 : month + 9;       // March = 0
  int64_t doy = (153 * mp + 2) / 5 + day - 1;           // [0, 365]
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  // [0, 146096]
  return era * 146097 + doe - 719468;
}

}  // namespace rm::cdc::postgres

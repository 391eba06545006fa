#include "src-cdc/cassandra/cql_value.h"

#include <arpa/inet.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <nlohmann/json.hpp>

#include "src-cdc/base64.h"
#include "src-cdc/cassandra/detail/byte_reader.h"

namespace rm::cdc::cassandra {
namespace {

using detail::ByteReader;

// Longer varints are refused: the decimal conversion below is quadratic in the length, and
// real values this large do not occur in change data (1 KiB is about 2,500 digits).
constexpr size_t kMaxVarintBytes = 1024;

common::Error ValueError(const CqlType& type, const std::string& what) {
  return {"cassandra.value", type.ToString() + " value: " + what};
}

common::Error SizeError(const CqlType& type, size_t expected, size_t got) {
  return ValueError(type,
                    "expected " + std::to_string(expected) + " bytes, got " + std::to_string(got));
}

int64_t SignExtend(std::string_view b) {
  uint64_t v = (!b.empty() && (static_cast<uint8_t>(b[0]) & 0x80)) ? ~uint64_t{0} : 0;
  for (char c : b) v = (v << 8) | static_cast<uint8_t>(c);
  return static_cast<int64_t>(v);
}

// Two's complement big-endian integer of any length to decimal text.
std::string VarintToDecimal(std::string_view bytes) {
  if (bytes.empty()) return "0";
  const bool negative = (static_cast<uint8_t>(bytes[0]) & 0x80) != 0;
  std::vector<uint8_t> mag(bytes.begin(), bytes.end());
  if (negative) {  // magnitude = two's complement negation
    for (auto& b : mag) b = static_cast<uint8_t>(~b);
    for (size_t i = mag.size(); i-- > 0;) {
      if (++mag[i] != 0) break;
    }
  }
  std::string digits;
  size_t start = 0;
  while (start < mag.size() && mag[start] == 0) ++start;
  while (start < mag.size()) {
    // Divide the base-256 number by 10^9, collecting the remainder as 9 decimal digits.
    uint64_t rem = 0;
    for (size_t i = start; i < mag.size(); ++i) {
      const uint64_t cur = (rem << 8) | mag[i];
      mag[i] = static_cast<uint8_t>(cur / 1000000000u);
      rem = cur % 1000000000u;
    }
    while (start < mag.size() && mag[start] == 0) ++start;
    for (int k = 0; k < 9; ++k) {
      digits.push_back(static_cast<char>('0' + rem % 10));
      rem /= 10;
      if (start == mag.size() && rem == 0) break;
    }
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  if (digits.empty()) digits = "0";
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

common::Result<std::vector<std::string_view>> SplitCollection(const CqlType& type,
                                                              std::string_view bytes,
                                                              size_t values_per_element,
                                                              bool allow_nulls) {
  ByteReader r(bytes);
  int32_t count;
  if (!r.ReadI32(&count) || count < 0) return ValueError(type, "bad element count");
  // Every element needs at least a 4-byte length: refuse counts the bytes cannot hold before
  // allocating for them.
  if (static_cast<uint64_t>(count) * values_per_element * 4 > r.remaining()) {
    return ValueError(type, "element count " + std::to_string(count) + " exceeds the value size");
  }
  std::vector<std::string_view> out;
  out.reserve(static_cast<size_t>(count) * values_per_element);
  for (uint64_t i = 0; i < static_cast<uint64_t>(count) * values_per_element; ++i) {
    int32_t len;
    if (!r.ReadI32(&len)) return ValueError(type, "truncated element length");
    if (len < 0) {
      if (!allow_nulls) return ValueError(type, "null element");
      out.emplace_back();
      continue;
    }
    std::string_view elem;
    if (!r.ReadBytes(static_cast<size_t>(len), &elem)) {
      return ValueError(type, "element of " + std::to_string(len) + " bytes exceeds the value");
    }
    out.push_back(elem);
  }
  if (!r.empty()) return ValueError(type, std::to_string(r.remaining()) + " trailing bytes");
  return out;
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is invalid (overlong
// forms, surrogates and code points above U+10FFFF are invalid, as in RFC 3629).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b0 = static_cast<uint8_t>(s[i]);
  if (b0 < 0x80) return 1;
  size_t len;
  uint32_t cp;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2;
    cp = b0 & 0x1Fu;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3;
    cp = b0 & 0x0Fu;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4;
    cp = b0 & 0x07u;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    const auto b = static_cast<uint8_t>(s[i + k]);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

// Text columns should hold UTF-8, but the commit log does not guarantee it (and JSON writers
// refuse invalid UTF-8): invalid bytes become U+FFFD.
std::string ValidUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) break;
    i += n;
  }
  if (i == s.size()) return s;
  std::string out = s.substr(0, i);
  while (i < s.size()) {
    const size_t n = Utf8SequenceLength(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s, i, n);
      i += n;
    }
  }
  return out;
}

}  // namespace

std::string CqlValue::Inet::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (address.size() == 4) {
    inet_ntop(AF_INET, address.data(), buf, sizeof(buf));
  } else if (address.size() == 16) {
    inet_ntop(AF_INET6, address.data(), buf, sizeof(buf));
  }
  return buf;
}

std::string CqlValue::Decimal::ToString() const {
  const bool negative = !unscaled.empty() && unscaled[0] == '-';
  std::string digits = negative ? unscaled.substr(1) : unscaled;
  std::string out;
  // Extreme scales would expand to millions of zeros: use scientific notation instead.
  if (scale > 64 + static_cast<int64_t>(digits.size()) || scale < -64) {
    return unscaled + "E" + std::to_string(-int64_t{scale});
  }
  if (scale <= 0) {
    out = digits == "0" ? digits : digits + std::string(static_cast<size_t>(-int64_t{scale}), '0');
  } else {
    const auto s = static_cast<size_t>(scale);
    if (digits.size() <= s) digits = std::string(s - digits.size() + 1, '0') + digits;
    out = digits.substr(0, digits.size() - s) + "." + digits.substr(digits.size() - s);
  }
  return negative ? "-" + out : out;
}

common::Result<int64_t> DecodeCounterContext(std::string_view context) {
  // Header: signed short element count (negative marks legacy "global" shards), then one short
  // per element; the rest is shards of (16-byte counter id, 8-byte clock, 8-byte count).
  ByteReader r(context);
  uint16_t raw_count;
  if (!r.ReadU16(&raw_count)) return common::Error{"cassandra.value", "counter: empty context"};
  const int header_elems = std::abs(static_cast<int16_t>(raw_count));
  if (!r.Skip(static_cast<size_t>(header_elems) * 2)) {
    return common::Error{"cassandra.value", "counter: truncated context header"};
  }
  if (r.remaining() % 32 != 0) {
    return common::Error{"cassandra.value", "counter: context body of " +
                                                std::to_string(r.remaining()) +
                                                " bytes is not a whole number of shards"};
  }
  uint64_t total = 0;
  while (!r.empty()) {
    int64_t count;
    if (!r.Skip(24) || !r.ReadI64(&count)) break;
    total += static_cast<uint64_t>(count);
  }
  return static_cast<int64_t>(total);
}

common::Result<CqlValue> DecodeValue(const CqlType& type, std::string_view b) {
  const bool empty_is_value =
      type.kind == CqlKind::kAscii || type.kind == CqlKind::kText || type.kind == CqlKind::kBlob;
  if (b.empty() && !empty_is_value) return CqlValue(CqlValue::Null{});

  auto fixed = [&](size_t n) -> common::Status {
    if (b.size() != n) return SizeError(type, n, b.size());
    return common::Status::Ok();
  };

  switch (type.kind) {
    case CqlKind::kAscii:
    case CqlKind::kText:
      return CqlValue(std::string(b));
    case CqlKind::kBlob:
      return CqlValue(CqlValue::Blob{std::string(b)});
    case CqlKind::kBoolean:
      if (auto s = fixed(1); !s.ok()) return s.error();
      return CqlValue(b[0] != 0);
    case CqlKind::kTinyint:
      if (auto s = fixed(1); !s.ok()) return s.error();
      return CqlValue(SignExtend(b));
    case CqlKind::kSmallint:
      if (auto s = fixed(2); !s.ok()) return s.error();
      return CqlValue(SignExtend(b));
    case CqlKind::kInt:
      if (auto s = fixed(4); !s.ok()) return s.error();
      return CqlValue(SignExtend(b));
    case CqlKind::kBigint:
      if (auto s = fixed(8); !s.ok()) return s.error();
      return CqlValue(SignExtend(b));
    case CqlKind::kCounter: {
      auto total = DecodeCounterContext(b);
      if (total.ok()) return CqlValue(total.value());
      // A plain 8-byte long is how counter values travel outside the storage engine.
      if (b.size() == 8) return CqlValue(SignExtend(b));
      return ValueError(type, total.error().message);
    }
    case CqlKind::kVarint:
      if (b.size() > kMaxVarintBytes) {
        return ValueError(type, std::to_string(b.size()) + " bytes is too large to decode");
      }
      return CqlValue(CqlValue::Varint{VarintToDecimal(b)});
    case CqlKind::kFloat: {
      if (auto s = fixed(4); !s.ok()) return s.error();
      const auto bits = static_cast<uint32_t>(SignExtend(b));
      return CqlValue(static_cast<double>(std::bit_cast<float>(bits)));
    }
    case CqlKind::kDouble: {
      if (auto s = fixed(8); !s.ok()) return s.error();
      return CqlValue(std::bit_cast<double>(static_cast<uint64_t>(SignExtend(b))));
    }
    case CqlKind::kDecimal: {
      if (b.size() < 4) return ValueError(type, "shorter than its 4-byte scale");
      if (b.size() - 4 > kMaxVarintBytes) {
        return ValueError(type, std::to_string(b.size()) + " bytes is too large to decode");
      }
      const auto scale = static_cast<int32_t>(SignExtend(b.substr(0, 4)));
      return CqlValue(CqlValue::Decimal{VarintToDecimal(b.substr(4)), scale});
    }
    case CqlKind::kUuid:
    case CqlKind::kTimeuuid: {
      if (auto s = fixed(16); !s.ok()) return s.error();
      return CqlValue(*Uuid::FromBytes(b));
    }
    case CqlKind::kTimestamp:
      if (auto s = fixed(8); !s.ok()) return s.error();
      return CqlValue(CqlValue::Timestamp{SignExtend(b)});
    case CqlKind::kDate: {
      if (auto s = fixed(4); !s.ok()) return s.error();
      const auto unsigned_days = static_cast<uint32_t>(SignExtend(b));
      return CqlValue(CqlValue::Date{int64_t{unsigned_days} - (int64_t{1} << 31)});
    }
    case CqlKind::kTime: {
      if (auto s = fixed(8); !s.ok()) return s.error();
      const int64_t nanos = SignExtend(b);
      if (nanos < 0 || nanos >= int64_t{86400} * 1000000000) {
        return ValueError(type, "nanoseconds " + std::to_string(nanos) + " outside a day");
      }
      return CqlValue(CqlValue::Time{nanos});
    }
    case CqlKind::kInet:
      if (b.size() != 4 && b.size() != 16) {
        return ValueError(type, "expected 4 or 16 bytes, got " + std::to_string(b.size()));
      }
      return CqlValue(CqlValue::Inet{std::string(b)});
    case CqlKind::kDuration: {
      ByteReader r(b);
      CqlValue::Duration d;
      if (!r.ReadVInt(&d.months) || !r.ReadVInt(&d.days) || !r.ReadVInt(&d.nanos) || !r.empty()) {
        return ValueError(type, "malformed duration");
      }
      return CqlValue(d);
    }
    case CqlKind::kList:
    case CqlKind::kSet: {
      auto parts = SplitCollection(type, b, 1, false);
      if (!parts.ok()) return parts.error();
      std::vector<CqlValue> items;
      items.reserve(parts.value().size());
      for (auto part : parts.value()) {
        auto v = DecodeValue(type.params[0], part);
        if (!v.ok()) return v.error();
        items.push_back(std::move(v).value());
      }
      if (type.kind == CqlKind::kList) return CqlValue(CqlValue::List{std::move(items)});
      return CqlValue(CqlValue::Set{std::move(items)});
    }
    case CqlKind::kMap: {
      auto parts = SplitCollection(type, b, 2, false);
      if (!parts.ok()) return parts.error();
      CqlValue::Map m;
      m.entries.reserve(parts.value().size() / 2);
      for (size_t i = 0; i + 1 < parts.value().size(); i += 2) {
        auto k = DecodeValue(type.params[0], parts.value()[i]);
        if (!k.ok()) return k.error();
        auto v = DecodeValue(type.params[1], parts.value()[i + 1]);
        if (!v.ok()) return v.error();
        m.entries.push_back({std::move(k).value(), std::move(v).value()});
      }
      return CqlValue(std::move(m));
    }
    case CqlKind::kTuple: {
      // Each field: int length (negative = null) and bytes; trailing fields may be missing.
      ByteReader r(b);
      CqlValue::Tuple t;
      for (const auto& field_type : type.params) {
        if (r.empty()) {
          t.items.emplace_back(CqlValue::Null{});
          continue;
        }
        int32_t len;
        if (!r.ReadI32(&len)) return ValueError(type, "truncated field length");
        if (len < 0) {
          t.items.emplace_back(CqlValue::Null{});
          continue;
        }
        std::string_view field;
        if (!r.ReadBytes(static_cast<size_t>(len), &field)) {
          return ValueError(type, "field exceeds the value");
        }
        auto v = DecodeValue(field_type, field);
        if (!v.ok()) return v.error();
        t.items.push_back(std::move(v).value());
      }
      if (!r.empty()) return ValueError(type, "more fields than the tuple type has");
      return CqlValue(std::move(t));
    }
  }
  return ValueError(type, "unsupported type");
}

common::Result<std::vector<CqlValue>> DecodePartitionKey(const std::vector<CqlType>& key_types,
                                                         std::string_view key) {
  std::vector<CqlValue> out;
  if (key_types.size() == 1) {
    auto v = DecodeValue(key_types[0], key);
    if (!v.ok()) return v.error();
    out.push_back(std::move(v).value());
    return out;
  }
  ByteReader r(key);
  for (size_t i = 0; i < key_types.size(); ++i) {
    std::string_view component;
    uint8_t end_of_component;
    if (!r.ReadShortLengthBytes(&component) || !r.ReadU8(&end_of_component)) {
      return common::Error{"cassandra.value", "composite partition key: component " +
                                                  std::to_string(i) + " truncated"};
    }
    auto v = DecodeValue(key_types[i], component);
    if (!v.ok()) return v.error();
    out.push_back(std::move(v).value());
  }
  if (!r.empty()) {
    return common::Error{"cassandra.value",
                         "composite partition key: " + std::to_string(r.remaining()) +
                             " bytes after the last component"};
  }
  return out;
}

nlohmann::json CqlValue::ToJson() const {
  using nlohmann::json;
  struct Visitor {
    json operator()(const Null&) const { return nullptr; }
    json operator()(bool v) const { return v; }
    json operator()(int64_t v) const { return v; }
    json operator()(double v) const { return v; }
    json operator()(const std::string& v) const { return ValidUtf8(v); }
    json operator()(const Blob& v) const { return Base64Encode(v.bytes); }
    json operator()(const Uuid& v) const { return v.ToString(); }
    json operator()(const Timestamp& v) const { return v.millis; }
    json operator()(const Date& v) const { return v.days; }
    json operator()(const Time& v) const { return v.nanos; }
    json operator()(const Inet& v) const { return v.ToString(); }
    json operator()(const Varint& v) const {
      // Exact in JSON only when it fits a 64-bit integer; otherwise keep the digits.
      errno = 0;
      char* end = nullptr;
      const long long n = std::strtoll(v.digits.c_str(), &end, 10);
      if (errno == 0 && end != nullptr && *end == '\0') return static_cast<int64_t>(n);
      return v.digits;
    }
    json operator()(const Decimal& v) const { return v.ToString(); }
    json operator()(const Duration& v) const {
      return json{{"months", v.months}, {"days", v.days}, {"nanos", v.nanos}};
    }
    json operator()(const List& v) const { return Array(v.items); }
    json operator()(const Set& v) const { return Array(v.items); }
    json operator()(const Tuple& v) const { return Array(v.items); }
    json operator()(const Map& v) const {
      const bool string_keys = std::all_of(v.entries.begin(), v.entries.end(), [](const auto& e) {
        return e.key.template is<std::string>();
      });
      if (string_keys) {
        json obj = json::object();
        for (const auto& e : v.entries) obj[ValidUtf8(e.key.as<std::string>())] = e.value.ToJson();
        return obj;
      }
      json arr = json::array();
      for (const auto& e : v.entries)
        arr.push_back(json::array({e.key.ToJson(), e.value.ToJson()}));
      return arr;
    }
    static json Array(const std::vector<CqlValue>& items) {
      json arr = json::array();
      for (const auto& i : items) arr.push_back(i.ToJson());
      return arr;
    }
  };
  return std::visit(Visitor{}, v_);
}

}  // namespace rm::cdc::cassandra

// Hand-built streaming replication and pgoutput messages (big-endian protocol bytes), for the
// pgoutput parser's tests and bench/postgres_encode_bench.
#pragma once

#include <cstdint>
#include <string>

namespace rm::testing {

class PgOutputBytes {
 public:
  PgOutputBytes& U8(uint8_t v) {
    s_.push_back(static_cast<char>(v));
    return *this;
  }
  PgOutputBytes& U16(uint16_t v) { return U8(v >> 8).U8(v & 0xff); }
  PgOutputBytes& U32(uint32_t v) { return U16(v >> 16).U16(v & 0xffff); }
  PgOutputBytes& U64(uint64_t v) { return U32(v >> 32).U32(v & 0xffffffffu); }
  // A NUL-terminated string (relation, namespace and column names).
  PgOutputBytes& Str(const std::string& v) {
    s_ += v;
    s_.push_back('\0');
    return *this;
  }
  PgOutputBytes& Raw(const std::string& v) {
    s_ += v;
    return *this;
  }
  // A tuple column in text format.
  PgOutputBytes& Text(const std::string& v) { return U8('t').U32(v.size()).Raw(v); }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

}  // namespace rm::testing

// Lsn: a position in Postgres's write-ahead log (pg_lsn), printed as "16/B374D848".
// A distinct type so that an LSN is never mixed up with a Kafka offset or a row count.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rm::cdc::postgres {

class Lsn {
 public:
  constexpr Lsn() = default;
  constexpr explicit Lsn(uint64_t value) : value_(value) {}

  constexpr uint64_t value() const { return value_; }
  constexpr bool valid() const { return value_ != 0; }  // 0/0 is InvalidXLogRecPtr
  constexpr auto operator<=>(const Lsn&) const = default;

  // "X/Y" with upper-case hex, as Postgres prints it.
  std::string ToString() const;
  // Parses "X/Y"; nothing on malformed input.
  static std::optional<Lsn> Parse(std::string_view text);

 private:
  uint64_t value_ = 0;
};

}  // namespace rm::cdc::postgres

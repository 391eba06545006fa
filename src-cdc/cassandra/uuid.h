// A 128-bit UUID as Cassandra stores it (16 bytes, most significant first). Used for table ids
// (the commit log names tables only by id) and for uuid/timeuuid values.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace rm::cdc::cassandra {

struct Uuid {
  std::array<uint8_t, 16> bytes{};

  // Parses the canonical 8-4-4-4-12 hex form; nullopt for anything else.
  static std::optional<Uuid> Parse(std::string_view text);
  // Takes exactly 16 raw bytes; nullopt otherwise.
  static std::optional<Uuid> FromBytes(std::string_view raw);

  std::string ToString() const;  // lower-case canonical form
  int version() const { return bytes[6] >> 4; }

  friend bool operator==(const Uuid&, const Uuid&) = default;
};

// A table is identified in the commit log by its id (cfid / TableId), a Uuid.
using TableId = Uuid;

struct UuidHash {
  size_t operator()(const Uuid& u) const {
    uint64_t a = 0, b = 0;
    for (int i = 0; i < 8; ++i) a = (a << 8) | u.bytes[i];
    for (int i = 8; i < 16; ++i) b = (b << 8) | u.bytes[i];
    return std::hash<uint64_t>{}(a ^ (b * 0x9e3779b97f4a7c15ULL));
  }
};

}  // namespace rm::cdc::cassandra

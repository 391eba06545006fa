// Seed inputs for the pgoutput fuzz target (pgoutput_fuzzer.cc), shared by its deterministic
// smoke run (pgoutput_fuzz_smoke_main.cc, in ctest), the parsers' gtest smoke test, and the
// seed corpus written for libFuzzer: one well-formed message of each kind the parsers read,
// plus text values and migration SQL.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rm::cdc::postgres::fuzz {

// `bytes` big-endian bytes of `v`, as the replication protocol writes integers.
inline std::string Be(uint64_t v, int bytes) {
  std::string s;
  for (int i = bytes - 1; i >= 0; --i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}

// One of each protocol message: Begin, Commit, Relation, Insert, Update, Delete, Truncate
// (pgoutput) and XLogData, keepalive (the streaming replication wrapper).
inline std::vector<std::string> ProtocolSeeds() {
  std::string tuple = Be(3, 2) + "t" + Be(2, 4) + "42" + "n" + "u";
  return {
      "B" + Be(0x100, 8) + Be(5, 8) + Be(7, 4),
      "C" + Be(0, 1) + Be(1, 8) + Be(2, 8) + Be(3, 8),
      "R" + Be(16384, 4) + std::string("public\0t\0", 9) + "d" + Be(1, 2) + Be(1, 1) +
          std::string("id\0", 3) + Be(23, 4) + Be(0xffffffff, 4),
      "I" + Be(16384, 4) + "N" + tuple,
      "U" + Be(16384, 4) + "O" + tuple + "N" + tuple,
      "D" + Be(16384, 4) + "K" + tuple,
      "T" + Be(2, 4) + Be(1, 1) + Be(1, 4) + Be(2, 4),
      "w" + Be(1, 8) + Be(2, 8) + Be(3, 8) + "B",
      "k" + Be(1, 8) + Be(2, 8) + Be(1, 1),
  };
}

// Inputs aimed at the other two paths of the target: a leading byte choosing the type (index
// into the target's OID list: 12 timestamptz, 20 text[], 15 numeric, 13 interval) and a text
// value, and migration SQL.
inline std::vector<std::string> TextSeeds() {
  return {
      "\x0c" + std::string("2024-02-29 23:59:59.123456+05:30"),
      "\x14" + std::string("{1,NULL,\"a\\\"b\"}"),
      "\x0f" + std::string("12345678901234567890.000000001"),
      "\x0d" + std::string("P1Y2M3DT4H5M6.5S"),
      "ALTER TABLE t ALTER COLUMN id TYPE int; ALTER TABLE t ALTER COLUMN v SET NOT NULL;",
      "/* c */ ALTER TABLE \"public\".t DROP COLUMN id; CREATE TABLE x (a int); "
      "DO $$ BEGIN PERFORM 1; END $$;",
  };
}

inline std::vector<std::string> AllSeeds() {
  auto all = ProtocolSeeds();
  for (auto& s : TextSeeds()) all.push_back(std::move(s));
  return all;
}

}  // namespace rm::cdc::postgres::fuzz

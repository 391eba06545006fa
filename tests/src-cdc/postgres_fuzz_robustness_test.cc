// Fuzz smoke test (deterministic, bounded): mutated and random inputs never crash the
// parsers; errors are reported as Results. The libFuzzer target is
// src-cdc/postgres/fuzz/pgoutput_fuzzer.cc; its own smoke run over the same seeds is the ctest
// src-cdc.pgoutput_fuzz_smoke.
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "src-cdc/postgres/fuzz/pgoutput_seeds.h"
#include "src-cdc/postgres/migration_check.h"
#include "src-cdc/postgres/pgoutput.h"
#include "src-cdc/postgres/type_map.h"

namespace rm::cdc::postgres {
namespace {

std::vector<std::string> Seeds() { return fuzz::ProtocolSeeds(); }

TEST(PostgresFuzz, MutatedProtocolMessagesNeverCrash) {
  std::mt19937 rng(12345);
  auto seeds = Seeds();
  for (const auto& s : seeds)
    ASSERT_TRUE(ParsePgOutputMessage(s).ok() || ParseReplicationMessage(s).ok());
  size_t errors = 0;
  for (int i = 0; i < 200000; ++i) {
    std::string m = seeds[rng() % seeds.size()];
    int edits = 1 + rng() % 4;
    for (int e = 0; e < edits && !m.empty(); ++e) {
      switch (rng() % 4) {
        case 0:
          m[rng() % m.size()] = static_cast<char>(rng());
          break;
        case 1:
          m.resize(rng() % (m.size() + 1));
          break;
        case 2:
          m.insert(m.begin() + rng() % (m.size() + 1), static_cast<char>(rng()));
          break;
        default:
          m += m.substr(rng() % m.size());
      }
    }
    auto r = ParsePgOutputMessage(m);
    auto w = ParseReplicationMessage(m);
    errors += !r.ok() + !w.ok();
    if (!r.ok()) {
      ASSERT_EQ(r.error().code, "pgoutput.malformed");
    }
  }
  EXPECT_GT(errors, 0u);
}

TEST(PostgresFuzz, RandomTextValuesAndSqlNeverCrash) {
  std::mt19937 rng(777);
  TypeRegistry types;
  const std::vector<uint32_t> oids = {16,   17,   20,   21,   23,   700,  701,  1082, 1083,
                                      1114, 1184, 1186, 1266, 1700, 1007, 1009, 1185, 1231};
  const std::string alphabet = "0123456789-:. +TPYMDHS{}\",\\NULnulx[]=BCabcdef'$;/*\n";
  for (int i = 0; i < 100000; ++i) {
    std::string s;
    size_t n = rng() % 40;
    for (size_t k = 0; k < n; ++k) s.push_back(alphabet[rng() % alphabet.size()]);
    ConvertTextValue(types, oids[rng() % oids.size()], rng() % 2 ? 3 : -1, s).ok();
    if (i % 10 == 0) {
      CheckMigration("ALTER TABLE t " + s + ";" + s,
                     {CapturedTable{TableName{"public", "t"}, {"id"}, {{"id", "bigint"}}}});
    }
  }
  SUCCEED();
}

}  // namespace
}  // namespace rm::cdc::postgres

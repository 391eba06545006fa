// Deterministic smoke run of the pgoutput fuzz target, for ctest (label robustness) and for
// builds without libFuzzer: feeds LLVMFuzzerTestOneInput every seed, then a fixed number of
// seeded mutations of them (common/fuzz_smoke.h, with pgoutput's message tags as the special
// bytes). A crash, sanitizer report or abort fails the test.
//
// Usage: pgoutput_fuzz_smoke [iterations] [--write-corpus DIR]
//   --write-corpus writes the seeds as a corpus for the real fuzzer and exits.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/fuzz_smoke.h"
#include "src-cdc/postgres/fuzz/pgoutput_seeds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  long iterations = 100000;
  std::string corpus;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--write-corpus" && i + 1 < argc) {
      corpus = argv[++i];
    } else {
      iterations = std::strtol(a.c_str(), nullptr, 10);
    }
  }
  const auto seeds = rm::cdc::postgres::fuzz::AllSeeds();
  if (!corpus.empty()) {
    std::filesystem::create_directories(corpus);
    for (size_t i = 0; i < seeds.size(); ++i) {
      std::ofstream(std::filesystem::path(corpus) / ("seed-" + std::to_string(i)), std::ios::binary)
          << seeds[i];
    }
    std::printf("wrote %zu seeds to %s\n", seeds.size(), corpus.c_str());
    return 0;
  }
  // Message tags (Begin, Commit, Relation, Insert, Update, Delete, Truncate, Type, Origin,
  // Message, tuple kinds n/u/t, old-key markers K/O/N, replication w/k) and NUL terminators.
  // sizeof keeps the literal's terminating NUL among the special bytes.
  static constexpr char kTags[] = "BCRIUDTYOMnutKONwk";
  rm::common::RunFuzzSmoke(LLVMFuzzerTestOneInput, seeds, std::string_view(kTags, sizeof(kTags)),
                           iterations, 20240229);
  std::printf("pgoutput fuzz smoke: %zu seeds, %ld mutations, no crash\n", seeds.size(),
              iterations);
  return 0;
}

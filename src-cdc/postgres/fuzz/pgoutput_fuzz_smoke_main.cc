// Deterministic smoke run of the pgoutput fuzz target, for ctest (label robustness) and for
// builds without libFuzzer: feeds LLVMFuzzerTestOneInput every seed, then a fixed number of
// seeded mutations of them (byte overwrites with boundary integers, bit flips, truncations,
// insertions, splices of two seeds). A crash, sanitizer report or abort fails the test.
//
// Usage: pgoutput_fuzz_smoke [iterations] [--write-corpus DIR]
//   --write-corpus writes the seeds as a corpus for the real fuzzer and exits.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "src-cdc/postgres/fuzz/pgoutput_seeds.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void Run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

std::string Mutate(const std::vector<std::string>& seeds, std::mt19937_64& rng) {
  auto pick = [&](uint64_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  std::string s = seeds[pick(seeds.size())];
  const int ops = 1 + static_cast<int>(pick(4));
  for (int op = 0; op < ops; ++op) {
    if (s.empty()) s.push_back(static_cast<char>(rng()));
    switch (pick(6)) {
      case 0:  // flip a bit
        s[pick(s.size())] ^= static_cast<char>(1u << pick(8));
        break;
      case 1: {  // a boundary integer over a length, count or OID field
        static constexpr uint32_t kInteresting[] = {0,      1,          2,          0x7fffffff,
                                                    0xffff, 0x80000000, 0xffffffff, 0x10000};
        const uint32_t v = kInteresting[pick(std::size(kInteresting))];
        const size_t at = pick(s.size());
        for (size_t k = 0; k < 4 && at + k < s.size(); ++k) {
          s[at + k] = static_cast<char>(v >> (24 - 8 * k));
        }
        break;
      }
      case 2:  // truncate
        s.resize(pick(s.size() + 1));
        break;
      case 3:  // insert a random byte
        s.insert(s.begin() + static_cast<std::ptrdiff_t>(pick(s.size() + 1)),
                 static_cast<char>(rng()));
        break;
      case 4: {  // splice in a chunk of another seed
        const std::string& other = seeds[pick(seeds.size())];
        const size_t from = pick(other.size());
        s.insert(pick(s.size() + 1), other.substr(from, 1 + pick(other.size() - from)));
        break;
      }
      default:  // repeat the tail (several tuples, repeated columns)
        s += s.substr(pick(s.size()));
    }
  }
  return s;
}

}  // namespace

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
  for (const auto& s : seeds) Run(s);
  std::mt19937_64 rng(20240229);
  for (long i = 0; i < iterations; ++i) Run(Mutate(seeds, rng));
  std::printf("pgoutput fuzz smoke: %zu seeds, %ld mutations, no crash\n", seeds.size(),
              iterations);
  return 0;
}

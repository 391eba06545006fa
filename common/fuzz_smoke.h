// Deterministic stand-in for libFuzzer, shared by the fuzz targets' smoke runs in ctest: runs
// `target` on every seed, then on `iterations` seeded mutations of them. Each mutation applies
// one to four edits: bit flips, bytes from `special` (what the parser treats specially:
// punctuation, tags), big-endian boundary integers over length and count fields, truncations,
// random insertions, splices of another seed, repeated ranges (several records, repeated
// fields) and moved lines (keeps text formats mostly well-formed while scrambling their
// meaning). A crash or abort in the target fails the run; the same rng_seed always gives the
// same inputs. WriteFuzzCorpus writes the seeds as the starting corpus of the real libFuzzer
// binary (scripts/sanitize.sh runs each for a bounded time).
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace rm::common {

using FuzzTarget = int (*)(const uint8_t* data, size_t size);

namespace detail {

inline void MutateOnce(std::string& s, const std::vector<std::string>& seeds,
                       std::string_view special, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  switch (rng() % 8) {
    case 0:  // flip a bit
      if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << pick(8));
      break;
    case 1:  // a byte the parser treats specially
      if (!s.empty() && !special.empty()) s[pick(s.size())] = special[pick(special.size())];
      break;
    case 2: {  // a boundary integer over a length, count or id field
      static constexpr uint32_t kInteresting[] = {
          0, 1, 2, 9, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff};
      const uint32_t v = kInteresting[pick(std::size(kInteresting))];
      const size_t at = pick(s.size());
      for (size_t k = 0; k < 4 && at + k < s.size(); ++k) {
        s[at + k] = static_cast<char>(v >> (24 - 8 * k));
      }
      break;
    }
    case 3:  // truncate
      s.resize(pick(s.size() + 1));
      break;
    case 4:  // insert a random or special byte
      s.insert(
          pick(s.size() + 1), 1,
          special.empty() || rng() % 2 ? static_cast<char>(rng()) : special[pick(special.size())]);
      break;
    case 5: {  // splice: this input's head, another seed's tail
      const std::string& other = seeds[pick(seeds.size())];
      s = s.substr(0, pick(s.size() + 1)) + other.substr(pick(other.size() + 1));
      break;
    }
    case 6: {  // repeat a range in place
      const size_t at = pick(s.size() + 1);
      s.insert(at, s.substr(at, 1 + pick(1024)));
      break;
    }
    default: {  // move a line elsewhere
      const size_t a = s.find('\n', pick(s.size() + 1));
      if (a == std::string::npos) break;
      const size_t b = s.find('\n', a + 1);
      if (b == std::string::npos) break;
      const std::string line = s.substr(a, b - a);
      s.erase(a, b - a);
      const size_t to = s.find('\n', pick(s.size() + 1));
      s.insert(to == std::string::npos ? s.size() : to, line);
    }
  }
}

}  // namespace detail

inline void RunFuzzSmoke(FuzzTarget target, const std::vector<std::string>& seeds,
                         std::string_view special, long iterations, uint64_t rng_seed) {
  auto run = [&](const std::string& input) {
    target(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  };
  for (const auto& seed : seeds) run(seed);
  if (seeds.empty()) return;
  std::mt19937_64 rng(rng_seed);
  for (long i = 0; i < iterations; ++i) {
    std::string input = seeds[rng() % seeds.size()];
    for (int edits = 1 + static_cast<int>(rng() % 4); edits > 0; --edits) {
      detail::MutateOnce(input, seeds, special, rng);
    }
    run(input);
  }
}

// Writes `seeds` as files seed-<i> in `dir` (created if missing). Returns a process exit code:
// 0, or 1 with the reason on stderr.
inline int WriteFuzzCorpus(const std::vector<std::string>& seeds, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  for (size_t i = 0; i < seeds.size() && !ec; ++i) {
    std::ofstream out(std::filesystem::path(dir) / ("seed-" + std::to_string(i)), std::ios::binary);
    out << seeds[i];
    if (!out) ec = std::make_error_code(std::errc::io_error);
  }
  if (ec) {
    std::fprintf(stderr, "cannot write the corpus to %s: %s\n", dir.c_str(), ec.message().c_str());
    return 1;
  }
  std::printf("wrote %zu seeds to %s\n", seeds.size(), dir.c_str());
  return 0;
}

// The main() of a smoke driver whose seeds are code: `<driver> [iterations]` runs RunFuzzSmoke
// (`default_iterations` without an argument) and prints "<name>: N mutated inputs, no crash";
// `<driver> --write-corpus DIR` writes the seeds instead (WriteFuzzCorpus). Returns the exit code.
inline int FuzzSmokeMain(int argc, char** argv, const char* name, FuzzTarget target,
                         const std::vector<std::string>& seeds, std::string_view special,
                         long default_iterations, uint64_t rng_seed) {
  if (argc > 2 && std::string_view(argv[1]) == "--write-corpus") {
    return WriteFuzzCorpus(seeds, argv[2]);
  }
  const long iterations = argc > 1 ? std::strtol(argv[1], nullptr, 10) : default_iterations;
  RunFuzzSmoke(target, seeds, special, iterations, rng_seed);
  std::printf("%s: %ld mutated inputs, no crash\n", name, iterations);
  return 0;
}

// YAML's punctuation and the characters our config values treat specially (regexes, lists,
// `${...}` references, `key=value`): the special bytes of the YAML loaders' smoke runs.
inline constexpr std::string_view kYamlSpecialBytes(":-[]{}*\n '\"&!|>#.\\=,$()\0", 24);

}  // namespace rm::common

// Deterministic smoke run of java_properties_fuzzer.cc for ctest and for builds without
// libFuzzer: seeds covering every rule of the parser, then seeded mutations (bit flips, the
// parser's special bytes, truncations, insertions, splices). A crash or abort fails the test.
//
// Usage: replication_java_properties_fuzz_smoke [iterations]   (default 200000)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 200000;
  const std::vector<std::string> seeds = {
      "clusters = A, B\nA.bootstrap.servers = a:9092\nA->B.enabled = true\n",
      "# comment\n! comment\n  key : value \\\n   continued\r\nx\\=y\\ "
      "z=\\u00e9\\t\\uD83D\\uDE00\n",
      "a==b\nc\\\\\\\nd\re\r\n\\\n",
      "k\\u12",
  };
  std::mt19937_64 rng(20261206);
  for (const auto& seed : seeds) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(seed.data()), seed.size());
  }
  static const char kSpecial[] = {
      '\\', '\n', '\r', '=', ':', ' ', '\t', '\f', '#', '!', 'u', '0', static_cast<char>(0xff)};
  for (long i = 0; i < iterations; ++i) {
    std::string input = seeds[rng() % seeds.size()];
    for (int edits = 1 + static_cast<int>(rng() % 4); edits > 0; --edits) {
      switch (rng() % 5) {
        case 0:
          if (!input.empty()) input[rng() % input.size()] ^= static_cast<char>(1 << (rng() % 8));
          break;
        case 1:
          if (!input.empty()) input[rng() % input.size()] = kSpecial[rng() % sizeof(kSpecial)];
          break;
        case 2:
          input.resize(rng() % (input.size() + 1));
          break;
        case 3:
          input.insert(rng() % (input.size() + 1), 1, kSpecial[rng() % sizeof(kSpecial)]);
          break;
        default: {
          const auto& other = seeds[rng() % seeds.size()];
          input = input.substr(0, rng() % (input.size() + 1)) + other.substr(rng() % other.size());
        }
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::printf("replication_java_properties_fuzz_smoke: %ld mutated inputs, no crash\n", iterations);
  return 0;
}

// Deterministic smoke run of topology_fuzzer.cc for ctest and for builds without libFuzzer:
// valid topology files as seeds, then seeded mutations (byte flips, YAML punctuation,
// truncations, insertions, splices of lines). A crash or abort fails the test.
//
// Usage: topology_fuzz_smoke SEED_FILE... [-n iterations]   (default 3000; ctest runs 20000)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  long iterations = 3000;
  std::vector<std::string> seeds;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
      iterations = std::strtol(argv[++i], nullptr, 10);
      continue;
    }
    std::ifstream in(argv[i], std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "cannot read %s\n", argv[i]);
      return 2;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    seeds.push_back(ss.str());
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "usage: topology_fuzz_smoke SEED_FILE... [-n iterations]\n");
    return 2;
  }
  for (const auto& s : seeds) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  static const char kPunctuation[] = {':', '-', '[', ']', '{', '}', '*', '\n', ' ', '\'',
                                      '"', '&', '!', '|', '>', '#', '.', '\\', '?', '\0'};
  std::mt19937_64 rng(20261206);
  for (long i = 0; i < iterations; ++i) {
    std::string input = seeds[rng() % seeds.size()];
    for (int edits = 1 + static_cast<int>(rng() % 3); edits > 0; --edits) {
      switch (rng() % 5) {
        case 0:
          if (!input.empty()) input[rng() % input.size()] ^= static_cast<char>(1 << (rng() % 8));
          break;
        case 1:
          if (!input.empty()) {
            input[rng() % input.size()] = kPunctuation[rng() % sizeof(kPunctuation)];
          }
          break;
        case 2:
          input.resize(rng() % (input.size() + 1));
          break;
        case 3:
          input.insert(rng() % (input.size() + 1), 1, kPunctuation[rng() % sizeof(kPunctuation)]);
          break;
        default: {
          // Move a line elsewhere: keeps the YAML mostly valid, scrambles its meaning.
          size_t a = input.find('\n', rng() % (input.size() + 1));
          if (a == std::string::npos) break;
          size_t b = input.find('\n', a + 1);
          if (b == std::string::npos) break;
          std::string line = input.substr(a, b - a);
          input.erase(a, b - a);
          size_t to = input.find('\n', rng() % (input.size() + 1));
          input.insert(to == std::string::npos ? input.size() : to, line);
        }
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::printf("topology_fuzz_smoke: %ld mutated inputs, no crash\n", iterations);
  return 0;
}

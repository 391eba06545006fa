// Deterministic smoke run of topology_fuzzer.cc for ctest and for builds without libFuzzer:
// valid topology files as seeds, then seeded mutations (common/fuzz_smoke.h, with YAML's
// punctuation as the special bytes). A crash or abort fails the test.
//
// Usage: topology_loader_fuzz_smoke SEED_FILE... [-n iterations]   (default 3000; ctest: 20000)
//        topology_loader_fuzz_smoke SEED_FILE... --write-corpus DIR   (the seeds, as a corpus)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/fuzz_smoke.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  long iterations = 3000;
  std::vector<std::string> seeds;
  std::string corpus;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "-n") == 0 && i + 1 < argc) {
      iterations = std::strtol(argv[++i], nullptr, 10);
      continue;
    }
    if (std::strcmp(argv[i], "--write-corpus") == 0 && i + 1 < argc) {
      corpus = argv[++i];
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
    std::fprintf(stderr,
                 "usage: topology_loader_fuzz_smoke SEED_FILE... [-n iterations | "
                 "--write-corpus DIR]\n");
    return 2;
  }
  if (!corpus.empty()) return rm::common::WriteFuzzCorpus(seeds, corpus);
  static const char kPunctuation[] = {':', '-', '[', ']', '{', '}', '*', '\n', ' ', '\'',
                                      '"', '&', '!', '|', '>', '#', '.', '\\', '?', '\0'};
  rm::common::RunFuzzSmoke(LLVMFuzzerTestOneInput, seeds,
                           std::string_view(kPunctuation, sizeof(kPunctuation)), iterations,
                           20261206);
  std::printf("topology_loader_fuzz_smoke: %ld mutated inputs, no crash\n", iterations);
  return 0;
}

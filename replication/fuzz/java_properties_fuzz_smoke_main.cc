// Deterministic smoke run of java_properties_fuzzer.cc for ctest and for builds without
// libFuzzer: seeds covering every rule of the parser, then seeded mutations (bit flips, the
// parser's special bytes, truncations, insertions, splices; common/fuzz_smoke.h). A crash or abort
// fails the test.
//
// Usage: replication_java_properties_fuzz_smoke [iterations]   (default 200000)
//        replication_java_properties_fuzz_smoke --write-corpus DIR   (the seeds, as a corpus)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/fuzz_smoke.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int main(int argc, char** argv) {
  const std::vector<std::string> seeds = {
      "clusters = A, B\nA.bootstrap.servers = a:9092\nA->B.enabled = true\n",
      "# comment\n! comment\n  key : value \\\n   continued\r\nx\\=y\\ "
      "z=\\u00e9\\t\\uD83D\\uDE00\n",
      "a==b\nc\\\\\\\nd\re\r\n\\\n",
      "k\\u12",
  };
  if (argc > 2 && std::string(argv[1]) == "--write-corpus") {
    return rm::common::WriteFuzzCorpus(seeds, argv[2]);
  }
  const long iterations = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 200000;
  static const char kSpecial[] = {
      '\\', '\n', '\r', '=', ':', ' ', '\t', '\f', '#', '!', 'u', '0', static_cast<char>(0xff)};
  rm::common::RunFuzzSmoke(LLVMFuzzerTestOneInput, seeds,
                           std::string_view(kSpecial, sizeof(kSpecial)), iterations, 20261206);
  std::printf("replication_java_properties_fuzz_smoke: %ld mutated inputs, no crash\n", iterations);
  return 0;
}

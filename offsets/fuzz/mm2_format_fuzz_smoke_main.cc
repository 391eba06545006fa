// Deterministic smoke run of mm2_format_fuzzer.cc for ctest and for builds without libFuzzer:
// valid OffsetSync, Checkpoint and run entries as seeds, then seeded mutations (bit flips,
// boundary bytes, truncations, insertions, splices). A crash or abort fails the test.
//
// Usage: offsets_mm2_format_fuzz_smoke [iterations]   (default 200000)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "offsets/detail/key_codec.h"
#include "offsets/mm2_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

std::string Pack(const std::string& key, const std::string& value) {
  return std::string(1, static_cast<char>(key.size())) + key + value;
}

std::vector<std::string> Seeds() {
  namespace mm2 = rm::offsets::mm2;
  using rm::common::SourceOffset;
  using rm::common::TargetOffset;
  std::vector<std::string> seeds;
  for (const auto& sync : {mm2::OffsetSync{"orders", 3, SourceOffset(1000), TargetOffset(990)},
                           mm2::OffsetSync{"", 0, SourceOffset(-1), TargetOffset(0)}}) {
    auto r = mm2::Encode(sync).value();
    seeds.push_back(Pack(r.key, r.value));
  }
  for (const auto& cp :
       {mm2::Checkpoint{"g", "us-east.orders", 2, SourceOffset(300), TargetOffset(295), "m"},
        mm2::Checkpoint{"", "", 0, SourceOffset(0), TargetOffset(0), ""}}) {
    auto r = mm2::Encode(cp).value();
    seeds.push_back(Pack(r.key, r.value));
  }
  namespace detail = rm::offsets::detail;
  seeds.push_back(Pack(detail::RunKey(detail::PartitionPrefix({"flow", "t", 7}), SourceOffset(5)),
                       detail::RunValue(TargetOffset(9), 1000)));
  return seeds;
}

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 200000;
  const auto seeds = Seeds();
  std::mt19937_64 rng(20240611);
  for (const auto& seed : seeds) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(seed.data()), seed.size());
  }
  static const char kBoundary[] = {0, 1, 0x7f, static_cast<char>(0x80), static_cast<char>(0xff)};
  for (long i = 0; i < iterations; ++i) {
    std::string input = seeds[rng() % seeds.size()];
    for (int edits = 1 + static_cast<int>(rng() % 4); edits > 0; --edits) {
      switch (rng() % 5) {
        case 0:
          if (!input.empty()) input[rng() % input.size()] ^= static_cast<char>(1 << (rng() % 8));
          break;
        case 1:
          if (!input.empty()) input[rng() % input.size()] = kBoundary[rng() % sizeof(kBoundary)];
          break;
        case 2:
          input.resize(rng() % (input.size() + 1));
          break;
        case 3:
          input.insert(rng() % (input.size() + 1), 1, static_cast<char>(rng()));
          break;
        default: {
          const auto& other = seeds[rng() % seeds.size()];
          input = input.substr(0, rng() % (input.size() + 1)) + other.substr(rng() % other.size());
        }
      }
    }
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  }
  std::printf("offsets_mm2_format_fuzz_smoke: %ld mutated inputs, no crash\n", iterations);
  return 0;
}

// Deterministic smoke run of mm2_format_fuzzer.cc for ctest and for builds without libFuzzer:
// valid OffsetSync, Checkpoint and run entries as seeds, then seeded mutations (bit flips,
// boundary bytes, truncations, insertions, splices). A crash or abort fails the test.
//
// Usage: offsets_mm2_format_fuzz_smoke [iterations]   (default 200000)
//        offsets_mm2_format_fuzz_smoke --write-corpus DIR   (the seeds, as a libFuzzer corpus)
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/fuzz_smoke.h"
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
  if (argc > 2 && std::string(argv[1]) == "--write-corpus") {
    return rm::common::WriteFuzzCorpus(Seeds(), argv[2]);
  }
  const long iterations = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 200000;
  static const char kBoundary[] = {0, 1, 0x7f, static_cast<char>(0x80), static_cast<char>(0xff)};
  rm::common::RunFuzzSmoke(LLVMFuzzerTestOneInput, Seeds(),
                           std::string_view(kBoundary, sizeof(kBoundary)), iterations, 20240611);
  std::printf("offsets_mm2_format_fuzz_smoke: %ld mutated inputs, no crash\n", iterations);
  return 0;
}

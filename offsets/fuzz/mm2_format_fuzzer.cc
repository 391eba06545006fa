// libFuzzer target for the byte parsers of the offsets module: MirrorMaker 2 OffsetSync and
// Checkpoint records (read from Kafka topics we do not control) and our own RocksDB run
// entries (read back from disk).
//
// Input layout: byte 0 = length L of the key, then L key bytes, then the value. Every decoder
// runs on the pair; whatever decodes must re-encode to exactly the same bytes (abort
// otherwise), and nothing may crash, leak or read out of bounds.
//
// Built as the real fuzzer with clang (-DRM_FUZZ=ON, target offsets_mm2_format_fuzzer) and, with
// the normal compiler, linked with mm2_format_fuzz_smoke_main.cc into a deterministic smoke
// test run by ctest (label robustness).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "offsets/detail/key_codec.h"
#include "offsets/mm2_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t key_size = std::min<size_t>(static_cast<uint8_t>(input[0]), size - 1);
  const auto key = input.substr(1, key_size);
  const auto value = input.substr(1 + key_size);

  namespace mm2 = rm::offsets::mm2;
  if (auto sync = mm2::DecodeOffsetSync(key, value); sync.ok()) {
    auto again = mm2::Encode(*sync);
    if (!again.ok() || again->key != key || again->value != value) std::abort();
  }
  if (auto checkpoint = mm2::DecodeCheckpoint(key, value); checkpoint.ok()) {
    auto again = mm2::Encode(*checkpoint);
    if (!again.ok() || again->key != key || again->value != value) std::abort();
  }

  namespace detail = rm::offsets::detail;
  rm::offsets::PartitionKey p;
  rm::common::SourceOffset start;
  if (detail::DecodeRunKey(key, &p, &start)) {
    if (detail::RunKey(detail::PartitionPrefix(p), start) != key) std::abort();
  }
  rm::common::TargetOffset target;
  int64_t count = 0;
  if (detail::DecodeRunValue(value, &target, &count)) {
    // Varints have several spellings (e.g. padded with 0x80); the decoded run must be sane.
    if (count <= 0 || !target.valid()) std::abort();
  }
  return 0;
}

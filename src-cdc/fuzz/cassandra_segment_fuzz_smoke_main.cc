// Deterministic smoke run of the segment fuzz target, for ctest (label robustness) and for
// builds without libFuzzer. Feeds LLVMFuzzerTestOneInput every fixture segment, then a fixed
// number of seeded mutations (common/fuzz_smoke.h): of whole segments and, in the target's 'M'
// mode, of single mutation entries taken from the fixtures, which get past the entry checksums
// to the decoder. A crash, sanitizer report or abort (the target checks that tailing and whole
// reads agree) fails the test.
//
// Usage: cassandra_segment_fuzz_smoke <fixtures dir> [iterations] [--write-corpus DIR]
//   <fixtures dir> is shared/fixtures (the program reads its cassandra/*/*.log).
//   --write-corpus writes the fixture segments, trimmed of their zero tail, as a seed corpus
//   for the real fuzzer.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/fuzz_smoke.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

struct Seed {
  std::string name;
  std::string bytes;  // trimmed: up to the last non-zero byte plus a little padding
};

std::vector<Seed> LoadSeeds(const std::filesystem::path& fixtures) {
  std::vector<Seed> seeds;
  const auto dir = fixtures / "cassandra";
  if (!std::filesystem::is_directory(dir)) return seeds;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().extension() == ".log") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());  // deterministic order
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string bytes = ss.str();
    size_t end = bytes.find_last_not_of('\0');
    end = end == std::string::npos ? 0 : end + 1;
    // Keep enough zeros for the end-of-segment marker and padding to be seen.
    bytes.resize(std::min(bytes.size(), end + 64));
    seeds.push_back(
        {f.parent_path().filename().string() + "/" + f.filename().string(), std::move(bytes)});
  }
  return seeds;
}

// The mutation bytes of the entries of a plain segment (header params "{}"), at most `limit`.
std::vector<std::string> EntriesOf(const std::string& seg, size_t limit) {
  std::vector<std::string> out;
  auto load = [&](size_t at) {
    return (uint32_t{static_cast<uint8_t>(seg[at])} << 24) |
           (uint32_t{static_cast<uint8_t>(seg[at + 1])} << 16) |
           (uint32_t{static_cast<uint8_t>(seg[at + 2])} << 8) | static_cast<uint8_t>(seg[at + 3]);
  };
  if (seg.size() < 20 || seg.compare(14, 2, "{}") != 0) return out;
  size_t marker = 20;
  while (marker + 8 <= seg.size() && out.size() < limit) {
    const size_t next = load(marker);
    if (next <= marker + 8 || next > seg.size()) break;
    for (size_t pos = marker + 8; pos + 12 <= next && out.size() < limit;) {
      const size_t size = load(pos);
      if (size == 0 || pos + 12 + size > next) break;
      out.push_back(seg.substr(pos + 8, size));
      pos += 12 + size;
    }
    marker = next;
  }
  return out;
}

// The target's 'M' mode: the input is one mutation entry, decoded directly.
int RunEntry(const uint8_t* data, size_t size) {
  std::string input = "M";
  input.append(reinterpret_cast<const char*>(data), size);
  return LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <fixtures dir> [iterations] [--write-corpus DIR]\n", argv[0]);
    return 2;
  }
  const std::filesystem::path fixtures = argv[1];
  long iterations = 3000;
  std::filesystem::path corpus;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--write-corpus" && i + 1 < argc) {
      corpus = argv[++i];
    } else {
      iterations = std::strtol(argv[i], nullptr, 10);
    }
  }
  const auto seeds = LoadSeeds(fixtures);
  if (seeds.empty()) {
    std::fprintf(stderr, "no fixture segments under %s/cassandra\n", fixtures.c_str());
    return 1;
  }
  if (!corpus.empty()) {
    std::filesystem::create_directories(corpus);
    for (size_t i = 0; i < seeds.size(); ++i) {
      std::ofstream(corpus / ("seed-" + std::to_string(i) + ".log"), std::ios::binary)
          << seeds[i].bytes;
    }
    std::printf("wrote %zu seeds to %s\n", seeds.size(), corpus.c_str());
    return 0;
  }
  std::vector<std::string> segments;
  std::vector<std::string> entries;
  for (const auto& seed : seeds) {
    segments.push_back(seed.bytes);
    for (auto& e : EntriesOf(seed.bytes, 300)) entries.push_back(std::move(e));
  }
  // Boundary bytes for sizes, counts, flags and the version byte. Fixed rng seeds: every run
  // tests the same inputs.
  static constexpr char kBoundary[] = {
      0, 1, 6, 7, 0x7f, static_cast<char>(0x80), static_cast<char>(0xff)};
  const std::string_view special(kBoundary, sizeof(kBoundary));
  rm::common::RunFuzzSmoke(LLVMFuzzerTestOneInput, segments, special, iterations, 0x5eed);
  rm::common::RunFuzzSmoke(RunEntry, entries, special, iterations, 0x5eee);
  std::printf("fuzz smoke: %zu seeds, %zu entries and 2 x %ld mutated inputs processed\n",
              seeds.size(), entries.size(), iterations);
  return 0;
}

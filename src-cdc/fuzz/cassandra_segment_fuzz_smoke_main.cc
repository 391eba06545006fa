// Deterministic smoke run of the segment fuzz target, for ctest (label robustness) and for
// builds without libFuzzer. Feeds LLVMFuzzerTestOneInput every fixture segment, then a fixed
// number of seeded mutations: of whole segments (bit flips, byte overwrites with boundary
// integers, truncations, zeroed ranges, splices of two segments) and, in the target's 'M' mode,
// of single mutation entries taken from the fixtures, which get past the entry checksums to the
// decoder. A crash, sanitizer report or abort (the target checks that tailing and whole reads
// agree) fails the test.
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
#include <random>
#include <sstream>
#include <string>
#include <vector>

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

void Run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

// Applies one to three random edits to `s`; `seeds` provide material for splices.
std::string MutateBytes(std::string s, const std::vector<Seed>& seeds, std::mt19937_64& rng) {
  auto pick = [&](uint64_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  if (s.empty()) return s;
  const int ops = 1 + static_cast<int>(pick(3));
  for (int op = 0; op < ops && !s.empty(); ++op) {
    switch (pick(6)) {
      case 0: {  // flip a few bits
        const int flips = 1 + static_cast<int>(pick(8));
        for (int i = 0; i < flips; ++i) s[pick(s.size())] ^= static_cast<char>(1u << pick(8));
        break;
      }
      case 1: {  // overwrite 4 bytes with a boundary integer (sizes, lengths, counts)
        static constexpr uint32_t kInteresting[] = {
            0, 1, 9, 10, 0x7fffffff, 0x80000000, 0xffffffff, 0x100, 0xffff, 0x10000};
        const uint32_t v = kInteresting[pick(std::size(kInteresting))];
        const size_t at = pick(s.size());
        for (size_t k = 0; k < 4 && at + k < s.size(); ++k) {
          s[at + k] = static_cast<char>(v >> (24 - 8 * k));
        }
        break;
      }
      case 2:  // truncate
        s.resize(pick(s.size()));
        break;
      case 3: {  // zero a range
        const size_t at = pick(s.size());
        const size_t len = std::min(s.size() - at, 1 + pick(512));
        std::fill(s.begin() + static_cast<std::ptrdiff_t>(at),
                  s.begin() + static_cast<std::ptrdiff_t>(at + len), '\0');
        break;
      }
      case 4: {  // splice: a chunk of another segment over this one
        const std::string& other = seeds[pick(seeds.size())].bytes;
        if (other.empty()) break;
        const size_t from = pick(other.size());
        const size_t len = std::min(other.size() - from, 1 + pick(4096));
        const size_t at = pick(s.size());
        s.replace(at, std::min(len, s.size() - at), other, from, len);
        break;
      }
      default: {  // duplicate a range in place (repeated entries, shifted markers)
        const size_t at = pick(s.size());
        const size_t len = std::min(s.size() - at, 1 + pick(2048));
        s.insert(at, s.substr(at, len));
        break;
      }
    }
  }
  return s;
}

std::string Mutate(const std::vector<Seed>& seeds, std::mt19937_64& rng) {
  return MutateBytes(seeds[rng() % seeds.size()].bytes, seeds, rng);
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
  std::vector<std::string> entries;
  for (const auto& seed : seeds) {
    Run(seed.bytes);
    for (auto& e : EntriesOf(seed.bytes, 300)) entries.push_back("M" + e);
  }
  for (const auto& e : entries) Run(e);
  std::mt19937_64 rng(0x5eed);  // fixed: every run tests the same inputs
  for (long i = 0; i < iterations; ++i) {
    Run(Mutate(seeds, rng));
    if (!entries.empty()) {
      std::string e = MutateBytes(entries[rng() % entries.size()], seeds, rng);
      if (e.empty() || e[0] != 'M') e.insert(0, "M");
      Run(e);
    }
  }
  std::printf("fuzz smoke: %zu seeds, %zu entries and 2 x %ld mutated inputs processed\n",
              seeds.size(), entries.size(), iterations);
  return 0;
}

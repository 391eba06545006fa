// Deterministic smoke run of the segment fuzz target, for ctest (label robustness) and for
// builds without libFuzzer. Feeds LLVMFuzzerTestOneInput every fixture segment, then a fixed
// number of seeded mutations of them: bit flips, byte overwrites with boundary integers,
// truncations, zeroed ranges and splices of two segments. A crash, sanitizer report or abort
// (the target checks that tailing and whole reads agree) fails the test.
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

void Run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

std::string Mutate(const std::vector<Seed>& seeds, std::mt19937_64& rng) {
  auto pick = [&](uint64_t n) { return n == 0 ? 0 : static_cast<size_t>(rng() % n); };
  std::string s = seeds[pick(seeds.size())].bytes;
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
  for (const auto& seed : seeds) Run(seed.bytes);
  std::mt19937_64 rng(0x5eed);  // fixed: every run tests the same inputs
  for (long i = 0; i < iterations; ++i) Run(Mutate(seeds, rng));
  std::printf("fuzz smoke: %zu seeds and %ld mutated inputs processed\n", seeds.size(), iterations);
  return 0;
}

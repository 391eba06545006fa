// Deterministic stand-in for libFuzzer, shared by the fuzz targets' smoke runs in ctest: runs
// `target` on every seed, then on `iterations` seeded mutations of them (bit flips, bytes from
// `special` the parser treats specially, truncations, random insertions, splices). A crash or
// abort in the target fails the run; the same rng_seed always gives the same inputs.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace rm::common {

using FuzzTarget = int (*)(const uint8_t* data, size_t size);

inline void RunFuzzSmoke(FuzzTarget target, const std::vector<std::string>& seeds,
                         std::string_view special, long iterations, uint64_t rng_seed) {
  auto run = [&](const std::string& input) {
    target(reinterpret_cast<const uint8_t*>(input.data()), input.size());
  };
  for (const auto& seed : seeds) run(seed);
  std::mt19937_64 rng(rng_seed);
  for (long i = 0; i < iterations; ++i) {
    std::string input = seeds[rng() % seeds.size()];
    for (int edits = 1 + static_cast<int>(rng() % 4); edits > 0; --edits) {
      switch (rng() % 5) {
        case 0:
          if (!input.empty()) input[rng() % input.size()] ^= static_cast<char>(1 << (rng() % 8));
          break;
        case 1:
          if (!input.empty()) input[rng() % input.size()] = special[rng() % special.size()];
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
    run(input);
  }
}

}  // namespace rm::common

// Rounds and seed of the randomized fault schedule tests (tests/mirror/fault_schedule_*,
// tests/src-cdc/cassandra_faults_*): RM_FAULT_ROUNDS rounds (at least 1; `default_rounds`
// without it) from RM_FAULT_SEED (random without it). Round r uses seed + r, so one round is
// replayed with RM_FAULT_SEED=<its seed> RM_FAULT_ROUNDS=1.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <random>
#include <string>

namespace rm::testing {

inline int FaultRounds(int default_rounds) {
  const char* env = std::getenv("RM_FAULT_ROUNDS");
  return env ? std::max(1, std::atoi(env)) : default_rounds;
}

inline uint64_t FaultSeed() {
  const char* env = std::getenv("RM_FAULT_SEED");
  return env ? std::stoull(env) : std::random_device{}();
}

}  // namespace rm::testing

// The whole machine's CPU use from /proc/stat: every process counts (the harness, the mirror,
// the testbed's brokers), which is what says whether a run was CPU-bound on a shared machine.
#pragma once

#include <cstdint>
#include <optional>

namespace rm::loadtest {

struct CpuTimes {
  uint64_t busy = 0;   // user + nice + system + irq + softirq + steal, in clock ticks
  uint64_t total = 0;  // the same plus idle and iowait
};

// The "cpu" line of /proc/stat; nullopt where it cannot be read.
std::optional<CpuTimes> ReadCpuTimes();

struct CpuUse {
  double busy_fraction = 0;  // 0..1 of all cores
  double cores_busy = 0;     // busy_fraction x cores
};

// Between two readings; zero when no time passed.
CpuUse CpuBetween(const CpuTimes& from, const CpuTimes& to, int cores);

}  // namespace rm::loadtest

#include "loadtest/machine_cpu.h"

#include <fstream>
#include <sstream>
#include <string>

namespace rm::loadtest {

std::optional<CpuTimes> ReadCpuTimes() {
  std::ifstream in("/proc/stat");
  std::string line;
  if (!in || !std::getline(in, line) || line.rfind("cpu ", 0) != 0) return std::nullopt;
  std::istringstream fields(line.substr(4));
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  fields >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  if (!fields && !fields.eof()) return std::nullopt;
  CpuTimes t;
  t.busy = user + nice + system + irq + softirq + steal;
  t.total = t.busy + idle + iowait;
  return t;
}

CpuUse CpuBetween(const CpuTimes& from, const CpuTimes& to, int cores) {
  CpuUse u;
  if (to.total <= from.total) return u;
  u.busy_fraction =
      static_cast<double>(to.busy - from.busy) / static_cast<double>(to.total - from.total);
  u.cores_busy = u.busy_fraction * cores;
  return u;
}

}  // namespace rm::loadtest

// MirrorProcess: `regionmirror run --config <file>` as a child process of the harness, the mirror
// under test as a black box. The child gets its own process group and dies with the harness
// (PR_SET_PDEATHSIG), so an interrupted or crashed run leaves no mirror running.
//
// Lifecycle: the constructor starts it; Stop() asks it to drain (SIGTERM) and waits, then kills;
// the destructor kills what is still running. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace rm::loadtest {

class MirrorProcess {
 public:
  // `binary` is the regionmirror executable; stdout and stderr go to `log_path`.
  MirrorProcess(const std::string& binary, const std::string& config_path,
                const std::string& log_path);
  ~MirrorProcess();
  MirrorProcess(const MirrorProcess&) = delete;
  MirrorProcess& operator=(const MirrorProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool Running();
  // SIGTERM, wait up to `timeout`, then SIGKILL. The exit code (128 + signal when killed).
  int Stop(std::chrono::milliseconds timeout);
  void Kill();
  // The admin API address ("127.0.0.1:port") once the log names it, else "".
  std::string AdminAddress() const;
  // How many "<topic>[<p>] resumes at" lines the log has: partitions the mirror copies.
  int ResumedPartitions() const;
  std::string LogTail(size_t bytes = 2000) const;

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string log_path_;
};

// The running executable (/proc/self/exe), for starting the mirror from `regionmirror loadtest`.
std::string SelfExecutable();

}  // namespace rm::loadtest

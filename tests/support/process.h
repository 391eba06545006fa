// Child processes for integration tests: run a command to completion with a timeout, or keep
// one running (the regionmirror binary) and kill it at will. A ChildProcess that goes out of
// scope kills its process group, so a failing test leaves nothing running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace rm::testing {

struct CommandResult {
  int exit_code = -1;  // 128+signal when killed; -1 when it timed out
  std::string output;  // stdout and stderr, interleaved
};

// Runs argv (argv[0] looked up in PATH) and waits up to `timeout`; on timeout the process
// group is killed and exit_code is -1.
CommandResult RunCommand(const std::vector<std::string>& argv,
                         std::chrono::milliseconds timeout = std::chrono::seconds(120),
                         const std::map<std::string, std::string>& env = {},
                         const std::string& stdin_data = "");

class ChildProcess {
 public:
  // Starts argv in its own process group; stdout and stderr go to `log_path` (appended).
  ChildProcess(const std::vector<std::string>& argv, const std::string& log_path,
               const std::map<std::string, std::string>& env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running();
  // Sends `sig` to the process group. SIGTERM and SIGINT wait (up to 10 s) until the process
  // blocks them, as regionmirror's main() does first thing, so that they reach its drain.
  void Signal(int sig);
  // SIGKILL and reap.
  void Kill();
  // Waits up to `timeout` for exit; the exit code (128+signal if signalled) or nullopt.
  std::optional<int> Wait(std::chrono::milliseconds timeout);

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

// The regionmirror binary under test.
std::string RegionmirrorPath();

// True if a thread of the process `pid` blocks `sig` (/proc/<pid>/task/*/status SigBlk).
bool BlocksSignal(pid_t pid, int sig);

// True if `pid` has no live process (zombies count as gone).
bool ProcessGone(pid_t pid);

}  // namespace rm::testing

#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

namespace rm::testing {
namespace {

[[noreturn]] void ExecChild(const std::vector<std::string>& argv,
                            const std::map<std::string, std::string>& env) {
  // Only stdin, stdout and stderr go to the child. The test process hosts the testbed's mock
  // brokers, whose listening and accepted sockets are not close-on-exec: a child holding copies
  // kept a "down" broker accepting connections into its listen backlog, and kept connections
  // the broker closed open (no FIN reached the client), so requests to them hung until the
  // client's 60 s socket timeout (FaultSchedule rounds waited for that after a broker down).
  close_range(3, ~0U, 0);
  for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  dprintf(2, "exec %s: %s\n", args[0], strerror(errno));
  _exit(127);
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::string RegionmirrorPath() { return RM_REGIONMIRROR_BIN; }

bool ProcessGone(pid_t pid) {
  if (kill(pid, 0) != 0) return errno == ESRCH;
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string skip, state;
  stat >> skip >> skip >> state;
  return state == "Z";
}

CommandResult RunCommand(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                         const std::map<std::string, std::string>& env,
                         const std::string& stdin_data) {
  int out[2], in[2];
  if (pipe(out) != 0 || pipe(in) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(out[1], 2);
    close(out[0]);
    close(in[1]);
    ExecChild(argv, env);
  }
  close(out[1]);
  close(in[0]);
  if (!stdin_data.empty()) {
    size_t off = 0;
    while (off < stdin_data.size()) {
      ssize_t n = write(in[1], stdin_data.data() + off, stdin_data.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
  }
  close(in[1]);
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  CommandResult result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[65536];
  int status = 0;
  bool exited = false;
  for (;;) {
    ssize_t n;
    while ((n = read(out[0], buf, sizeof(buf))) > 0)
      result.output.append(buf, static_cast<size_t>(n));
    if (!exited && waitpid(pid, &status, WNOHANG) == pid) exited = true;
    if (exited && n == 0) break;  // exited and pipe drained (EOF)
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);
      if (!exited) waitpid(pid, &status, 0);
      close(out[0]);
      result.exit_code = -1;
      return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  close(out[0]);
  result.exit_code = DecodeStatus(status);
  return result;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv, const std::string& log_path,
                           const std::map<std::string, std::string>& env) {
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    setpgid(0, 0);
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    ExecChild(argv, env);
  }
  setpgid(pid_, pid_);
}

ChildProcess::~ChildProcess() {
  if (!exit_code_) Kill();
}

bool ChildProcess::running() {
  if (exit_code_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_code_ = DecodeStatus(status);
    return false;
  }
  return true;
}

bool BlocksSignal(pid_t pid, int sig) {
  // Every thread's mask, not only the main thread's: a service's main thread waits for the
  // signal in sigtimedwait(), which unblocks it in that thread's mask for the wait (so the main
  // thread's SigBlk lacks it nearly all the time), while the threads started after main()
  // blocked it keep it blocked.
  std::error_code ec;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec)) {
    std::ifstream status(task.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("SigBlk:", 0) != 0) continue;
      const uint64_t mask = std::stoull(line.substr(7), nullptr, 16);
      if ((mask >> (sig - 1)) & 1) return true;
      break;
    }
  }
  return false;
}

void ChildProcess::Signal(int sig) {
  if (exit_code_) return;
  if (sig == SIGTERM || sig == SIGINT) {
    // Until the binary's main() has blocked the signal (its first line), the default action
    // would kill it: the process is still being exec'd and loaded, and nothing of ours can
    // drain. A test means the signal for the binary, so it waits for that moment (bounded:
    // a binary that never blocks it gets it anyway).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (running() && !BlocksSignal(pid_, sig) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    if (exit_code_) return;
  }
  kill(-pid_, sig);
}

void ChildProcess::Kill() {
  if (exit_code_) return;
  kill(-pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_code_ = DecodeStatus(status);
}

std::optional<int> ChildProcess::Wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return exit_code_;
}

}  // namespace rm::testing

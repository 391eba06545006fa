#include "loadtest/mirror_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "common/result.h"

namespace rm::loadtest {
namespace {

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string SelfExecutable() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("regionmirror") : p.string();
}

MirrorProcess::MirrorProcess(const std::string& binary, const std::string& config_path,
                             const std::string& log_path)
    : log_path_(log_path) {
  const pid_t parent = getpid();
  pid_ = fork();
  if (pid_ < 0)
    throw common::ConfigError(fmt::format("cannot start the mirror: fork: {}", strerror(errno)));
  if (pid_ == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);  // the harness died before prctl
    // The harness blocks SIGINT/SIGTERM in every thread (common/service.h); the mirror must see
    // them.
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_UNBLOCK, &all, nullptr);
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, 0);
    std::vector<std::string> args = {binary, "run", "--config", config_path};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  setpgid(pid_, pid_);
}

MirrorProcess::~MirrorProcess() { Kill(); }

bool MirrorProcess::Running() {
  if (exit_code_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    exit_code_ = DecodeStatus(status);
    return false;
  }
  return true;
}

int MirrorProcess::Stop(std::chrono::milliseconds timeout) {
  if (Running()) kill(pid_, SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (Running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  Kill();
  return exit_code_.value_or(-1);
}

void MirrorProcess::Kill() {
  if (pid_ <= 0 || !Running()) return;
  kill(-pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  exit_code_ = DecodeStatus(status);
}

std::string MirrorProcess::AdminAddress() const {
  static const std::regex re("admin API on http://([0-9.]+:[0-9]+)");
  std::smatch m;
  std::string log = ReadAll(log_path_);
  if (std::regex_search(log, m, re)) return m[1];
  return "";
}

int MirrorProcess::ResumedPartitions() const {
  std::string log = ReadAll(log_path_);
  int n = 0;
  for (size_t at = log.find("] resumes at "); at != std::string::npos;
       at = log.find("] resumes at ", at + 1)) {
    ++n;
  }
  return n;
}

std::string MirrorProcess::LogTail(size_t bytes) const {
  std::string log = ReadAll(log_path_);
  return log.size() > bytes ? log.substr(log.size() - bytes) : log;
}

}  // namespace rm::loadtest

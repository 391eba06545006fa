// `regionmirror testbed`: local Kafka regions on loopback for development, tests and demos.
#include <fmt/format.h>
#include <gflags/gflags.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "apps/subcommands.h"
#include "common/log.h"
#include "common/result.h"
#include "common/service.h"
#include "testbed/control_server.h"
#include "testbed/testbed.h"

DEFINE_string(regions, "us-east,eu-west", "Comma-separated region names, one mock cluster each.");
DEFINE_int32(brokers, 3, "Brokers per region.");
DEFINE_string(endpoints, "",
              "Write the regions' bootstrap servers and the control address to this JSON file "
              "(written atomically once every region is up).");
DEFINE_string(control_bind, "127.0.0.1", "Address the control API binds.");
DEFINE_int32(control_port, 0, "Port of the control API (0: any free port).");
DEFINE_string(topics, "",
              "Topics to create at start: comma-separated region:topic:partitions, e.g. "
              "us-east:orders:6.");

namespace rm::apps {
namespace {

using common::ConfigError;

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

void CreateTopics(testbed::Testbed& tb, const std::string& spec) {
  for (const auto& item : Split(spec, ',')) {
    auto parts = Split(item, ':');
    int partitions = 0;
    if (parts.size() != 3 || (partitions = std::atoi(parts[2].c_str())) <= 0) {
      throw ConfigError(fmt::format(
          "--topics: '{}' is not region:topic:partitions (e.g. us-east:orders:6)", item));
    }
    if (auto st = tb.CreateTopic(parts[0], parts[1], partitions); !st.ok()) {
      throw ConfigError(fmt::format("--topics: {}", st.error().message));
    }
  }
}

void WriteEndpoints(const std::string& path, const nlohmann::json& endpoints) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << endpoints.dump(2) << "\n";
    if (!out) throw ConfigError(fmt::format("--endpoints: cannot write {}", tmp));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) throw ConfigError(fmt::format("--endpoints: cannot write {}: {}", path, ec.message()));
}

// Runs `argv` with the testbed up; returns its exit code. SIGINT/SIGTERM are forwarded.
int RunChild(const std::vector<std::string>& args, const std::string& endpoints_path) {
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_UNBLOCK, &all, nullptr);
    if (!endpoints_path.empty()) setenv("RM_TESTBED_ENDPOINTS", endpoints_path.c_str(), 1);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    fmt::print(stderr, "regionmirror testbed: cannot run '{}': {}\n", args[0], strerror(errno));
    _exit(127);
  }
  for (;;) {
    int sig = common::WaitForSignal(std::chrono::milliseconds(500));
    if (sig == SIGINT || sig == SIGTERM) kill(pid, sig);
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
  }
}

int RunTestbed(const std::vector<std::string>& command) {
  testbed::Testbed tb({Split(FLAGS_regions, ','), FLAGS_brokers});
  CreateTopics(tb, FLAGS_topics);
  if (FLAGS_control_port < 0 || FLAGS_control_port > 65535) {
    throw ConfigError(fmt::format("--control_port: {} is not a port", FLAGS_control_port));
  }
  testbed::ControlServer control(
      tb, {FLAGS_control_bind, static_cast<uint16_t>(FLAGS_control_port), 1 << 20});
  nlohmann::json endpoints = control.Endpoints();
  std::string endpoints_path = FLAGS_endpoints;
  if (endpoints_path.empty() && !command.empty()) {
    // The command needs the file to find the regions: make one that lives as long as we do.
    endpoints_path = (std::filesystem::temp_directory_path() /
                      fmt::format("regionmirror-testbed-{}.json", getpid()))
                         .string();
  }
  if (!endpoints_path.empty()) WriteEndpoints(endpoints_path, endpoints);
  RM_LOG_INFO("testbed: control API on {}", control.address());

  int rc = 0;
  if (!command.empty()) {
    rc = RunChild(command, endpoints_path);
  } else {
    fmt::print("{}\n", endpoints.dump());
    std::fflush(stdout);
    for (;;) {
      int sig = common::WaitForSignal(std::chrono::milliseconds(1000));
      if (sig == SIGINT || sig == SIGTERM) break;
    }
    RM_LOG_INFO("testbed: shutting down");
  }
  if (!endpoints_path.empty()) {
    std::error_code ec;
    std::filesystem::remove(endpoints_path, ec);
  }
  return rc;
}

}  // namespace

std::vector<common::Subcommand> TestbedSubcommands() {
  return {{"testbed",
           "Run local Kafka regions (mock clusters) with a control API for faults. With "
           "`-- CMD ARGS`, run CMD while they are up (RM_TESTBED_ENDPOINTS names the endpoints "
           "file, a temporary one unless --endpoints is given), then stop them and exit with CMD's "
           "code; otherwise run until SIGINT/SIGTERM.",
           "[-- CMD ARGS...]",
           {"regions", "brokers", "endpoints", "control_bind", "control_port", "topics"},
           RunTestbed,
           /*handles_signals=*/true}};
}

}  // namespace rm::apps

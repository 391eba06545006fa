#include "common/service.h"

#include <signal.h>

#include <ctime>
#include <exception>
#include <memory>
#include <thread>

#include "common/log.h"

namespace rm::common {
namespace {

sigset_t ShutdownSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGCHLD);
  return set;
}

}  // namespace

void BlockShutdownSignals() {
  sigset_t set = ShutdownSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void UnblockShutdownSignals() {
  sigset_t set = ShutdownSet();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

int WaitForSignal(std::chrono::milliseconds timeout) {
  sigset_t set = ShutdownSet();
  timespec ts{static_cast<time_t>(timeout.count() / 1000),
              static_cast<long>((timeout.count() % 1000) * 1000000)};
  int sig = sigtimedwait(&set, nullptr, &ts);
  return sig < 0 ? 0 : sig;
}

int RunService(const ServiceOptions& options,
               const std::function<int(const std::atomic<bool>& stop)>& run) {
  std::unique_ptr<HttpServer> admin;
  if (options.admin_port >= 0) {
    admin = std::make_unique<HttpServer>(HttpServerOptions{
        .bind_address = options.admin_bind,
        .port = static_cast<uint16_t>(options.admin_port),
    });
    AddAdminRoutes(
        *admin, options.health ? options.health : [] { return std::string(); });
    if (options.routes) options.routes(*admin);
    admin->Start();
    RM_LOG_INFO("{}: admin API on http://{} (/healthz, /metrics)", options.name, admin->address());
  }

  std::atomic<bool> stop{false};
  std::atomic<bool> finished{false};
  int rc = 0;
  std::thread runner([&] {
    try {
      rc = run(stop);
    } catch (const std::exception& e) {  // never expected: end cleanly, exit 1, restartable
      RM_LOG_ERROR("{}: stopped by an unexpected error: {}", options.name, e.what());
      rc = 1;
    }
    finished = true;
  });
  while (!finished.load()) {
    const int sig = WaitForSignal(options.tick_interval);
    if (options.tick) options.tick();
    if (sig == SIGINT || sig == SIGTERM) {
      RM_LOG_INFO("signal {}: {}", sig, options.on_signal);
      break;
    }
  }
  stop = true;
  runner.join();
  if (options.tick) options.tick();
  if (admin) admin->Stop();
  return rc;
}

}  // namespace rm::common

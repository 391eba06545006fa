#include "common/service.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <stdexcept>

namespace rm::common {
namespace {

// Each test blocks the shutdown signals in the test's thread, as main() does, and leaves no
// signal pending behind it.
class ServiceRunner : public ::testing::Test {
 protected:
  void SetUp() override { BlockShutdownSignals(); }
  void TearDown() override {
    while (WaitForSignal(std::chrono::milliseconds(0)) != 0) {
    }
  }
};

TEST_F(ServiceRunner, ASigtermSentBeforeTheServiceStartedStillDrainsItAndExitsZero) {
  ASSERT_EQ(kill(getpid(), SIGTERM), 0);  // pending: blocked since SetUp
  std::atomic<bool> saw_stop{false};
  int rc = RunService({.name = "test"}, [&](const std::atomic<bool>& stop) {
    while (!stop.load()) std::this_thread::yield();
    saw_stop = true;
    return 0;
  });
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(saw_stop.load()) << "the service was not told to stop; it ended some other way";
}

TEST_F(ServiceRunner, ReturnsTheServicesExitCodeWhenItEndsWithoutASignal) {
  int rc = RunService({.name = "test"}, [](const std::atomic<bool>&) { return 3; });
  EXPECT_EQ(rc, 3);
}

TEST_F(ServiceRunner, AnExceptionFromTheServiceEndsInExitCodeOne) {
  int rc = RunService({.name = "test"},
                      [](const std::atomic<bool>&) -> int { throw std::runtime_error("boom"); });
  EXPECT_EQ(rc, 1);
}

TEST_F(ServiceRunner, TicksWhileTheServiceRunsAndOnceAfterItStopped) {
  std::atomic<int> ticks{0};
  std::atomic<bool> done{false};
  ServiceOptions options{.name = "test"};
  options.tick = [&] { ++ticks; };
  options.tick_interval = std::chrono::milliseconds(1);
  int rc = RunService(options, [&](const std::atomic<bool>&) {
    while (ticks.load() < 3) std::this_thread::yield();
    return 0;
  });
  EXPECT_EQ(rc, 0);
  EXPECT_GE(ticks.load(), 4);  // three seen by the service, one after it returned
}

TEST_F(ServiceRunner, AddsTheCallersRoutesToItsAdminServer) {
  ServiceOptions options{.name = "test", .admin_port = 0};
  std::atomic<bool> routes_added{false};
  options.routes = [&](HttpServer&) { routes_added = true; };
  int rc = RunService(options, [&](const std::atomic<bool>&) { return 0; });
  EXPECT_EQ(rc, 0);
  EXPECT_TRUE(routes_added.load());
}

}  // namespace
}  // namespace rm::common

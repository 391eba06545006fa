// Shutdown signals at any point of `regionmirror run`'s start-up: the process drains and exits 0
// (the service runner of common/service.h, and main() blocking the signals first thing).
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <thread>

#include "tests/support/mirror_helpers.h"
#include "tests/support/process.h"
#include "tests/support/testbed_fixture.h"

namespace rm::testing {
namespace {

using namespace std::chrono_literals;

class ServiceSignals : public TestbedTest {
 protected:
  MirrorSpec Spec() {
    MirrorSpec s;
    s.clusters = {{"us-east", Bootstrap("us-east")}, {"eu-west", Bootstrap("eu-west")}};
    s.flows = {{"us-east", "eu-west", {"orders"}}};
    s.offsets_dir = (tmp_ / "offsets").string();  // start-up opens the store and its threads
    return s;
  }
};

TEST_F(ServiceSignals, ASigtermAtTheFirstInstantTheBinaryRunsDrainsAndExitsZero) {
  tb().CreateTopic("us-east", "orders", 2);
  tb().CreateTopic("eu-west", "us-east.orders", 2);
  // Stop() sends SIGTERM as soon as main() blocked it: before the configuration is read, the
  // store opened or any flow built. The signal waits for the service runner, which drains.
  for (int round = 0; round < 3; ++round) {
    MirrorProcess mirror(Spec(), tmp_.path(), fmt::format("first{}", round));
    EXPECT_EQ(mirror.Stop(), 0) << mirror.Log();
    EXPECT_NE(mirror.Log().find("signal 15: draining"), std::string::npos) << mirror.Log();
  }
}

TEST_F(ServiceSignals, ASigtermAnywhereInStartUpDrainsAndExitsZero) {
  tb().CreateTopic("us-east", "orders", 2);
  tb().CreateTopic("eu-west", "us-east.orders", 2);
  // Instants spread over start-up: store opening, flows and clients being built, first join.
  for (int delay_ms : {5, 20, 60, 150, 400, 1000}) {
    MirrorProcess mirror(Spec(), tmp_.path(), fmt::format("after{}ms", delay_ms));
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    EXPECT_EQ(mirror.Stop(), 0) << "SIGTERM " << delay_ms << " ms after start\n" << mirror.Log();
  }
}

TEST_F(ServiceSignals, OneShotCommandsKeepTheDefaultActionOfSigterm) {
  // Only service commands handle the signals main() blocks; a one-shot command (here `offsets
  // rebuild` waiting on a cluster that does not answer) is ended by SIGTERM as any program.
  WriteFile(tmp_ / "dead.yaml",
            "clusters:\n  - {alias: a, bootstrap_servers: \"127.0.0.1:1\"}\n"
            "  - {alias: b, bootstrap_servers: \"127.0.0.1:1\"}\n"
            "flows:\n  - {source: a, target: b}\n"
            "offsets:\n  dir: " +
                (tmp_ / "dead-offsets").string() + "\n");
  ChildProcess cmd({RegionmirrorPath(), "offsets", "rebuild", "--config",
                    (tmp_ / "dead.yaml").string(), "--flow", "a->b"},
                   (tmp_ / "rebuild.log").string());
  // Wait until the command runs (it opened the store), then it asks the dead cluster for 10 s.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (cmd.running() && !std::filesystem::exists(tmp_ / "dead-offsets" / "CURRENT") &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  ASSERT_TRUE(cmd.running()) << ReadFile(tmp_ / "rebuild.log");
  ASSERT_FALSE(BlocksSignal(cmd.pid(), SIGTERM)) << "a one-shot command still blocks SIGTERM";
  kill(cmd.pid(), SIGTERM);  // not Signal(): that waits for the mask a service sets
  EXPECT_EQ(cmd.Wait(10s), 128 + SIGTERM);
}

}  // namespace
}  // namespace rm::testing

// `regionmirror run`: the replicator.
#include <fmt/format.h>
#include <gflags/gflags.h>

#include <thread>

#include "apps/signals.h"
#include "apps/subcommands.h"
#include "common/log.h"
#include "common/result.h"
#include "mirror/config.h"
#include "mirror/mirror.h"

DEFINE_string(config, "", "Configuration file: our YAML, or MirrorMaker 2's mm2.properties.");
DEFINE_int32(admin_port, -2,
             "Overrides admin.port of the configuration (0: any free port, -1: no admin API).");
DEFINE_bool(check, false, "Only load and validate the configuration, then exit.");

namespace rm::apps {
namespace {

int RunMirror(const std::vector<std::string>&) {
  BlockShutdownSignals();
  if (FLAGS_config.empty()) throw common::ConfigError("--config is required");
  mirror::MirrorConfig config = mirror::LoadMirrorConfig(FLAGS_config);
  if (FLAGS_admin_port != -2) config.admin.port = FLAGS_admin_port;
  if (FLAGS_check) {
    for (const auto& w : config.warnings) fmt::print("warning: {}\n", w);
    fmt::print("{}: OK ({} clusters, {} flows)\n", FLAGS_config, config.clusters.size(),
               config.flows.size());
    return 0;
  }
  mirror::Mirror mirror(std::move(config));
  std::atomic<bool> stop{false};
  int rc = 0;
  std::thread runner([&] { rc = mirror.Run(stop); });
  for (;;) {
    int sig = WaitForSignal(std::chrono::milliseconds(500));
    if (sig == SIGINT || sig == SIGTERM) {
      RM_LOG_INFO("signal {}: draining in-flight records and stopping", sig);
      break;
    }
  }
  stop = true;
  runner.join();
  return rc;
}

}  // namespace

std::vector<common::Subcommand> MirrorSubcommands() {
  return {{"run",
           "Replicate topics between clusters as the configuration's flows say (SIGTERM drains "
           "in-flight records and exits).",
           "",
           {"config", "admin_port", "check"},
           RunMirror}};
}

}  // namespace rm::apps

// `regionmirror run`: the replicator.
#include <fmt/format.h>
#include <gflags/gflags.h>

#include <memory>
#include <thread>

#include "apps/signals.h"
#include "apps/subcommands.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/result.h"
#include "mirror/mirror.h"
#include "offsets/kafka/runtime.h"
#include "replication/config.h"

DEFINE_string(config, "", "Configuration file: our YAML, or MirrorMaker 2's mm2.properties.");
DEFINE_int32(admin_port, -2,
             "Overrides admin.port of the configuration (0: any free port, -1: no admin API).");
DEFINE_bool(check, false, "Only load and validate the configuration, then exit.");

namespace rm::apps {
namespace {

using namespace std::chrono_literals;

int RunMirror(const std::vector<std::string>&) {
  BlockShutdownSignals();
  if (FLAGS_config.empty()) throw common::ConfigError("--config is required");
  replication::MirrorConfig config = replication::LoadMirrorConfig(FLAGS_config);
  if (FLAGS_admin_port != -2) config.admin.port = FLAGS_admin_port;
  if (FLAGS_check) {
    for (const auto& w : config.warnings) fmt::print("warning: {}\n", w);
    fmt::print("{}: OK ({} clusters, {} flows)\n", FLAGS_config, config.clusters.size(),
               config.flows.size());
    return 0;
  }
  std::unique_ptr<offsets::kafka::OffsetsRuntime> offsets;
  mirror::SinkFactory sinks;
  mirror::RouteInstaller routes;
  if (!config.offsets.dir.empty()) {
    offsets = std::make_unique<offsets::kafka::OffsetsRuntime>(config, FLAGS_config);
    sinks = [&offsets](const replication::FlowConfig& fc) {
      auto a = offsets->ForFlow(fc);
      return mirror::FlowOffsets{a.sink, a.hooks};
    };
    routes = [&offsets](common::HttpServer& server) { offsets->InstallRoutes(server); };
  }
  mirror::Mirror mirror(std::move(config), sinks, routes);
  if (offsets) offsets->Start();
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
  if (offsets) offsets->Stop();
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

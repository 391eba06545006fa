// `regionmirror run`: the replicator.
#include <fmt/format.h>
#include <gflags/gflags.h>

#include <atomic>
#include <memory>

#include "apps/subcommands.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/service.h"
#include "mirror/mirror.h"
#include "offsets/kafka/runtime.h"
#include "replication/config.h"

DEFINE_string(config, "", "Configuration file: our YAML, or MirrorMaker 2's mm2.properties.");
DEFINE_int32(admin_port, -2,
             "Overrides admin.port of the configuration (0: any free port, -1: no admin API).");
DEFINE_bool(check, false, "Only load and validate the configuration, then exit.");

namespace rm::apps {
namespace {

int RunMirror(const std::vector<std::string>&) {
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
  // The mirror serves its own admin API (its health is per flow); the runner handles signals
  // and the drain.
  const int rc =
      common::RunService({.name = "mirror", .on_signal = "draining in-flight records and stopping"},
                         [&mirror](const std::atomic<bool>& stop) { return mirror.Run(stop); });
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
           RunMirror,
           /*handles_signals=*/true}};
}

}  // namespace rm::apps

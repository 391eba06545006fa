// `regionmirror run`: the replicator.
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <gflags/gflags.h>

#include <atomic>
#include <memory>

#include "apps/subcommands.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/result.h"
#include "common/service.h"
#include "mirror/heartbeats.h"
#include "mirror/mirror.h"
#include "mirror/topic_config_sync.h"
#include "offsets/kafka/runtime.h"
#include "replication/config.h"
#include "replication/config_report.h"
#include "topology/mirror_config.h"
#include "topology/planner.h"
#include "topology/runtime.h"

DEFINE_string(config, "", "Configuration file: our YAML, or MirrorMaker 2's mm2.properties.");
DEFINE_int32(admin_port, -2,
             "Overrides admin.port of the configuration (0: any free port, -1: no admin API).");
DEFINE_bool(check, false,
            "Only load and validate the configuration, print what would run, then exit (1 on "
            "errors).");
// Shared with `topology failover` (apps/topology_cmd.cc); for run it overrides offsets.dir of
// the configuration (regionmirror.offsets.dir in mm2.properties).
DECLARE_string(offsets_dir);
DEFINE_string(topology, "",
              "Topology file: run its planned flows (--pair A:B or --region R), or with --config "
              "enforce its residency on the file's flows; serves GET /topology/route.");
DECLARE_string(region);  // apps/topology_cmd.cc
DECLARE_string(pair);    // apps/topology_cmd.cc

namespace rm::apps {
namespace {

// The flows `run --topology` runs: the plan for --pair or --region (exactly what `topology plan`
// prints), or with --config the file's flows. Throws ConfigError for a bad file or scope.
replication::MirrorConfig TopologyMirrorConfig(const topology::Topology& topo) {
  if (!FLAGS_config.empty()) {
    if (!FLAGS_region.empty() || !FLAGS_pair.empty()) {
      throw common::ConfigError(
          "--region and --pair choose the topology's planned flows; with --config the flows "
          "are the file's");
    }
    return replication::LoadMirrorConfig(FLAGS_config);
  }
  topology::PlanScope scope;
  if (FLAGS_region.empty() == FLAGS_pair.empty()) {
    throw common::ConfigError(fmt::format(
        "run --topology {}: give --pair A:B (both directions between two regions) or --region R "
        "(every flow into R)",
        FLAGS_topology));
  }
  scope.region = FLAGS_region;
  if (!FLAGS_pair.empty()) {
    auto colon = FLAGS_pair.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == FLAGS_pair.size()) {
      throw common::ConfigError(fmt::format("--pair '{}' is not A:B", FLAGS_pair));
    }
    scope.pair = {FLAGS_pair.substr(0, colon), FLAGS_pair.substr(colon + 1)};
  }
  auto plan = topology::MakePlan(topo, scope);
  if (!plan.ok()) {
    throw common::ConfigError(fmt::format("{}: {}", FLAGS_topology, plan.error().message));
  }
  for (const auto& f : plan->flows) {
    RM_LOG_INFO("topology {}: flow {} carries [{}]", FLAGS_topology, f.name(),
                fmt::join(f.topics, ", "));
  }
  if (plan->flows.empty()) {
    throw common::ConfigError(fmt::format(
        "{}: the plan {} has no flow (no topic rule copies anything there): nothing to run",
        FLAGS_topology, plan->scope));
  }
  return topology::MirrorConfigFor(topo, *plan);
}

int RunMirror(const std::vector<std::string>&) {
  if (FLAGS_config.empty() && FLAGS_topology.empty()) {
    throw common::ConfigError("--config or --topology is required");
  }
  std::shared_ptr<const topology::Topology> topo;
  replication::MirrorConfig config;
  if (FLAGS_topology.empty()) {
    config = replication::LoadMirrorConfig(FLAGS_config);
  } else {
    topo = topology::Topology::Load(FLAGS_topology);
    config = TopologyMirrorConfig(*topo);
  }
  const std::string& file = FLAGS_config.empty() ? FLAGS_topology : FLAGS_config;
  if (FLAGS_admin_port != -2) config.admin.port = FLAGS_admin_port;
  if (!FLAGS_offsets_dir.empty()) config.offsets.dir = FLAGS_offsets_dir;
  if (FLAGS_check) {
    fmt::print("{}", replication::DescribeMirrorConfig(config, file));
    if (auto problem = replication::OffsetsDirProblem(config)) {
      throw common::ConfigError(fmt::format("{}: {}", file, *problem));
    }
    return 0;
  }
  // Residency in every flow's data path, health probes, GET /topology/route.
  std::unique_ptr<topology::TopologyRuntime> placement;
  if (topo) {
    placement = std::make_unique<topology::TopologyRuntime>(topo);
    placement->Attach(config, file);
  }
  std::unique_ptr<offsets::kafka::OffsetsRuntime> offsets;
  mirror::SinkFactory sinks;
  std::function<void(common::HttpServer&)> routes;
  if (!config.offsets.dir.empty()) {
    offsets = std::make_unique<offsets::kafka::OffsetsRuntime>(config, file);
    sinks = [&offsets](const replication::FlowConfig& fc) {
      auto a = offsets->ForFlow(fc);
      return mirror::FlowOffsets{a.sink, a.hooks};
    };
    routes = [&offsets](common::HttpServer& server) { offsets->InstallRoutes(server); };
  }
  if (placement) {
    routes = [&offsets, &placement](common::HttpServer& server) {
      if (offsets) offsets->InstallRoutes(server);
      placement->InstallRoutes(server);
    };
  }
  mirror::HeartbeatEmitter heartbeats(config);
  mirror::TopicConfigSyncer topic_configs(config);
  const auto admin = config.admin;
  mirror::Mirror mirror(std::move(config), sinks);
  if (offsets) offsets->Start();
  if (placement) placement->Start();
  heartbeats.Start();
  topic_configs.Start();
  // The runner serves the admin API (health per flow, the offsets and topology routes),
  // handles signals and the drain. A taken admin port throws from it: the destructors above
  // stop what was started, and the error reaches main.
  const int rc =
      common::RunService({.name = "mirror",
                          .admin_bind = admin.bind,
                          .admin_port = admin.port,
                          .health = [&mirror] { return mirror.Health(); },
                          .routes = routes,
                          .on_signal = "draining in-flight records and stopping"},
                         [&mirror](const std::atomic<bool>& stop) { return mirror.Run(stop); });
  topic_configs.Stop();
  heartbeats.Stop();
  if (offsets) offsets->Stop();
  if (placement) placement->Stop();
  return rc;
}

}  // namespace

std::vector<common::Subcommand> MirrorSubcommands() {
  return {{"run",
           "Replicate topics between clusters as the configuration's flows say (SIGTERM drains "
           "in-flight records and exits).",
           "",
           {"config", "admin_port", "check", "offsets_dir", "topology", "pair", "region"},
           RunMirror,
           /*handles_signals=*/true}};
}

}  // namespace rm::apps

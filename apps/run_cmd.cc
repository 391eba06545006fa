// `regionmirror run`: the replicator.
#include <fmt/format.h>
#include <gflags/gflags.h>

#include <filesystem>
#include <map>
#include <memory>
#include <thread>

#include "apps/signals.h"
#include "apps/subcommands.h"
#include "common/log.h"
#include "common/metrics.h"
#include "common/result.h"
#include "mirror/group_checkpointer.h"
#include "mirror/internal_topics.h"
#include "mirror/mirror.h"
#include "mirror/offset_sync_publisher.h"
#include "mirror/offsets_probe.h"
#include "mirror/offsets_queries.h"
#include "offsets/checkpoint_store.h"
#include "offsets/offset_map.h"
#include "offsets/offset_store.h"
#include "replication/config.h"

DEFINE_string(config, "", "Configuration file: our YAML, or MirrorMaker 2's mm2.properties.");
DEFINE_int32(admin_port, -2,
             "Overrides admin.port of the configuration (0: any free port, -1: no admin API).");
DEFINE_bool(check, false, "Only load and validate the configuration, then exit.");

namespace rm::apps {
namespace {

using namespace std::chrono_literals;

// The offsets integration of one `regionmirror run` process, when offsets.dir is set: one
// RocksDB store and OffsetMap shared by every flow (OffsetMap and CheckpointStore are
// thread-safe; RocksDB allows one writing process per directory), and per flow an
// OffsetSyncPublisher (the flow's DeliverySink), a writer to the flow's target for offset syncs
// and checkpoints, and a GroupCheckpointer thread. Owns a copy of the configuration, which the
// checkpointers and the HTTP routes refer to.
class OffsetsRuntime {
 public:
  OffsetsRuntime(const replication::MirrorConfig& config, const std::string& config_file)
      : config_(config) {
    const std::filesystem::path dir = config_.offsets.dir;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      throw common::ConfigError(fmt::format("{}: offsets.dir: cannot create {}: {}", config_file,
                                            dir.string(), ec.message()));
    }
    auto store = offsets::OffsetStore::Open(dir);
    if (!store.ok()) {
      throw common::ConfigError(
          fmt::format("{}: offsets.dir: {}", config_file, store.error().message));
    }
    store_ = std::move(store).value();
    map_ = std::make_unique<offsets::OffsetMap>(*store_);
    checkpoints_ = std::make_unique<offsets::CheckpointStore>(*store_);
    const auto& o = config_.offsets;
    for (const auto& fc : config_.flows) {
      if (!fc.enabled) continue;
      PerFlow& f = flows_[fc.name()];
      f.probe = std::make_unique<mirror::OffsetsProbe>(*common::MetricsRegistry(), fc.name());
      if (o.emit_syncs || o.emit_checkpoints) {
        const replication::ClusterConfig* dst = config_.FindCluster(fc.target);
        f.writer = std::make_unique<mirror::KafkaRecordWriter>(
            dst->ClientProperties(), fmt::format("flow {} offsets writer", fc.name()));
      }
      f.publisher = std::make_unique<mirror::OffsetSyncPublisher>(
          *map_, fc.name(), mirror::OffsetSyncsTopic(fc.source),
          o.emit_syncs ? f.writer.get() : nullptr, f.probe.get());
      f.checkpointer = std::make_unique<mirror::GroupCheckpointer>(
          config_, fc, *map_, *checkpoints_, f.writer.get(), f.publisher.get(), f.probe.get());
    }
    RM_LOG_INFO("offsets: map at {} (syncs {}, checkpoints {}, group offset sync {})", dir.string(),
                o.emit_syncs ? "on" : "off", o.emit_checkpoints ? "on" : "off",
                o.sync_group_offsets ? "on" : "off");
  }

  ~OffsetsRuntime() { Stop(); }

  mirror::FlowOffsets ForFlow(const replication::FlowConfig& fc) {
    auto it = flows_.find(fc.name());
    if (it == flows_.end()) return {};
    return {it->second.publisher.get(), it->second.publisher.get()};
  }

  void InstallRoutes(common::HttpServer& server) {
    mirror::InstallOffsetsRoutes(server, config_, *map_, *checkpoints_);
  }

  void Start() {
    for (auto& [name, f] : flows_) f.checkpointer->Start();
  }

  // After the flows stopped (their last checkpoint published their last syncs).
  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    for (auto& [name, f] : flows_) f.checkpointer->Stop();
    for (auto& [name, f] : flows_) {
      auto s = f.publisher->stats();
      if (s.syncs_pending > 0) {
        RM_LOG_WARN("flow {}: {} offset syncs were never published (their topic was not ready)",
                    name, s.syncs_pending);
      }
      if (!f.writer) continue;
      if (auto st = f.writer->Flush(10s); !st.ok()) {
        RM_LOG_WARN("flow {}: offset syncs and checkpoints not all acknowledged at exit: {}", name,
                    st.error().message);
      }
    }
  }

 private:
  struct PerFlow {
    std::unique_ptr<mirror::OffsetsProbe> probe;
    std::unique_ptr<mirror::KafkaRecordWriter> writer;
    std::unique_ptr<mirror::OffsetSyncPublisher> publisher;
    std::unique_ptr<mirror::GroupCheckpointer> checkpointer;
  };

  const replication::MirrorConfig config_;
  std::unique_ptr<offsets::OffsetStore> store_;
  std::unique_ptr<offsets::OffsetMap> map_;
  std::unique_ptr<offsets::CheckpointStore> checkpoints_;
  // Declared after the map: destroyed first (checkpointers join, writers flush).
  std::map<std::string, PerFlow> flows_;
  bool stopped_ = false;
};

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
  std::unique_ptr<OffsetsRuntime> offsets;
  mirror::SinkFactory sinks;
  mirror::RouteInstaller routes;
  if (!config.offsets.dir.empty()) {
    offsets = std::make_unique<OffsetsRuntime>(config, FLAGS_config);
    sinks = [&offsets](const replication::FlowConfig& fc) { return offsets->ForFlow(fc); };
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

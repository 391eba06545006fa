#include "offsets/kafka/runtime.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "common/log.h"
#include "common/metrics.h"
#include "common/result.h"
#include "offsets/kafka/queries.h"

namespace rm::offsets::kafka {

using namespace std::chrono_literals;

OffsetsRuntime::OffsetsRuntime(const replication::MirrorConfig& config,
                               const std::string& config_file)
    : config_(config) {
  const std::filesystem::path dir = config_.offsets.dir;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    throw common::ConfigError(
        fmt::format("{}: offsets.dir: cannot create {}: {} (set another directory: offsets.dir in "
                    "YAML, regionmirror.offsets.dir in mm2.properties, or --offsets-dir)",
                    config_file, dir.string(), ec.message()));
  }
  auto store = OffsetStore::Open(dir);
  if (!store.ok()) {
    throw common::ConfigError(
        fmt::format("{}: offsets.dir: {}", config_file, store.error().message));
  }
  store_ = std::move(store).value();
  map_ = std::make_unique<OffsetMap>(*store_);
  checkpoints_ = std::make_unique<CheckpointStore>(*store_);
  const auto& o = config_.offsets;
  for (const auto& fc : config_.flows) {
    if (!fc.enabled) continue;
    PerFlow& f = flows_[fc.name()];
    f.probe = std::make_unique<OffsetsProbe>(*common::MetricsRegistry(), fc.name());
    const replication::OffsetsSettings fo = config_.OffsetsFor(fc);
    if (fo.emit_syncs || fo.emit_checkpoints) {
      const replication::ClusterConfig* dst = config_.FindCluster(fc.target);
      f.writer = std::make_unique<KafkaRecordWriter>(
          dst->ClientProperties(), fmt::format("flow {} offsets writer", fc.name()));
    }
    f.publisher = std::make_unique<OffsetSyncPublisher>(
        *map_, fc.name(), OffsetSyncsTopic(fc.source), o.emit_syncs ? f.writer.get() : nullptr,
        f.probe.get());
    f.checkpointer = std::make_unique<GroupCheckpointer>(
        config_, fc, *map_, *checkpoints_, f.writer.get(), f.publisher.get(), f.probe.get());
  }
  RM_LOG_INFO("offsets: map at {} (syncs {}, checkpoints {}, group offset sync {})", dir.string(),
              o.emit_syncs ? "on" : "off", o.emit_checkpoints ? "on" : "off",
              o.sync_group_offsets ? "on" : "off");
}

OffsetsRuntime::~OffsetsRuntime() { Stop(); }

FlowAttachments OffsetsRuntime::ForFlow(const replication::FlowConfig& flow) {
  auto it = flows_.find(flow.name());
  if (it == flows_.end()) return {};
  return {it->second.publisher.get(), it->second.publisher.get()};
}

void OffsetsRuntime::InstallRoutes(common::HttpServer& server) {
  InstallOffsetsRoutes(server, config_, *map_, *checkpoints_);
}

void OffsetsRuntime::Start() {
  for (auto& [name, f] : flows_) f.checkpointer->Start();
}

void OffsetsRuntime::Stop() {
  if (stopped_) return;
  stopped_ = true;
  for (auto& [name, f] : flows_) f.checkpointer->Stop();
  for (auto& [name, f] : flows_) {
    auto s = f.publisher->stats();
    if (s.syncs_pending > 0) {
      RM_LOG_WARN("flow {}: {} offset syncs were never published (their topic was not ready)", name,
                  s.syncs_pending);
    }
    if (!f.writer) continue;
    if (auto st = f.writer->Flush(10s); !st.ok()) {
      RM_LOG_WARN("flow {}: offset syncs and checkpoints not all acknowledged at exit: {}", name,
                  st.error().message);
    }
  }
}

}  // namespace rm::offsets::kafka

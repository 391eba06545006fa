// The offsets runtime of one `regionmirror run` process, when offsets.dir is set: one RocksDB
// store and OffsetMap shared by every flow, and per flow an OffsetSyncPublisher (the flow's
// DeliverySink and OffsetsFlowHooks), a writer to the flow's target for offset syncs and
// checkpoints, and a GroupCheckpointer thread.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "common/http_server.h"
#include "offsets/checkpoint_store.h"
#include "offsets/delivery_sink.h"
#include "offsets/flow_hooks.h"
#include "offsets/kafka/group_checkpointer.h"
#include "offsets/kafka/internal_topics.h"
#include "offsets/kafka/offset_sync_publisher.h"
#include "offsets/kafka/probe.h"
#include "offsets/offset_map.h"
#include "offsets/offset_store.h"
#include "replication/config.h"

namespace rm::offsets::kafka {

// What a flow reports to; both null for a flow the runtime does not know (disabled).
struct FlowAttachments {
  DeliverySink* sink = nullptr;
  OffsetsFlowHooks* hooks = nullptr;
};

// Lifecycle: construct (opens the store: throws ConfigError naming `config_file` and
// offsets.dir when it cannot), attach the flows (ForFlow) and routes, Start() the group
// checkpointers, run the flows, and Stop() after the flows stopped (their last checkpoint
// published their last syncs); the destructor stops too.
// Threading: ForFlow, InstallRoutes, Start and Stop are called from one thread; the attachments
// are used by the flows' threads and the routes by the HTTP server's (OffsetMap and
// CheckpointStore are thread-safe). Owns a copy of the configuration, which the checkpointers
// and the routes refer to; RocksDB allows one writing process per directory.
class OffsetsRuntime {
 public:
  OffsetsRuntime(const replication::MirrorConfig& config, const std::string& config_file);
  ~OffsetsRuntime();
  OffsetsRuntime(const OffsetsRuntime&) = delete;
  OffsetsRuntime& operator=(const OffsetsRuntime&) = delete;

  FlowAttachments ForFlow(const replication::FlowConfig& flow);
  // GET /offsets/translate and /offsets/dump.
  void InstallRoutes(common::HttpServer& server);
  void Start();
  void Stop();

 private:
  struct PerFlow {
    std::unique_ptr<OffsetsProbe> probe;
    std::unique_ptr<KafkaRecordWriter> writer;
    std::unique_ptr<OffsetSyncPublisher> publisher;
    std::unique_ptr<GroupCheckpointer> checkpointer;
  };

  const replication::MirrorConfig config_;
  std::unique_ptr<OffsetStore> store_;
  std::unique_ptr<OffsetMap> map_;
  std::unique_ptr<CheckpointStore> checkpoints_;
  // Declared after the map: destroyed first (checkpointers join, writers flush).
  std::map<std::string, PerFlow> flows_;
  bool stopped_ = false;
};

}  // namespace rm::offsets::kafka

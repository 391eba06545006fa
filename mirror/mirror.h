// The mirror process: every enabled flow of the configuration, each on its own thread (the
// admin HTTP server is the service runner's, common/service.h; Health() is its /healthz). A flow
// that stops on an unrecoverable error (e.g. a fatal idempotent-producer error) is rebuilt after a
// backoff; since a flow resumes from the target's tail, a rebuild neither loses nor duplicates.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mirror/flow.h"
#include "offsets/delivery_sink.h"
#include "offsets/flow_hooks.h"
#include "replication/config.h"

namespace rm::mirror {

// What the offsets integration attaches to one flow; both may be null. They must outlive the
// Mirror; a flow rebuilt after an error gets the same ones again.
struct FlowOffsets {
  offsets::DeliverySink* sink =
      nullptr;  // offset map sink (e.g. offsets::kafka::OffsetSyncPublisher)
  offsets::OffsetsFlowHooks* hooks = nullptr;  // told source log starts, for pruning
};
// Builds the offsets attachments of a flow. Lets apps/ wire the offsets module in without
// mirror/ owning the RocksDB store.
using SinkFactory = std::function<FlowOffsets(const replication::FlowConfig&)>;
class Mirror {
 public:
  explicit Mirror(replication::MirrorConfig config, SinkFactory sinks = nullptr);

  // Runs until `stop` is set; then drains every flow. Returns 0 on a clean stop.
  int Run(const std::atomic<bool>& stop);
  // Combined health of every flow ("" when healthy). Thread-safe.
  std::string Health() const;

 private:
  void RunFlow(size_t index, const std::atomic<bool>& stop);

  replication::MirrorConfig config_;
  SinkFactory sinks_;
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Flow>> flows_;  // guarded by mu_ when replaced
  std::vector<std::string> flow_errors_;
};

}  // namespace rm::mirror

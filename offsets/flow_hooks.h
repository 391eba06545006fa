// What a flow tells the offsets integration beyond offsets::DeliverySink.
//
// No "after checkpoint" hook is needed here: the offsets integration's sink
// (offsets::kafka::OffsetSyncPublisher) wraps the OffsetMap, so the flow's own call to
// DeliverySink::Checkpoint() is where offset syncs are published, right after the map made
// them durable.
#pragma once

#include "common/offset_types.h"
#include "offsets/delivery_sink.h"

namespace rm::offsets {

// Optional; a flow without one behaves as before. Called on the flow's Run() thread: it must
// return quickly (no network round trip, no fsync), it is on the data path.
class OffsetsFlowHooks {
 public:
  virtual ~OffsetsFlowHooks() = default;

  // The source partition's log start offset (low watermark) as last seen by the flow; called
  // periodically (every 5 s) for every assigned partition. Runs of the offset map that end at
  // or below it can be pruned.
  virtual void OnSourceLogStart(const offsets::PartitionKey& p, common::SourceOffset log_start) = 0;
};

}  // namespace rm::offsets

// Rebuilding a flow's offset map from its offset-syncs topic on the target
// (`regionmirror offsets rebuild`): the way another instance or region gets the map back.
#pragma once

#include <cstdint>
#include <string>

#include "common/result.h"
#include "offsets/offset_map.h"
#include "offsets/offset_sync_emitter.h"
#include "replication/config.h"

namespace rm::offsets::kafka {

struct RebuildReport {
  std::string topic;         // the offset-syncs topic read
  uint64_t undecodable = 0;  // records that were not OffsetSync records (skipped)
  RebuildStats stats;
};

// Reads partition 0 of the flow's offset-syncs topic on its target from the beginning to the
// high watermark seen at start, applying every sync to `map`. Throws ConfigError when the
// target cannot be asked or has no such topic (nothing was read); returns an error when reading
// or applying stops part-way (the map holds what was applied).
common::Result<RebuildReport> RebuildFromSyncTopic(const replication::MirrorConfig& config,
                                                   const replication::FlowConfig& flow,
                                                   OffsetMap& map);

}  // namespace rm::offsets::kafka

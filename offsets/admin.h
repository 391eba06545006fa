// Admin and CLI-facing queries: `regionmirror offsets dump` and `offsets translate`, and the
// same on the admin HTTP API. Functions return data; JSON rendering is offered for the wiring.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/offset_types.h"
#include "common/result.h"
#include "offsets/checkpoint_store.h"
#include "offsets/offset_map.h"

namespace rm::offsets {

struct RunRow {
  PartitionKey partition;
  Run run;
};

struct RunsDump {
  std::vector<RunRow> runs;  // key order, at most `limit`
  bool truncated = false;    // more runs matched than the limit
};

// Runs matching `filter`, at most `limit` of them (0 = no limit).
common::Result<RunsDump> DumpRuns(const OffsetMap& map, const RunFilter& filter, size_t limit = 0);

// A committed position of a group on the source, as read from the source cluster.
struct GroupOffset {
  std::string topic;  // source topic
  int32_t partition = 0;
  common::SourceOffset committed;
  std::string metadata;
};

// Translates a group's committed source offsets through one flow's map. Nothing is stored.
common::Result<std::vector<GroupCheckpoint>> TranslateGroup(const OffsetMap& map,
                                                            const std::string& flow,
                                                            const std::string& group,
                                                            const std::vector<GroupOffset>& offsets,
                                                            int64_t now_ms);

// The checkpoint emitter's step: make the map durable, translate, and store the checkpoints of
// the group in one batch. Partitions without any mapping (kNoMapping) are left out, as MM2
// leaves out partitions it cannot translate. Returns what was stored.
common::Result<std::vector<GroupCheckpoint>> CheckpointGroup(
    OffsetMap& map, CheckpointStore& checkpoints, const std::string& flow, const std::string& group,
    const std::vector<GroupOffset>& offsets, int64_t now_ms);

// `offsets translate --group G [--topic T]` without access to the source cluster: the stored
// checkpoints of the group (every flow), optionally one topic.
common::Result<std::vector<GroupCheckpoint>> StoredGroupPositions(
    const CheckpointStore& checkpoints, const std::string& group,
    const std::optional<std::string>& topic = std::nullopt);

// Names and metadata are passed through as bytes; render with
// dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) when they may not be UTF-8.
nlohmann::json ToJson(const RunsDump& dump);
nlohmann::json ToJson(const GroupCheckpoint& checkpoint);
nlohmann::json ToJson(const std::vector<GroupCheckpoint>& checkpoints);
nlohmann::json ToJson(const TranslationResult& result);

}  // namespace rm::offsets

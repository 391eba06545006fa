// `offsets translate` and `offsets dump`, shared by the CLI (apps/offsets_cmd.cc, over a
// secondary, read-only store) and the admin HTTP API of `regionmirror run` (over the running
// mirror's store), so both answer the same question the same way.
//
//   GET /offsets/translate?group=G[&topic=T][&stored=1]   JSON array of TranslatedPosition
//   GET /offsets/dump[?flow=F][&topic=T][&limit=N]         {"runs": [...], "truncated": b,
//                                                            "checkpoints": [...]}
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/http_server.h"
#include "common/result.h"
#include "offsets/checkpoint_store.h"
#include "offsets/offset_map.h"
#include "replication/config.h"

namespace rm::offsets::kafka {

// Where a group continues on a flow's target, for one partition.
struct TranslatedPosition {
  std::string flow;
  std::string group;
  std::string topic;         // source topic
  std::string remote_topic;  // the topic's name on the target (the flow's ReplicationPolicy)
  int32_t partition = 0;
  common::SourceOffset source_offset;  // the group's committed offset on the source
  common::TargetOffset target_offset;  // where to continue on the target; -1: no mapping
  offsets::TranslationKind kind = offsets::TranslationKind::kNoMapping;
  // "live": committed offset read from the source now and translated now; "checkpoint": the
  // last stored checkpoint (the source could not be read, or stored_only was asked).
  std::string from;
  int64_t time_ms = 0;  // when the checkpoint was taken; 0 for live rows

  bool operator==(const TranslatedPosition&) const = default;
};

struct TranslateQuery {
  std::string group;                        // required
  std::optional<std::string> topic;         // source topic; unset: every mirrored topic
  bool stored_only = false;                 // answer from stored checkpoints, never ask the source
  std::chrono::milliseconds timeout{5000};  // per request to a source cluster
};

// For every enabled flow: the group's committed offsets on the source for the partitions of the
// topics the flow mirrors, translated through `map` (partitions the group never committed are
// left out). A flow whose source cannot be read (a region outage: exactly when failing over)
// answers with its stored checkpoints instead, marked from="checkpoint". Errors only for a
// failing store. Rows sorted by flow, topic, partition.
common::Result<std::vector<TranslatedPosition>> TranslateGroupPositions(
    const replication::MirrorConfig& config, const offsets::OffsetMap& map,
    const offsets::CheckpointStore& checkpoints, const TranslateQuery& query);

struct DumpQuery {
  std::optional<std::string> flow;
  std::optional<std::string> topic;  // source topic
  size_t limit = 10000;              // runs at most (0: no limit)
};

// Runs and checkpoints matching the query, as JSON (the shape in the file comment).
common::Result<nlohmann::json> DumpOffsets(const offsets::OffsetMap& map,
                                           const offsets::CheckpointStore& checkpoints,
                                           const DumpQuery& query);

nlohmann::json ToJson(const std::vector<TranslatedPosition>& rows);
// Aligned text tables for people.
std::string TranslateTable(const std::vector<TranslatedPosition>& rows);
std::string DumpTable(const nlohmann::json& dump);

// Adds GET /offsets/translate and GET /offsets/dump to `server`. Everything referenced must
// outlive the server. A bad query answers 400; a failing store 500.
void InstallOffsetsRoutes(common::HttpServer& server, const replication::MirrorConfig& config,
                          const offsets::OffsetMap& map,
                          const offsets::CheckpointStore& checkpoints);

}  // namespace rm::offsets::kafka

// CheckpointStore: the last translated position of every consumer group partition.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/offset_types.h"
#include "common/result.h"
#include "offsets/offset_map.h"
#include "offsets/offset_store.h"

namespace rm::offsets {

// One consumer group partition of one flow: where the group stands on the source and where it
// continues on the target.
struct GroupCheckpoint {
  std::string flow;
  std::string group;
  std::string topic;  // source topic name
  int32_t partition = 0;
  common::SourceOffset source_offset;  // committed on the source: the next offset to read
  common::TargetOffset target_offset;  // Translate(source_offset).target
  TranslationKind kind = TranslationKind::kExact;  // which translation case applied
  int64_t time_ms = 0;                             // when the checkpoint was taken (epoch ms)
  std::string metadata;                            // the group's commit metadata

  bool operator==(const GroupCheckpoint&) const = default;
};

// Selects checkpoints. Unset fields match everything; `group` narrows the scan.
struct CheckpointFilter {
  std::optional<std::string> group;
  std::optional<std::string> flow;
  std::optional<std::string> topic;
};

// Checkpoints in the `checkpoints` column family, keyed by (group, flow, topic, partition) so a
// group's checkpoints across flows are one range (what `offsets translate --group` reads).
//
// Lifecycle: construct over an open OffsetStore, which must outlive it. Threading: all methods
// are safe to call concurrently (they are single RocksDB reads and writes). Persistence: one
// entry per group partition, overwritten by each newer checkpoint; Put with sync=true is
// durable on return.
class CheckpointStore {
 public:
  explicit CheckpointStore(OffsetStore& store) : store_(store) {}

  // Stores all checkpoints in one atomic batch.
  common::Status Put(const std::vector<GroupCheckpoint>& checkpoints, bool sync = true);
  common::Result<std::optional<GroupCheckpoint>> Get(const std::string& flow,
                                                     const std::string& group,
                                                     const std::string& topic,
                                                     int32_t partition) const;
  // In key order (group, flow, topic, partition).
  common::Result<std::vector<GroupCheckpoint>> List(const CheckpointFilter& filter = {}) const;
  common::Status Delete(const std::string& flow, const std::string& group, const std::string& topic,
                        int32_t partition);

 private:
  OffsetStore& store_;
};

}  // namespace rm::offsets

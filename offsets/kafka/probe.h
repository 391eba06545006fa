// Metrics of the offsets integration of one flow (names and labels live here).
//   rm_offsets_syncs_published_total{flow}       MM2 OffsetSync records handed to the producer
//   rm_offsets_syncs_pending{flow}               syncs waiting for their topic or queue space
//   rm_offsets_group_checkpoints_total{flow}     group partitions translated and stored
//   rm_offsets_checkpoint_records_total{flow}    MM2 Checkpoint records written
//   rm_offsets_target_commits_total{flow}        group partitions committed on the target
//   rm_offsets_group_syncs_skipped_total{flow}   group syncs skipped: members active on target
//   rm_offsets_runs_pruned_total{flow}           runs deleted below the source log start
//   rm_offsets_errors_total{flow,kind}           read, store, write, commit, prune, topic errors
// Thread-safe: the publisher (flow thread) and the group checkpointer (its own) share one.
#pragma once

#include <string>

#include "common/metrics.h"

namespace rm::offsets::kafka {

class OffsetsProbe {
 public:
  OffsetsProbe(prometheus::Registry& registry, std::string flow);

  void AddSyncsPublished(uint64_t n) { syncs_published_.Increment(static_cast<double>(n)); }
  void SetSyncsPending(uint64_t n) { syncs_pending_.Set(static_cast<double>(n)); }
  void AddGroupCheckpoints(uint64_t n) { group_checkpoints_.Increment(static_cast<double>(n)); }
  void AddCheckpointRecords(uint64_t n) { checkpoint_records_.Increment(static_cast<double>(n)); }
  void AddTargetCommits(uint64_t n) { target_commits_.Increment(static_cast<double>(n)); }
  void AddGroupSyncSkipped() { group_syncs_skipped_.Increment(); }
  void AddRunsPruned(uint64_t n) { runs_pruned_.Increment(static_cast<double>(n)); }
  void AddError(const std::string& kind);

 private:
  std::string flow_;
  prometheus::Counter& syncs_published_;
  prometheus::Gauge& syncs_pending_;
  prometheus::Counter& group_checkpoints_;
  prometheus::Counter& checkpoint_records_;
  prometheus::Counter& target_commits_;
  prometheus::Counter& group_syncs_skipped_;
  prometheus::Counter& runs_pruned_;
  prometheus::Family<prometheus::Counter>& errors_family_;
};

}  // namespace rm::offsets::kafka

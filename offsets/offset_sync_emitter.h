// Publishing the offset map as MirrorMaker 2 OffsetSync records, and rebuilding it from them.
//
// The publishing rule makes a rebuilt map identical to the original, run for run. A sync
// (u, d) states "source record u is at target d". Read in order per partition, consecutive
// syncs (u1, d1), (u2, d2) with u2 > u1 and u2 - u1 == d2 - d1 (same delta) mean every record
// between them was delivered contiguously: they are one run, unless the first one carries the
// "closes the run" mark (mm2::SyncMark::kClosesRun, a record header of ours). So the emitter
// publishes:
//
//   1. the first record of every run                              (s0, t0)
//   2. the last record of a run when the run ends, unless that was (s0+n-1, t0+n-1)
//      already the last sync published for the partition
//   3. when the next run has the SAME delta (a source gap matched  (s0+n-1, t0+n-1) close
//      by an equal target hole), that last record marked "close"
//      instead (a repeat when rule 2 did not publish it)
//   4. on FlushTail(), the last record of every run that grew      (s, t) of the newest record
//      since its last sync (so a rebuilt map reaches the newest mirrored record)
//
//   source   100 101 102 103 | 104 105 | 106 107 108 | 109 110 111
//   target    50  51  52  53 |         |  54  55  56 |  60  61  62
//   syncs    (100,50)  (103,53)close  (106,54)  (108,56) (109,60)   (111,62) on FlushTail
//             rule 1    rule 3        rule 1    rule 2   rule 1     rule 4
//
// MM2's own readers accept these syncs as they are (true pairs in increasing upstream order; a
// repeat is harmless to OffsetSyncStore; headers are ignored). Rebuilding needs the offset-syncs
// topic uncompacted (cleanup.policy=delete with retention at least the source's): MM2 creates
// its own offset-syncs topic compacted, which keeps only the newest sync per partition.
//
// Restarts. A kill -9 loses the syncs still in the producer's queue, and some of those the
// topic did acknowledge may be unknown to the map (acknowledgements are made durable with the
// next checkpoint: OffsetMap::NoteSyncedThrough). So a sync that repeats the previous one only
// restates it (the close mark, not the repetition, ends a run; syncs without our header follow
// the rule from before the mark existed: a repeat closes the run), and a restarted emitter
// first re-describes, for each partition it resumes, every durable run from the one holding
// the last sync known to be in the topic (Resume()), then goes on from the last run. Every
// sync describes a durable record (the publisher writes syncs only after a successful
// checkpoint), so what the topic lost is among what is re-described, and re-described syncs
// the topic already has are restatements: the rebuilt map is the original, run for run. A
// rebuild relies on one thing more: records between two syncs of the same delta with no close
// mark between were delivered (one writer per target partition and no duplicates in the
// target, invariant 2 of docs/architecture.md).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/offset_types.h"
#include "common/result.h"
#include "offsets/delivery_sink.h"
#include "offsets/mm2_format.h"
#include "offsets/offset_map.h"

namespace rm::offsets {

// Decides which deliveries become OffsetSync records (rules above). Pure: no I/O; the caller
// produces the returned syncs to the offset-syncs topic in the order given.
//
// Feed it the same reports as the OffsetMap (same order, same rejection rules: a report whose
// source or target does not advance is ignored). One emitter per flow (the OffsetSync key has
// no flow). Not thread-safe: the caller serializes calls.
class OffsetSyncEmitter {
 public:
  // Appends to `out` the syncs this delivery requires (zero to two).
  void OnDelivered(const PartitionKey& p, common::SourceOffset source, common::TargetOffset target,
                   std::vector<mm2::OffsetSync>* out);
  // Appends the newest record of every partition that grew since its last sync. Call it after
  // each successful OffsetMap::Checkpoint() (and at shutdown), so published syncs never run
  // ahead of what is durable.
  void FlushTail(std::vector<mm2::OffsetSync>* out);
  // A restarted process resumes partition p: `runs` are its durable runs from the one holding
  // the last sync known to be in the topic (all of them when none is known), in order.
  // Appends the syncs that describe them as rules 1 to 3 would have (see above) and continues
  // from the last one. Does nothing when p already has state here or `runs` is empty.
  void Resume(const PartitionKey& p, std::span<const Run> runs, std::vector<mm2::OffsetSync>* out);

  size_t partitions() const { return partitions_.size(); }

 private:
  struct PartitionState {
    Run run;  // the open run
    std::optional<DeliveredPosition> last_emitted;
  };
  static void Emit(const PartitionKey& p, PartitionState& ps, DeliveredPosition position,
                   mm2::SyncMark mark, std::vector<mm2::OffsetSync>* out);

  std::unordered_map<PartitionKey, PartitionState> partitions_;
};

struct RebuildStats {
  uint64_t syncs = 0;          // syncs read
  uint64_t stale_syncs = 0;    // at or below what the map already holds; skipped
  uint64_t invalid_syncs = 0;  // negative offsets or a target that does not advance; skipped
  uint64_t runs_appended = 0;  // AppendRun calls
};

// Rebuilds a flow's runs from OffsetSync records read in topic order (rules above). Streaming:
// Apply() each record, then Finish() makes the result durable. Records the map already covers
// are skipped, so a rebuild can resume from any point of the topic.
//
// Lifecycle: one rebuilder per flow and pass over the topic; `map` must outlive it. Threading:
// not thread-safe; the map must not be fed by a mirror for the same flow meanwhile.
class OffsetSyncRebuilder {
 public:
  OffsetSyncRebuilder(OffsetMap& map, std::string flow) : map_(map), flow_(std::move(flow)) {}

  common::Status Apply(const mm2::OffsetSync& sync);
  // Checkpoints the map.
  common::Status Finish();
  const RebuildStats& stats() const { return stats_; }

 private:
  struct PartitionState {
    std::optional<DeliveredPosition> last_sync;
    bool closed = false;                      // a close mark ended the current run
    std::optional<DeliveredPosition> mapped;  // last record the map holds
  };
  common::Status AppendRange(const PartitionKey& p, PartitionState& ps, DeliveredPosition from,
                             int64_t count);

  OffsetMap& map_;
  std::string flow_;
  std::unordered_map<PartitionKey, PartitionState> partitions_;
  RebuildStats stats_;
};

// Convenience: Apply every sync, then Finish().
common::Result<RebuildStats> RebuildFromOffsetSyncs(OffsetMap& map, const std::string& flow,
                                                    std::span<const mm2::OffsetSync> syncs);

}  // namespace rm::offsets

// OffsetMap: exact source -> target offset translation, stored in RocksDB as runs.
//
// A run is a maximal stretch of delivered records of one (flow, topic, partition) whose source
// offsets are consecutive AND whose target offsets are consecutive, so target - source (the
// delta) is constant inside it. One RocksDB entry per run:
//
//     key   (flow, topic, partition, s0)   big-endian, names length-prefixed
//     value (t0, n)                        maps source s in [s0, s0+n) to t0 + (s - s0)
//
//   source  | 100 101 102 103 | 104 105 | 106 107 108 | 109 110 111 |
//   record  |  m   m   m   m  |  x   x  |  m   m   m  |  m   m   m  |
//   target  |  50  51  52  53 |         |  54  55  56 |  60  61  62 |
//            `---- run A ----'    gap    `-- run B --' `-- run C --'
//            (100 -> 50, n=4)            (106 -> 54,3) (109 -> 60,3)
//                                        source gap    delta changes (target has 57..59
//                                                       from elsewhere), no source gap
//   m = delivered to the target, x = never delivered (compacted away, transaction marker,
//   filtered): a gap. A run ends where the source has a gap or the delta changes.
//
// Invariants, per partition, for consecutive runs A < B (enforced on every write):
//   1. A.s0 + A.n <= B.s0          runs never overlap in the source
//   2. A.t0 + A.n <= B.t0          targets grow with sources (the target is one ordered log)
//   3. not (A.s0 + A.n == B.s0 and A.t0 + A.n == B.t0)   contiguous runs are always merged
//   4. every (s, t) a run covers was reported through OnDelivered/AppendRun; the map never
//      claims a target offset that was not reported.
//
// Translation of a source position S, "the next offset a consumer would read" (a committed
// offset), is one SeekForPrev to the run R with R.s0 <= S, plus one Next() in the gap case:
//
//   case            condition                      target position              example
//   kExact          R.s0 <= S < R.s0 + R.n         R.t0 + (S - R.s0)            S=102 -> 52
//   kGap            R ends <= S, a next run N      min(N.t0, R.t0 + R.n)        S=104 -> 54
//   kBeyondEnd      R ends <= S, no next run       R.t0 + R.n (after the last)  S=112 -> 63
//   kBelowEarliest  no R: S < first run's s0       first run's t0               S=90  -> 50
//   kNoMapping      no run at all for the partition                             target = -1
//
// kGap answers the next mirrored record (N.t0). The min() only matters when the target holds
// offsets between R and N that the map does not know about (for example records delivered but
// not checkpointed before a crash, when the mirror did not re-report them per
// DeliverySink::LastDurable): the position right after R then re-reads those instead of
// skipping them. With a gap-free target the two are equal. kBelowEarliest covers both
// "pruned below the source log start" and "before the mirror started".
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/offset_types.h"
#include "common/result.h"
#include "offsets/delivery_sink.h"
#include "offsets/offset_store.h"

namespace rm::offsets {

// One run: `count` records at source [source_start, source_start + count) stored at target
// [target_start, target_start + count).
struct Run {
  common::SourceOffset source_start;
  common::TargetOffset target_start;
  int64_t count = 0;

  common::SourceOffset source_end() const { return source_start + count; }  // exclusive
  common::TargetOffset target_end() const { return target_start + count; }  // exclusive
  bool operator==(const Run&) const = default;
};

enum class TranslationKind { kExact, kGap, kBeyondEnd, kBelowEarliest, kNoMapping };
std::string_view ToString(TranslationKind kind);

struct TranslationResult {
  TranslationKind kind = TranslationKind::kNoMapping;
  // Where a consumer continues on the target; invalid (-1) for kNoMapping.
  common::TargetOffset target;

  bool operator==(const TranslationResult&) const = default;
};

// Selects runs for dumps. Unset fields match everything; `topic` and `partition` narrow the
// RocksDB scan only together with `flow` (the key order is flow, topic, partition).
struct RunFilter {
  std::optional<std::string> flow;
  std::optional<std::string> topic;
  std::optional<int32_t> partition;
};

struct PruneResult {
  int64_t runs_deleted = 0;
};

struct OffsetMapStats {
  uint64_t reports = 0;              // records accepted (OnDelivered calls + AppendRun counts)
  uint64_t duplicate_reports = 0;    // re-reports of an identical mapping, ignored
  uint64_t rejected_reports = 0;     // out of order or inconsistent, not stored
  uint64_t runs_started = 0;         // runs opened (a gap or a delta change)
  uint64_t run_entries_written = 0;  // run puts in checkpoint batches
  uint64_t checkpoints = 0;          // successful Checkpoint() calls
  uint64_t runs_pruned = 0;
};

// The offset map of every flow in one OffsetStore, and the writer that builds it from delivery
// reports.
//
// Lifecycle: construct over an open OffsetStore (which must outlive it); the mirror reports
// deliveries and calls Checkpoint() periodically and before it commits source offsets.
// Destroying the map drops whatever was reported since the last Checkpoint() (by design: that
// is what a crash does too; see DeliverySink::LastDurable for how the mirror recovers it).
// One OffsetMap per store: two writers over one store would interleave runs.
//
// Persistence: the `runs` column family (one entry per run, layout above) and, in `state`,
// the prune floor and the fresh-start floor (DeliverySink::MarkFreshStart) per partition. Reports
// are batched in memory; Checkpoint() writes the closed runs and the current (open) run of every
// changed partition in one WriteBatch with sync=true, so after kill -9 every run acknowledged by a
// successful Checkpoint() is intact and nothing unreported appears. A run that is still growing is
// rewritten in place (same key, longer count) at each checkpoint.
//
// Reads (Translate, ForEachRun, LastDurable) see only what is durable, i.e. the state as of
// the last successful Checkpoint(): a translation never points past what survives a crash.
//
// Threading: every method is safe to call concurrently. OnDelivered takes a short mutex (no
// I/O except once per partition, to load its last durable run); Checkpoint() and Prune()
// serialize with each other and do their I/O outside that mutex, so reporting does not wait
// for an fsync. Reads go straight to RocksDB.
class OffsetMap final : public DeliverySink {
 public:
  explicit OffsetMap(OffsetStore& store);
  ~OffsetMap() override;
  OffsetMap(const OffsetMap&) = delete;
  OffsetMap& operator=(const OffsetMap&) = delete;

  // DeliverySink. A report that breaks the order contract (source not above the last one
  // reported, or target not above the last target) is not stored; it is counted in
  // stats().rejected_reports and the next Checkpoint() returns "offsets.rejected_report" after
  // persisting everything valid. Re-reporting a record already mapped identically is ignored.
  void OnDelivered(const PartitionKey& p, common::SourceOffset source,
                   common::TargetOffset target) override;
  common::Status Checkpoint() override;
  common::Result<std::optional<DeliveredPosition>> LastDurable(const PartitionKey& p) override;
  // Stored in `state`, durable on return (sync write).
  common::Status MarkFreshStart(const PartitionKey& p, common::TargetOffset floor) override;
  common::Result<std::optional<common::TargetOffset>> FreshStartFloor(
      const PartitionKey& p) override;

  // Reports `run.count` consecutive delivered records at once (rebuild, bulk loads). Same
  // rules as OnDelivered, but a violation is returned here instead of at Checkpoint().
  common::Status AppendRun(const PartitionKey& p, const Run& run);

  // The durable runs of p from the last one that starts at or before source offset `from` (the
  // first run when none does) to the last, in order; every run when `from` is nullopt. Lets a
  // restarted publisher re-describe what its predecessor may not have published.
  common::Result<std::vector<Run>> DurableRunsFrom(const PartitionKey& p,
                                                   std::optional<common::SourceOffset> from) const;

  // "The offset-syncs topic holds every sync of p up to the one for source offset `source`"
  // (OffsetSyncPublisher, from the topic's acknowledgements). Kept in memory and made durable
  // by the next Checkpoint(), so it may lag behind the topic but is never ahead of it.
  void NoteSyncedThrough(const PartitionKey& p, common::SourceOffset source);
  // The durable value of NoteSyncedThrough (nullopt: none recorded).
  common::Result<std::optional<common::SourceOffset>> SyncedThrough(const PartitionKey& p) const;

  // The last record reported for p, durable or not (nullopt: none).
  common::Result<std::optional<DeliveredPosition>> LastReported(const PartitionKey& p);

  // Translates a source position (see the table above). Errors only for invalid arguments or
  // a failing/corrupt store.
  common::Result<TranslationResult> Translate(const PartitionKey& p,
                                              common::SourceOffset position) const;

  // Deletes the runs of p that end at or below `log_start` (the source log start offset: the
  // first offset still on the source). The run containing log_start is kept, and so is the
  // last run of the partition, so positions at or beyond log_start translate as before.
  // Durable on return.
  common::Result<PruneResult> Prune(const PartitionKey& p, common::SourceOffset log_start);

  // The highest log start p was pruned to (nullopt: never pruned).
  common::Result<std::optional<common::SourceOffset>> PruneFloor(const PartitionKey& p) const;

  // Calls `visit` for every durable run matching `filter`, in key order (flow, topic,
  // partition, source offset), until it returns false.
  common::Status ForEachRun(
      const RunFilter& filter,
      const std::function<bool(const PartitionKey&, const Run&)>& visit) const;

  OffsetMapStats stats() const;

 private:
  struct PartitionState {
    std::string prefix;  // encoded (flow, topic, partition)
    bool loaded = false;
    std::optional<Run> open;  // the last run reported; may be partly durable
    bool dirty = false;       // `open` changed since the last checkpoint batch
  };
  // A run entry waiting for the next checkpoint batch.
  struct PendingRun {
    PartitionState* state;
    Run run;
  };
  enum class AppendOutcome { kAppended, kDuplicate, kRejected };

  common::Result<PartitionState*> StateLocked(const PartitionKey& p);
  AppendOutcome AppendLocked(PartitionState& ps, const Run& run, std::string* why);
  common::Result<std::optional<Run>> ReadLastRun(std::string_view prefix) const;

  OffsetStore& store_;
  std::mutex checkpoint_mu_;  // serializes Checkpoint() and Prune(); taken before mu_
  mutable std::mutex mu_;
  std::unordered_map<PartitionKey, PartitionState> partitions_;
  std::vector<PendingRun> closed_;      // runs closed since the last checkpoint batch
  std::vector<PartitionState*> dirty_;  // partitions whose open run changed
  // NoteSyncedThrough values for the next checkpoint batch, by partition prefix.
  std::unordered_map<std::string, common::SourceOffset> synced_through_;
  uint64_t rejected_since_checkpoint_ = 0;
  std::string first_rejection_;
  OffsetMapStats stats_;
};

}  // namespace rm::offsets

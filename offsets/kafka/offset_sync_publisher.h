// OffsetSyncPublisher: a flow's view of the shared offset map. It is the DeliverySink the flow
// reports to, and on the way it turns the same reports into MirrorMaker 2 OffsetSync records
// (offsets::OffsetSyncEmitter decides which) and publishes them to the offset-syncs topic on the
// target once they are durable in the map.
//
//   flow thread:  OnDelivered(p, s, t) ──► OffsetMap::OnDelivered        (batched in memory)
//                                     └──► OffsetSyncEmitter ─► pending syncs
//                 Checkpoint()        ──► OffsetMap::Checkpoint (fsync)
//                                     └──► on success: FlushTail, write pending syncs to
//                                          mm2-offset-syncs.<source>.internal, partition 0
//
// Publishing inside Checkpoint() is the "after a successful checkpoint" hook: a sync never
// describes a record the map could lose in a crash, so a map rebuilt from the topic never
// claims more than the original did. Syncs wait (in order) while the topic is not ready
// (SetTopicReady() not called yet, or the producer's queue is full).
//
// Resume syncs: a kill -9 loses the syncs still in the producer's queue (the map has their
// runs: they were durable before they were written). So the first time this process resumes
// a partition that has durable runs (the flow's LastDurable() call on assignment), the emitter
// re-describes every durable run from the last sync the topic is known to hold (the map's
// SyncedThrough, which Checkpoint() advances from the writer's acknowledgements) before
// anything new (OffsetSyncEmitter::Resume). A rebuild skips what it already has and takes a
// repeated sync as a restatement, so it recovers every sync the previous process lost.
//
// It also collects the source log start offsets the flow reports (OffsetsFlowHooks), for the
// group checkpointer's thread to prune the map with (TakeLogStarts): pruning is an fsync'd
// RocksDB write and stays off the data path.
//
// Lifecycle: one per flow for the life of the process (a flow rebuilt after an error reuses it;
// its emitter then sees re-reports of records it already has and ignores them, exactly as the
// map does). Threading: the DeliverySink and OffsetsFlowHooks methods are called by one flow
// thread at a time; SetTopicReady, TakeLogStarts and stats are safe from any thread; Finish is
// called after the flow thread stopped.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <unordered_set>
#include <vector>

#include "offsets/flow_hooks.h"
#include "offsets/kafka/internal_topics.h"
#include "offsets/kafka/probe.h"
#include "offsets/offset_map.h"
#include "offsets/offset_sync_emitter.h"

namespace rm::offsets::kafka {

struct OffsetSyncPublisherStats {
  uint64_t syncs_published = 0;  // handed to the writer
  uint64_t syncs_pending = 0;    // waiting for the topic or for queue space
  uint64_t syncs_dropped = 0;    // over the pending cap (see OffsetSyncPublisher)
};

class OffsetSyncPublisher final : public offsets::DeliverySink, public OffsetsFlowHooks {
 public:
  // Pending syncs above this are dropped (logged, counted) rather than growing memory without
  // bound while the target refuses them; a rebuild from the topic then shows a gap there, which
  // translates conservatively (re-reads). Syncs are a few per run, so the cap is far away.
  static constexpr size_t kMaxPendingSyncs = 1'000'000;

  // `map` (shared by every flow) and `writer` must outlive the publisher. `writer` null: syncs
  // are not emitted (offsets.emit_syncs: false); the publisher is then only the map's sink.
  // `probe` may be null (no metrics).
  OffsetSyncPublisher(offsets::OffsetMap& map, std::string flow, std::string syncs_topic,
                      RecordWriter* writer, OffsetsProbe* probe = nullptr);

  // offsets::DeliverySink
  void OnDelivered(const offsets::PartitionKey& p, common::SourceOffset source,
                   common::TargetOffset target) override;
  common::Status Checkpoint() override;
  common::Result<std::optional<offsets::DeliveredPosition>> LastDurable(
      const offsets::PartitionKey& p) override;
  common::Status MarkFreshStart(const offsets::PartitionKey& p,
                                common::TargetOffset floor) override {
    return map_.MarkFreshStart(p, floor);
  }
  common::Result<std::optional<common::TargetOffset>> FreshStartFloor(
      const offsets::PartitionKey& p) override {
    return map_.FreshStartFloor(p);
  }

  // OffsetsFlowHooks
  void OnSourceLogStart(const offsets::PartitionKey& p, common::SourceOffset log_start) override;

  // The offset-syncs topic exists: syncs may be written from the next Checkpoint() on.
  void SetTopicReady() { topic_ready_.store(true); }
  // Log start offsets reported since the last call, the newest per partition.
  std::vector<std::pair<offsets::PartitionKey, common::SourceOffset>> TakeLogStarts();
  OffsetSyncPublisherStats stats() const;
  const std::string& flow() const { return flow_; }

 private:
  void Publish();

  offsets::OffsetMap& map_;
  const std::string flow_;
  const std::string topic_;
  RecordWriter* writer_;
  OffsetsProbe* probe_;
  offsets::OffsetSyncEmitter emitter_;
  // Syncs not yet written, in emission order. All of them describe durable records right after
  // a successful checkpoint (the flow reports and checkpoints on one thread).
  std::vector<offsets::mm2::OffsetSync> pending_;
  std::unordered_set<offsets::PartitionKey> resumed_;  // resume syncs emitted for these
  // Syncs written and not yet acknowledged, in writing order (the topic acknowledges them in
  // that order), and how many were written in all.
  uint64_t acknowledged_base_ = 0;  // the writer's count for the topic before this publisher
  uint64_t written_ = 0;
  std::deque<std::pair<offsets::PartitionKey, common::SourceOffset>> unacknowledged_;
  std::atomic<bool> topic_ready_{false};
  std::atomic<uint64_t> published_{0};
  std::atomic<uint64_t> pending_count_{0};
  std::atomic<uint64_t> dropped_{0};

  std::mutex log_start_mu_;
  std::map<std::pair<std::string, int32_t>, common::SourceOffset> log_starts_;
};

}  // namespace rm::offsets::kafka

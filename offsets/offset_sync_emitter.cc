#include "offsets/offset_sync_emitter.h"

#include "common/log.h"

namespace rm::offsets {

using common::SourceOffset;
using common::TargetOffset;

namespace {

bool SameDelta(const Run& a, const Run& b) {
  return a.target_start.value() - a.source_start.value() ==
         b.target_start.value() - b.source_start.value();
}

}  // namespace

void OffsetSyncEmitter::Emit(const PartitionKey& p, PartitionState& ps, DeliveredPosition position,
                             mm2::SyncMark mark, std::vector<mm2::OffsetSync>* out) {
  out->push_back(mm2::OffsetSync{p.topic, p.partition, position.source, position.target, mark});
  ps.last_emitted = position;
}

void OffsetSyncEmitter::OnDelivered(const PartitionKey& p, SourceOffset source, TargetOffset target,
                                    std::vector<mm2::OffsetSync>* out) {
  if (!source.valid() || !target.valid()) return;
  auto found = partitions_.find(p);
  if (found == partitions_.end()) {
    auto& ps = partitions_[p];
    ps.run = Run{source, target, 1};
    Emit(p, ps, {source, target}, mm2::SyncMark::kRun, out);  // rule 1
    return;
  }
  PartitionState& ps = found->second;
  Run& run = ps.run;
  if (source < run.source_end() || target < run.target_end()) return;  // the map rejects it too
  if (source == run.source_end() && target == run.target_end()) {
    ++run.count;
    return;
  }
  const DeliveredPosition end{run.source_end() - 1, run.target_end() - 1};
  const Run next{source, target, 1};
  if (SameDelta(run, next)) {
    Emit(p, ps, end, mm2::SyncMark::kClosesRun, out);  // rule 3
  } else if (ps.last_emitted != end) {
    Emit(p, ps, end, mm2::SyncMark::kRun, out);  // rule 2
  }
  run = next;
  Emit(p, ps, {source, target}, mm2::SyncMark::kRun, out);  // rule 1
}

void OffsetSyncEmitter::FlushTail(std::vector<mm2::OffsetSync>* out) {
  for (auto& [p, ps] : partitions_) {
    const DeliveredPosition end{ps.run.source_end() - 1, ps.run.target_end() - 1};
    if (ps.last_emitted != end) Emit(p, ps, end, mm2::SyncMark::kRun, out);  // rule 4
  }
}

void OffsetSyncEmitter::Resume(const PartitionKey& p, std::span<const Run> runs,
                               std::vector<mm2::OffsetSync>* out) {
  if (runs.empty() || partitions_.count(p)) return;
  PartitionState& ps = partitions_[p];
  // What rules 1 to 3 would have published for these runs: each run's start and end, the end
  // marked "close" when the next run has the same delta.
  for (size_t i = 0; i < runs.size(); ++i) {
    const Run& run = runs[i];
    const auto end_mark = i + 1 < runs.size() && SameDelta(run, runs[i + 1])
                              ? mm2::SyncMark::kClosesRun
                              : mm2::SyncMark::kRun;
    if (run.count == 1) {
      Emit(p, ps, {run.source_start, run.target_start}, end_mark, out);
    } else {
      Emit(p, ps, {run.source_start, run.target_start}, mm2::SyncMark::kRun, out);
      Emit(p, ps, {run.source_end() - 1, run.target_end() - 1}, end_mark, out);
    }
  }
  ps.run = runs.back();
}

common::Status OffsetSyncRebuilder::AppendRange(const PartitionKey& p, PartitionState& ps,
                                                DeliveredPosition from, int64_t count) {
  if (ps.mapped && from.source <= ps.mapped->source) {
    const int64_t known = ps.mapped->source - from.source + 1;
    if (known >= count) {
      ++stats_.stale_syncs;
      return common::Status::Ok();
    }
    from = {from.source + known, from.target + known};
    count -= known;
  }
  auto s = map_.AppendRun(p, Run{from.source, from.target, count});
  if (!s.ok()) {
    if (s.error().code != "offsets.rejected_report") return s;
    if (stats_.invalid_syncs++ == 0) {
      RM_LOG_WARN("offsets: rebuild skips an inconsistent offset sync: {}", s.error().message);
    }
    return common::Status::Ok();
  }
  ++stats_.runs_appended;
  ps.mapped = DeliveredPosition{from.source + (count - 1), from.target + (count - 1)};
  return common::Status::Ok();
}

common::Status OffsetSyncRebuilder::Apply(const mm2::OffsetSync& sync) {
  ++stats_.syncs;
  if (!sync.upstream_offset.valid() || !sync.downstream_offset.valid() || sync.partition < 0) {
    ++stats_.invalid_syncs;
    return common::Status::Ok();
  }
  PartitionKey p{flow_, sync.topic, sync.partition};
  auto found = partitions_.find(p);
  if (found == partitions_.end()) {
    auto mapped = map_.LastReported(p);
    if (!mapped.ok()) return mapped.error();
    found = partitions_.emplace(p, PartitionState{}).first;
    found->second.mapped = *mapped;
  }
  PartitionState& ps = found->second;
  const DeliveredPosition position{sync.upstream_offset, sync.downstream_offset};

  if (ps.last_sync == position) {
    // A restatement (a restarted emitter re-describing its runs), unless marked "close"; syncs
    // without our header follow the rule from before the mark: a repeat closes the run.
    if (sync.mark != mm2::SyncMark::kRun) ps.closed = true;
    return common::Status::Ok();
  }
  if (ps.last_sync && position.source <= ps.last_sync->source) {
    ++stats_.stale_syncs;  // out of order: nothing an emitter of ours produces
    return common::Status::Ok();
  }
  const bool extends =
      ps.last_sync && !ps.closed &&
      position.source - ps.last_sync->source == position.target - ps.last_sync->target;
  const DeliveredPosition from =
      extends ? DeliveredPosition{ps.last_sync->source + 1, ps.last_sync->target + 1} : position;
  const int64_t count = position.source - from.source + 1;
  ps.last_sync = position;
  ps.closed = sync.mark == mm2::SyncMark::kClosesRun;
  return AppendRange(p, ps, from, count);
}

common::Status OffsetSyncRebuilder::Finish() { return map_.Checkpoint(); }

common::Result<RebuildStats> RebuildFromOffsetSyncs(OffsetMap& map, const std::string& flow,
                                                    std::span<const mm2::OffsetSync> syncs) {
  OffsetSyncRebuilder rebuilder(map, flow);
  for (const auto& sync : syncs) {
    if (auto s = rebuilder.Apply(sync); !s.ok()) return s.error();
  }
  if (auto s = rebuilder.Finish(); !s.ok()) return s.error();
  return rebuilder.stats();
}

}  // namespace rm::offsets

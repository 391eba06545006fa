#include "offsets/offset_map.h"

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <limits>
#include <memory>

#include "common/log.h"
#include "offsets/detail/key_codec.h"
#include "offsets/detail/rocksdb_handles.h"
#include "offsets/detail/rocksdb_status.h"

namespace rm::offsets {

using common::Error;
using common::Result;
using common::SourceOffset;
using common::Status;
using common::TargetOffset;

namespace {

// An iterator confined to the keys starting with `prefix`. Owns the bound strings, which
// RocksDB reads by pointer for the iterator's lifetime.
class PrefixIterator {
 public:
  PrefixIterator(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string prefix)
      : lower_(std::move(prefix)), upper_(detail::PrefixSuccessor(lower_)) {
    lower_slice_ = rocksdb::Slice(lower_);
    upper_slice_ = rocksdb::Slice(upper_);
    rocksdb::ReadOptions ro;
    ro.iterate_lower_bound = &lower_slice_;
    if (!upper_.empty()) ro.iterate_upper_bound = &upper_slice_;
    it_.reset(db->NewIterator(ro, cf));
  }
  rocksdb::Iterator* operator->() { return it_.get(); }
  rocksdb::Iterator& operator*() { return *it_; }

 private:
  std::string lower_;
  std::string upper_;
  rocksdb::Slice lower_slice_;
  rocksdb::Slice upper_slice_;
  std::unique_ptr<rocksdb::Iterator> it_;
};

Result<Run> RunAt(rocksdb::Iterator& it) {
  Run run;
  PartitionKey ignored;
  const auto key = it.key();
  const auto value = it.value();
  if (!detail::DecodeRunKey(std::string_view(key.data(), key.size()), &ignored,
                            &run.source_start) ||
      !detail::DecodeRunValue(std::string_view(value.data(), value.size()), &run.target_start,
                              &run.count)) {
    return detail::Corruption("malformed run entry in offsets store (key " +
                              key.ToString(/*hex=*/true) + ")");
  }
  return run;
}

Status ValidateOffsets(const PartitionKey& p, const Run& run) {
  if (!run.source_start.valid() || !run.target_start.valid() || run.count <= 0 ||
      run.source_start.value() > std::numeric_limits<int64_t>::max() - run.count ||
      run.target_start.value() > std::numeric_limits<int64_t>::max() - run.count) {
    return Error{"offsets.invalid_argument",
                 "invalid run for " + p.topic + "/" + std::to_string(p.partition) + ": source " +
                     std::to_string(run.source_start.value()) + " target " +
                     std::to_string(run.target_start.value()) + " count " +
                     std::to_string(run.count)};
  }
  return Status::Ok();
}

std::string Describe(const PartitionKey& p) {
  return p.flow + ":" + p.topic + "/" + std::to_string(p.partition);
}

}  // namespace

std::string_view ToString(TranslationKind kind) {
  switch (kind) {
    case TranslationKind::kExact:
      return "exact";
    case TranslationKind::kGap:
      return "gap";
    case TranslationKind::kBeyondEnd:
      return "beyond_end";
    case TranslationKind::kBelowEarliest:
      return "below_earliest";
    case TranslationKind::kNoMapping:
      return "no_mapping";
  }
  return "unknown";
}

OffsetMap::OffsetMap(OffsetStore& store) : store_(store) {}

OffsetMap::~OffsetMap() = default;

Result<std::optional<Run>> OffsetMap::ReadLastRun(std::string_view prefix) const {
  PrefixIterator it(store_.rocks().db(), store_.rocks().runs, std::string(prefix));
  it->SeekForPrev(detail::RunKey(prefix, SourceOffset(std::numeric_limits<int64_t>::max())));
  if (!it->Valid()) {
    if (!it->status().ok()) return detail::RocksError("read last run", it->status());
    return std::optional<Run>();
  }
  auto run = RunAt(*it);
  if (!run.ok()) return run.error();
  return std::optional<Run>(*run);
}

Result<OffsetMap::PartitionState*> OffsetMap::StateLocked(const PartitionKey& p) {
  auto found = partitions_.find(p);
  if (found == partitions_.end()) {
    if (auto s = detail::ValidatePartitionKey(p); !s.ok()) return s.error();
    found = partitions_.emplace(p, PartitionState{}).first;
    found->second.prefix = detail::PartitionPrefix(p);
  }
  PartitionState& ps = found->second;
  if (!ps.loaded) {
    // Continue the last durable run after a restart instead of starting a new entry, and
    // enforce the order contract against what is already stored.
    auto last = ReadLastRun(ps.prefix);
    if (!last.ok()) return last.error();
    ps.open = *last;
    ps.loaded = true;
  }
  return &ps;
}

OffsetMap::AppendOutcome OffsetMap::AppendLocked(PartitionState& ps, const Run& run,
                                                 std::string* why) {
  if (ps.open) {
    Run& open = *ps.open;
    if (run.source_start < open.source_end()) {
      const bool inside =
          run.source_start >= open.source_start && run.source_end() <= open.source_end() &&
          run.target_start == open.target_start + (run.source_start - open.source_start);
      if (inside) return AppendOutcome::kDuplicate;
      *why = "source offset " + std::to_string(run.source_start.value()) + " reported after " +
             std::to_string(open.source_end().value() - 1);
      return AppendOutcome::kRejected;
    }
    if (run.target_start < open.target_end()) {
      *why = "target offset " + std::to_string(run.target_start.value()) +
             " does not advance past " + std::to_string(open.target_end().value() - 1);
      return AppendOutcome::kRejected;
    }
    if (run.source_start == open.source_end() && run.target_start == open.target_end()) {
      open.count += run.count;
    } else {
      // A gap or a delta change closes the open run. Its final length must reach the store
      // only if it changed since the last batch (a durable, unchanged run is already right).
      if (ps.dirty) closed_.push_back({&ps, open});
      open = run;
      ++stats_.runs_started;
    }
  } else {
    ps.open = run;
    ++stats_.runs_started;
  }
  if (!ps.dirty) {
    ps.dirty = true;
    dirty_.push_back(&ps);
  }
  stats_.reports += static_cast<uint64_t>(run.count);
  return AppendOutcome::kAppended;
}

void OffsetMap::OnDelivered(const PartitionKey& p, SourceOffset source, TargetOffset target) {
  const Run run{source, target, 1};
  std::lock_guard lock(mu_);
  std::string why;
  auto outcome = AppendOutcome::kRejected;
  if (auto s = ValidateOffsets(p, run); !s.ok()) {
    why = s.error().message;
  } else if (auto state = StateLocked(p); !state.ok()) {
    why = state.error().message;
  } else {
    outcome = AppendLocked(**state, run, &why);
  }
  if (outcome == AppendOutcome::kDuplicate) {
    ++stats_.duplicate_reports;
  } else if (outcome == AppendOutcome::kRejected) {
    ++stats_.rejected_reports;
    if (rejected_since_checkpoint_++ == 0) {
      first_rejection_ = Describe(p) + ": " + why;
      RM_LOG_WARN("offsets: rejected delivery report {}", first_rejection_);
    }
  }
}

Status OffsetMap::AppendRun(const PartitionKey& p, const Run& run) {
  if (auto s = ValidateOffsets(p, run); !s.ok()) return s;
  std::lock_guard lock(mu_);
  auto state = StateLocked(p);
  if (!state.ok()) return state.error();
  std::string why;
  switch (AppendLocked(**state, run, &why)) {
    case AppendOutcome::kAppended:
      return Status::Ok();
    case AppendOutcome::kDuplicate:
      stats_.duplicate_reports += static_cast<uint64_t>(run.count);
      return Status::Ok();
    case AppendOutcome::kRejected:
      stats_.rejected_reports += static_cast<uint64_t>(run.count);
      break;
  }
  return Error{"offsets.rejected_report", Describe(p) + ": " + why};
}

Status OffsetMap::Checkpoint() {
  std::lock_guard checkpoint_lock(checkpoint_mu_);
  rocksdb::WriteBatch batch;
  std::vector<PendingRun> entries;  // what the batch holds, to put back if the write fails
  uint64_t rejected = 0;
  std::string rejection;
  std::unordered_map<std::string, SourceOffset> synced;
  {
    std::lock_guard lock(mu_);
    synced.swap(synced_through_);
    for (const auto& [prefix, source] : synced) {
      std::string value;
      detail::PutU64(&value, static_cast<uint64_t>(source.value()));
      batch.Put(store_.rocks().state, detail::SyncedThroughKey(prefix), value)
          .PermitUncheckedError();
    }
    entries.swap(closed_);
    for (auto* ps : dirty_) {
      ps->dirty = false;
      if (ps->open) entries.push_back({ps, *ps->open});
    }
    dirty_.clear();
    for (const auto& entry : entries) {
      // WriteBatch::Put into memory only fails past 4 GiB of batch.
      batch
          .Put(store_.rocks().runs, detail::RunKey(entry.state->prefix, entry.run.source_start),
               detail::RunValue(entry.run.target_start, entry.run.count))
          .PermitUncheckedError();
    }
    rejected = rejected_since_checkpoint_;
    rejection = std::move(first_rejection_);
    rejected_since_checkpoint_ = 0;
    first_rejection_.clear();
  }

  if (batch.Count() > 0) {
    rocksdb::WriteOptions wo;
    wo.sync = true;
    const auto s = store_.rocks().db()->Write(wo, &batch);
    if (!s.ok()) {
      // Put the entries back in front so the next checkpoint retries them; anything reported
      // meanwhile is queued after them and, for the same key, is newer and wins.
      std::lock_guard lock(mu_);
      closed_.insert(closed_.begin(), entries.begin(), entries.end());
      for (const auto& [prefix, source] : synced) {
        auto& noted = synced_through_[prefix];
        noted = std::max(noted, source);
      }
      if (rejected_since_checkpoint_ == 0) first_rejection_ = rejection;
      rejected_since_checkpoint_ += rejected;
      return detail::RocksError("write offset map checkpoint", s);
    }
  }
  {
    std::lock_guard lock(mu_);
    stats_.run_entries_written += batch.Count() - static_cast<uint32_t>(synced.size());
    ++stats_.checkpoints;
  }
  if (rejected > 0) {
    return Error{"offsets.rejected_report",
                 std::to_string(rejected) +
                     " delivery report(s) broke the order contract and were not stored; first: " +
                     rejection};
  }
  return Status::Ok();
}

Result<std::optional<DeliveredPosition>> OffsetMap::LastDurable(const PartitionKey& p) {
  if (auto s = detail::ValidatePartitionKey(p); !s.ok()) return s.error();
  auto last = ReadLastRun(detail::PartitionPrefix(p));
  if (!last.ok()) return last.error();
  if (!*last) return std::optional<DeliveredPosition>();
  return std::optional<DeliveredPosition>(
      DeliveredPosition{(*last)->source_end() - 1, (*last)->target_end() - 1});
}

Status OffsetMap::MarkFreshStart(const PartitionKey& p, TargetOffset floor) {
  if (auto s = detail::ValidatePartitionKey(p); !s.ok()) return s;
  if (!floor.valid()) {
    return Error{"offsets.invalid_argument", "negative fresh-start floor for " + Describe(p)};
  }
  std::string value;
  detail::PutU64(&value, static_cast<uint64_t>(floor.value()));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return detail::ToStatus(
      "record the fresh start of " + Describe(p),
      store_.rocks().db()->Put(wo, store_.rocks().state,
                               detail::FreshStartKey(detail::PartitionPrefix(p)), value));
}

Result<std::optional<TargetOffset>> OffsetMap::FreshStartFloor(const PartitionKey& p) {
  if (auto s = detail::ValidatePartitionKey(p); !s.ok()) return s.error();
  std::string value;
  auto s = store_.rocks().db()->Get(rocksdb::ReadOptions(), store_.rocks().state,
                                    detail::FreshStartKey(detail::PartitionPrefix(p)), &value);
  if (s.IsNotFound()) return std::optional<TargetOffset>();
  if (!s.ok()) return detail::RocksError("read fresh-start floor", s);
  detail::Reader r(value);
  uint64_t floor = 0;
  if (!r.GetU64(&floor) || !r.empty() ||
      floor > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return detail::Corruption("malformed fresh-start floor for " + Describe(p));
  }
  return std::optional<TargetOffset>(TargetOffset(static_cast<int64_t>(floor)));
}

Result<std::vector<Run>> OffsetMap::DurableRunsFrom(const PartitionKey& p,
                                                    std::optional<SourceOffset> from) const {
  if (auto s = detail::ValidatePartitionKey(p); !s.ok()) return s.error();
  const std::string prefix = detail::PartitionPrefix(p);
  PrefixIterator it(store_.rocks().db(), store_.rocks().runs, prefix);
  if (from) {
    it->SeekForPrev(detail::RunKey(prefix, *from));  // the run holding `from`, if any
    if (!it->Valid()) it->Seek(detail::RunKey(prefix, *from));
  } else {
    it->SeekToFirst();
  }
  std::vector<Run> runs;
  for (; it->Valid(); it->Next()) {
    auto run = RunAt(*it);
    if (!run.ok()) return run.error();
    runs.push_back(*run);
  }
  if (!it->status().ok()) return detail::RocksError("read durable runs", it->status());
  return runs;
}

void OffsetMap::NoteSyncedThrough(const PartitionKey& p, SourceOffset source) {
  if (!detail::ValidatePartitionKey(p).ok() || !source.valid()) return;
  std::lock_guard lock(mu_);
  auto& noted = synced_through_[detail::PartitionPrefix(p)];
  noted = std::max(noted, source);
}

Result<std::optional<SourceOffset>> OffsetMap::SyncedThrough(const PartitionKey& p) const {
  if (auto s = detail::ValidatePartitionKey(p); !s.ok()) return s.error();
  std::string value;
  auto s = store_.rocks().db()->Get(rocksdb::ReadOptions(), store_.rocks().state,
                                    detail::SyncedThroughKey(detail::PartitionPrefix(p)), &value);
  if (s.IsNotFound()) return std::optional<SourceOffset>();
  if (!s.ok()) return detail::RocksError("read synced-through offset", s);
  detail::Reader r(value);
  uint64_t source = 0;
  if (!r.GetU64(&source) || !r.empty() ||
      source > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return detail::Corruption("malformed synced-through offset for " + Describe(p));
  }
  return std::optional<SourceOffset>(SourceOffset(static_cast<int64_t>(source)));
}

Result<std::optional<DeliveredPosition>> OffsetMap::LastReported(const PartitionKey& p) {
  std::lock_guard lock(mu_);
  auto state = StateLocked(p);
  if (!state.ok()) return state.error();
  const auto& open = (*state)->open;
  if (!open) return std::optional<DeliveredPosition>();
  return std::optional<DeliveredPosition>(
      DeliveredPosition{open->source_end() - 1, open->target_end() - 1});
}

Result<TranslationResult> OffsetMap::Translate(const PartitionKey& p, SourceOffset position) const {
  if (auto s = detail::ValidatePartitionKey(p); !s.ok()) return s.error();
  if (!position.valid()) {
    return Error{"offsets.invalid_argument", "cannot translate negative source position " +
                                                 std::to_string(position.value()) + " for " +
                                                 Describe(p)};
  }
  const std::string prefix = detail::PartitionPrefix(p);
  PrefixIterator it(store_.rocks().db(), store_.rocks().runs, prefix);
  it->SeekForPrev(detail::RunKey(prefix, position));
  if (!it->Valid()) {
    if (!it->status().ok()) return detail::RocksError("translate", it->status());
    it->SeekToFirst();  // bounded to the partition's keys
    if (!it->Valid()) {
      if (!it->status().ok()) return detail::RocksError("translate", it->status());
      return TranslationResult{TranslationKind::kNoMapping, TargetOffset()};
    }
    auto first = RunAt(*it);
    if (!first.ok()) return first.error();
    return TranslationResult{TranslationKind::kBelowEarliest, first->target_start};
  }
  auto run = RunAt(*it);
  if (!run.ok()) return run.error();
  if (position < run->source_end()) {
    return TranslationResult{TranslationKind::kExact,
                             run->target_start + (position - run->source_start)};
  }
  it->Next();
  if (!it->Valid()) {
    if (!it->status().ok()) return detail::RocksError("translate", it->status());
    return TranslationResult{TranslationKind::kBeyondEnd, run->target_end()};
  }
  auto next = RunAt(*it);
  if (!next.ok()) return next.error();
  return TranslationResult{TranslationKind::kGap, std::min(next->target_start, run->target_end())};
}

Result<PruneResult> OffsetMap::Prune(const PartitionKey& p, SourceOffset log_start) {
  if (auto s = detail::ValidatePartitionKey(p); !s.ok()) return s.error();
  if (!log_start.valid()) {
    return Error{"offsets.invalid_argument", "negative log start offset for " + Describe(p)};
  }
  std::lock_guard checkpoint_lock(checkpoint_mu_);
  const std::string prefix = detail::PartitionPrefix(p);
  {
    // Closed runs not yet written would come back at the next checkpoint.
    std::lock_guard lock(mu_);
    std::erase_if(closed_, [&](const PendingRun& c) {
      return c.state->prefix == prefix && c.run.source_end() <= log_start &&
             !(c.state->open && c.state->open->source_start == c.run.source_start);
    });
  }

  rocksdb::WriteBatch batch;
  PruneResult result;
  {
    PrefixIterator it(store_.rocks().db(), store_.rocks().runs, prefix);
    std::string pending_delete;  // held back one step: the last run is never deleted
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      auto run = RunAt(*it);
      if (!run.ok()) return run.error();
      if (run->source_end() > log_start) break;
      if (!pending_delete.empty()) {
        batch.Delete(store_.rocks().runs, pending_delete).PermitUncheckedError();
        ++result.runs_deleted;
      }
      pending_delete = it->key().ToString();
    }
    if (!it->status().ok()) return detail::RocksError("prune scan", it->status());
    if (it->Valid() && !pending_delete.empty()) {  // a later run exists: this one may go too
      batch.Delete(store_.rocks().runs, pending_delete).PermitUncheckedError();
      ++result.runs_deleted;
    }
  }

  auto floor = PruneFloor(p);
  if (!floor.ok()) return floor.error();
  if (!*floor || **floor < log_start) {
    std::string value;
    detail::PutU64(&value, static_cast<uint64_t>(log_start.value()));
    batch.Put(store_.rocks().state, detail::PruneKey(prefix), value).PermitUncheckedError();
  }
  if (batch.Count() == 0) return result;
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (auto s = store_.rocks().db()->Write(wo, &batch); !s.ok()) {
    return detail::RocksError("prune runs of " + Describe(p), s);
  }
  std::lock_guard lock(mu_);
  stats_.runs_pruned += static_cast<uint64_t>(result.runs_deleted);
  return result;
}

Result<std::optional<SourceOffset>> OffsetMap::PruneFloor(const PartitionKey& p) const {
  if (auto s = detail::ValidatePartitionKey(p); !s.ok()) return s.error();
  std::string value;
  auto s = store_.rocks().db()->Get(rocksdb::ReadOptions(), store_.rocks().state,
                                    detail::PruneKey(detail::PartitionPrefix(p)), &value);
  if (s.IsNotFound()) return std::optional<SourceOffset>();
  if (!s.ok()) return detail::RocksError("read prune floor", s);
  detail::Reader r(value);
  uint64_t floor = 0;
  if (!r.GetU64(&floor) || !r.empty() ||
      floor > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return detail::Corruption("malformed prune floor for " + Describe(p));
  }
  return std::optional<SourceOffset>(SourceOffset(static_cast<int64_t>(floor)));
}

Status OffsetMap::ForEachRun(
    const RunFilter& filter,
    const std::function<bool(const PartitionKey&, const Run&)>& visit) const {
  std::string prefix;
  if (filter.flow && filter.topic && filter.partition) {
    prefix = detail::PartitionPrefix({*filter.flow, *filter.topic, *filter.partition});
  } else if (filter.flow && filter.topic) {
    prefix = detail::FlowTopicPrefix(*filter.flow, *filter.topic);
  } else if (filter.flow) {
    prefix = detail::FlowPrefix(*filter.flow);
  }
  PrefixIterator it(store_.rocks().db(), store_.rocks().runs, prefix);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    PartitionKey p;
    Run run;
    const auto key = it->key();
    const auto value = it->value();
    if (!detail::DecodeRunKey(std::string_view(key.data(), key.size()), &p, &run.source_start) ||
        !detail::DecodeRunValue(std::string_view(value.data(), value.size()), &run.target_start,
                                &run.count)) {
      return detail::Corruption("malformed run entry in offsets store (key " +
                                key.ToString(/*hex=*/true) + ")");
    }
    if (filter.topic && p.topic != *filter.topic) continue;
    if (filter.partition && p.partition != *filter.partition) continue;
    if (!visit(p, run)) break;
  }
  return detail::ToStatus("scan runs", it->status());
}

OffsetMapStats OffsetMap::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

}  // namespace rm::offsets

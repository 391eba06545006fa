#include "offsets/kafka/offset_sync_publisher.h"

#include "common/log.h"

namespace rm::offsets::kafka {

OffsetSyncPublisher::OffsetSyncPublisher(offsets::OffsetMap& map, std::string flow,
                                         std::string syncs_topic, RecordWriter* writer,
                                         OffsetsProbe* probe)
    : map_(map),
      flow_(std::move(flow)),
      topic_(std::move(syncs_topic)),
      writer_(writer),
      probe_(probe),
      acknowledged_base_(writer ? writer->Acknowledged(topic_) : 0) {}

void OffsetSyncPublisher::OnDelivered(const offsets::PartitionKey& p, common::SourceOffset source,
                                      common::TargetOffset target) {
  map_.OnDelivered(p, source, target);
  if (writer_ == nullptr) return;
  const size_t before = pending_.size();
  emitter_.OnDelivered(p, source, target, &pending_);
  if (pending_.size() > kMaxPendingSyncs) {
    const size_t over = pending_.size() - kMaxPendingSyncs;
    if (dropped_.fetch_add(over) == 0) {
      RM_LOG_ERROR(
          "flow {}: {} offset syncs wait for topic {}; dropping new ones (a map rebuilt from the "
          "topic will re-read around them)",
          flow_, kMaxPendingSyncs, topic_);
    }
    pending_.resize(kMaxPendingSyncs);
    if (probe_) probe_->AddError("syncs_dropped");
  }
  if (pending_.size() != before) pending_count_.store(pending_.size());
}

common::Status OffsetSyncPublisher::Checkpoint() {
  if (writer_ != nullptr) {
    // The syncs the topic acknowledged become durable with this checkpoint, so a restart
    // re-describes only what came after them (OffsetSyncEmitter::Resume).
    writer_->Poll();
    const uint64_t acknowledged = writer_->Acknowledged(topic_) - acknowledged_base_;
    while (!unacknowledged_.empty() && written_ - unacknowledged_.size() < acknowledged) {
      const auto& [p, source] = unacknowledged_.front();
      map_.NoteSyncedThrough(p, source);
      unacknowledged_.pop_front();
    }
  }
  common::Status st = map_.Checkpoint();
  // "offsets.rejected_report" still persisted every valid report: publish those.
  if (writer_ != nullptr && (st.ok() || st.error().code == "offsets.rejected_report")) {
    emitter_.FlushTail(&pending_);
    Publish();
  }
  return st;
}

common::Result<std::optional<offsets::DeliveredPosition>> OffsetSyncPublisher::LastDurable(
    const offsets::PartitionKey& p) {
  auto durable = map_.LastDurable(p);
  if (writer_ == nullptr || !durable.ok() || !*durable || resumed_.count(p)) return durable;
  auto synced = map_.SyncedThrough(p);
  if (!synced.ok()) return synced.error();
  auto runs = map_.DurableRunsFrom(p, *synced);
  if (!runs.ok()) return runs.error();
  resumed_.insert(p);
  emitter_.Resume(p, *runs, &pending_);
  pending_count_.store(pending_.size());
  return durable;
}

void OffsetSyncPublisher::Publish() {
  writer_->Poll();
  if (!topic_ready_.load() || pending_.empty()) {
    pending_count_.store(pending_.size());
    return;
  }
  size_t written = 0;
  for (; written < pending_.size(); ++written) {
    auto record = offsets::mm2::Encode(pending_[written]);
    if (!record.ok()) {
      // Only a topic name over 32767 bytes fails to encode; Kafka refuses those anyway.
      RM_LOG_ERROR("flow {}: offset sync not published: {}", flow_, record.error().message);
      continue;
    }
    if (!writer_->Write(topic_, kInternalTopicPartition, *record)) break;
    ++written_;
    const auto& sync = pending_[written];
    unacknowledged_.push_back(
        {offsets::PartitionKey{flow_, sync.topic, sync.partition}, sync.upstream_offset});
  }
  pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(written));
  published_.fetch_add(written);
  pending_count_.store(pending_.size());
  if (probe_) {
    probe_->AddSyncsPublished(written);
    probe_->SetSyncsPending(pending_.size());
  }
}

void OffsetSyncPublisher::OnSourceLogStart(const offsets::PartitionKey& p,
                                           common::SourceOffset log_start) {
  std::lock_guard lock(log_start_mu_);
  log_starts_[{p.topic, p.partition}] = log_start;
}

std::vector<std::pair<offsets::PartitionKey, common::SourceOffset>>
OffsetSyncPublisher::TakeLogStarts() {
  std::map<std::pair<std::string, int32_t>, common::SourceOffset> taken;
  {
    std::lock_guard lock(log_start_mu_);
    taken.swap(log_starts_);
  }
  std::vector<std::pair<offsets::PartitionKey, common::SourceOffset>> out;
  out.reserve(taken.size());
  for (auto& [tp, offset] : taken) {
    out.push_back({offsets::PartitionKey{flow_, tp.first, tp.second}, offset});
  }
  return out;
}

OffsetSyncPublisherStats OffsetSyncPublisher::stats() const {
  return {published_.load(), pending_count_.load(), dropped_.load()};
}

}  // namespace rm::offsets::kafka

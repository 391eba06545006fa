#include "offsets/kafka/group_checkpointer.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/log.h"
#include "offsets/admin.h"
#include "offsets/kafka/group_offsets.h"
#include "offsets/mm2_format.h"

namespace rm::offsets::kafka {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

constexpr auto kRequestTimeout = 5000ms;
constexpr auto kListGroupsRetry = 60s;
constexpr auto kDescribeRetry = 10min;
constexpr auto kPruneInterval = 30s;
constexpr size_t kMaxCachedGroupClients = 32;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

GroupCheckpointer::GroupCheckpointer(const replication::MirrorConfig& config,
                                     const replication::FlowConfig& flow, offsets::OffsetMap& map,
                                     offsets::CheckpointStore& checkpoints, RecordWriter* writer,
                                     OffsetSyncPublisher* publisher, OffsetsProbe* probe)
    : config_(config),
      flow_(flow),
      name_(flow.name()),
      map_(map),
      checkpoints_(checkpoints),
      writer_(writer),
      publisher_(publisher),
      probe_(probe),
      offsets_(config.OffsetsFor(flow)),
      policy_(replication::MakeReplicationPolicy(flow.policy, flow.separator)),
      filter_(flow_, *policy_) {
  const replication::ClusterConfig* src = config.FindCluster(flow.source);
  const replication::ClusterConfig* dst = config.FindCluster(flow.target);
  if (!src || !dst) throw common::ConfigError(fmt::format("flow {}: unknown cluster", name_));
  source_props_ = src->ClientProperties();
  target_props_ = dst->ClientProperties();
  for (const auto& pattern : flow.groups) {
    if (auto name = LiteralGroupName(pattern)) {
      literal_groups_.push_back(*name);
    } else {
      has_regex_groups_ = true;
    }
  }
  std::string ctx = "flow " + name_ + " group checkpoints";
  source_admin_ = std::make_unique<common::AdminClient>(source_props_, ctx + " source admin");
  target_admin_ = std::make_unique<common::AdminClient>(target_props_, ctx + " target admin");
}

GroupCheckpointer::~GroupCheckpointer() { Stop(); }

void GroupCheckpointer::Start() {
  if (thread_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = false;
  }
  thread_ = std::thread([this] { Loop(); });
}

void GroupCheckpointer::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

GroupCheckpointerStats GroupCheckpointer::stats() const {
  std::lock_guard lock(stats_mu_);
  return stats_;
}

void GroupCheckpointer::CountError(const std::string& kind) {
  if (probe_) probe_->AddError(kind);
  std::lock_guard lock(stats_mu_);
  ++stats_.errors;
}

void GroupCheckpointer::Loop() {
  RM_LOG_INFO("flow {}: group checkpoints every {} ms", name_, offsets_.group_interval_ms);
  auto next_round = Clock::now();
  auto next_prune = Clock::now() + kPruneInterval;
  std::unique_lock lock(mu_);
  while (!stop_) {
    lock.unlock();
    auto now = Clock::now();
    if (now >= next_round) {
      RunRound();
      next_round = Clock::now() + std::chrono::milliseconds(offsets_.group_interval_ms);
    }
    if (now >= next_prune) {
      PruneRound();
      next_prune = Clock::now() + kPruneInterval;
    }
    if (writer_) writer_->Poll();
    lock.lock();
    cv_.wait_until(lock, std::min(next_round, Clock::now() + 200ms), [this] { return stop_; });
  }
}

bool GroupCheckpointer::PrepareTopics() {
  if (topics_ready_) return true;
  const auto& o = offsets_;
  if (writer_ && o.emit_syncs) {
    auto st = EnsureInternalTopic(*target_admin_, OffsetSyncsTopic(flow_.source), "delete",
                                  kRequestTimeout, &create_supported_,
                                  flow_.offset_syncs_replication_factor);
    if (!st.ok()) {
      RM_LOG_WARN("flow {}: offset syncs wait for their topic: {}", name_, st.error().message);
      CountError("topic");
      return false;
    }
    if (publisher_) publisher_->SetTopicReady();
  }
  if (writer_ && o.emit_checkpoints) {
    auto st = EnsureInternalTopic(*target_admin_, CheckpointsTopic(flow_.source), "compact",
                                  kRequestTimeout, &create_supported_,
                                  flow_.checkpoints_replication_factor);
    if (!st.ok()) {
      RM_LOG_WARN("flow {}: checkpoints wait for their topic: {}", name_, st.error().message);
      CountError("topic");
      return false;
    }
  }
  topics_ready_ = true;
  return true;
}

std::vector<std::string> GroupCheckpointer::Groups() {
  if (has_regex_groups_ && Clock::now() >= next_list_groups_) {
    auto listed = source_admin_->ListGroups(kRequestTimeout);
    if (listed.ok()) {
      listed_groups_ = std::move(*listed);
      next_list_groups_ =
          Clock::now() + std::chrono::milliseconds(std::max(offsets_.refresh_groups_interval_ms,
                                                            offsets_.group_interval_ms));
    } else {
      if (!list_groups_warned_) {
        RM_LOG_WARN(
            "flow {}: the source cluster does not list consumer groups ({}); translating only "
            "the groups named literally in the flow's groups ({} of them), retrying the listing "
            "every minute",
            name_, listed.error().message, literal_groups_.size());
        list_groups_warned_ = true;
      }
      next_list_groups_ = Clock::now() + kListGroupsRetry;
    }
  }
  std::set<std::string> names(literal_groups_.begin(), literal_groups_.end());
  names.insert(listed_groups_.begin(), listed_groups_.end());
  std::vector<std::string> out;
  for (const auto& g : names) {
    if (filter_.ShouldTranslateGroup(g)) out.push_back(g);
  }
  return out;
}

common::Consumer& GroupCheckpointer::GroupClient(
    std::map<std::string, std::unique_ptr<common::Consumer>>& cache,
    const common::KafkaProperties& props, const std::string& group, const std::string& side) {
  auto it = cache.find(group);
  if (it != cache.end()) return *it->second;
  // Each client is a librdkafka handle with threads of its own: keep a bounded number.
  if (cache.size() >= kMaxCachedGroupClients) cache.erase(cache.begin());
  auto client = MakeGroupOffsetsClient(props, group,
                                       fmt::format("flow {} group {} on {}", name_, group, side));
  return *cache.emplace(group, std::move(client)).first->second;
}

bool GroupCheckpointer::RunRound() {
  if (!PrepareTopics()) return false;
  auto md = source_admin_->Metadata(std::nullopt, kRequestTimeout);
  if (!md.ok()) {
    RM_LOG_WARN("flow {}: group checkpoints: listing source topics failed: {}", name_,
                md.error().message);
    CountError("source_metadata");
    return true;
  }
  auto partitions = MirroredPartitions(*md, filter_, std::nullopt);
  if (!partitions.empty()) {
    for (const auto& group : Groups()) CheckpointGroup(group, partitions);
  }
  {
    std::lock_guard lock(stats_mu_);
    ++stats_.rounds;
  }
  if (!topic_configs_checked_ && writer_) {
    // Advice only, after the first round so a cluster that does not answer DescribeConfigs
    // (the mock) does not delay the first checkpoints.
    topic_configs_checked_ = true;
    if (offsets_.emit_syncs) {
      CheckInternalTopicConfig(*target_admin_, OffsetSyncsTopic(flow_.source), "delete", 1000ms);
    }
    if (offsets_.emit_checkpoints) {
      CheckInternalTopicConfig(*target_admin_, CheckpointsTopic(flow_.source), "compact", 1000ms);
    }
  }
  return true;
}

void GroupCheckpointer::CheckpointGroup(const std::string& group,
                                        const std::vector<common::TopicPartition>& partitions) {
  common::Consumer& client = GroupClient(source_groups_, source_props_, group, flow_.source);
  auto committed = ReadGroupOffsets(client, partitions, kRequestTimeout);
  if (!committed.ok()) {
    RM_LOG_WARN("flow {}: reading the offsets of group {} on {} failed: {}", name_, group,
                flow_.source, committed.error().message);
    CountError("source_offsets");
    return;
  }
  if (committed->empty()) return;
  auto stored = offsets::CheckpointGroup(map_, checkpoints_, name_, group, *committed, NowMs());
  if (!stored.ok()) {
    RM_LOG_ERROR("flow {}: storing the checkpoint of group {} failed: {}", name_, group,
                 stored.error().message);
    CountError("store");
    return;
  }
  {
    std::lock_guard lock(stats_mu_);
    stats_.checkpoints_stored += stored->size();
  }
  if (probe_) probe_->AddGroupCheckpoints(stored->size());
  if (stored->empty()) return;
  RM_LOG_DEBUG("flow {}: group {}: {} partitions checkpointed", name_, group, stored->size());
  if (writer_ && offsets_.emit_checkpoints) EmitCheckpoints(*stored);
  if (offsets_.sync_group_offsets) SyncTargetGroup(group, *stored);
}

void GroupCheckpointer::EmitCheckpoints(const std::vector<offsets::GroupCheckpoint>& stored) {
  const std::string topic = CheckpointsTopic(flow_.source);
  uint64_t emitted = 0;
  for (const auto& c : stored) {
    auto key = std::make_tuple(c.group, c.topic, c.partition);
    auto value = std::make_pair(c.source_offset.value(), c.target_offset.value());
    auto it = emitted_.find(key);
    if (it != emitted_.end() && it->second == value) continue;
    offsets::mm2::Checkpoint cp{c.group,         policy_->FormatRemoteTopic(flow_.source, c.topic),
                                c.partition,     c.source_offset,
                                c.target_offset, c.metadata};
    auto record = offsets::mm2::Encode(cp);
    if (!record.ok()) {
      RM_LOG_ERROR("flow {}: checkpoint of group {} not written: {}", name_, c.group,
                   record.error().message);
      CountError("encode");
      continue;
    }
    // The queue is only full when the target has been unreachable for long; the next round
    // writes the newest position again (the map entry is only updated on success).
    if (!writer_->Write(topic, kInternalTopicPartition, *record)) break;
    emitted_[key] = value;
    ++emitted;
  }
  if (probe_) probe_->AddCheckpointRecords(emitted);
  std::lock_guard lock(stats_mu_);
  stats_.checkpoints_emitted += emitted;
}

void GroupCheckpointer::SyncTargetGroup(const std::string& group,
                                        const std::vector<offsets::GroupCheckpoint>& stored) {
  if (Clock::now() >= next_describe_) {
    auto activity = DescribeGroupActivity(*target_admin_, group, 2000ms);
    if (activity.ok() && *activity == GroupActivity::kActive) {
      RM_LOG_DEBUG("flow {}: group {} has active members on {}; its offsets are not synced", name_,
                   group, flow_.target);
      if (probe_) probe_->AddGroupSyncSkipped();
      std::lock_guard lock(stats_mu_);
      ++stats_.target_skipped_active;
      return;
    }
    if (!activity.ok()) {
      if (!describe_warned_) {
        RM_LOG_WARN(
            "flow {}: the target cluster {} does not describe consumer groups ({}); syncing "
            "group offsets with non-member commits, which the broker refuses while a group has "
            "active members",
            name_, flow_.target, activity.error().message);
        describe_warned_ = true;
      }
      next_describe_ = Clock::now() + kDescribeRetry;
    }
  }

  common::Consumer& client = GroupClient(target_groups_, target_props_, group, flow_.target);
  std::vector<common::TopicPartition> remote;
  for (const auto& c : stored) {
    remote.push_back({policy_->FormatRemoteTopic(flow_.source, c.topic), c.partition});
  }
  auto current = ReadGroupOffsets(client, remote, kRequestTimeout);
  if (!current.ok()) {
    RM_LOG_WARN("flow {}: reading the offsets of group {} on {} failed: {}", name_, group,
                flow_.target, current.error().message);
    CountError("target_offsets");
    return;
  }
  std::map<std::pair<std::string, int32_t>, int64_t> have;
  for (const auto& o : *current) have[{o.topic, o.partition}] = o.committed.value();
  std::vector<common::TopicPartition> commits;
  for (size_t i = 0; i < stored.size(); ++i) {
    const int64_t want = stored[i].target_offset.value();
    auto it = have.find({remote[i].topic, remote[i].partition});
    // Never backwards: a group that already read further on the target keeps its position.
    if (want < 0 || (it != have.end() && it->second >= want)) continue;
    commits.push_back({remote[i].topic, remote[i].partition, want});
  }
  if (commits.empty()) return;
  auto st = client.Commit(commits, /*async=*/false);
  if (!st.ok()) {
    RM_LOG_WARN("flow {}: committing group {} on {} failed (active members there?): {}", name_,
                group, flow_.target, st.error().message);
    CountError("target_commit");
    return;
  }
  RM_LOG_DEBUG("flow {}: group {}: {} partitions synced on {}", name_, group, commits.size(),
               flow_.target);
  if (probe_) probe_->AddTargetCommits(commits.size());
  std::lock_guard lock(stats_mu_);
  stats_.target_commits += commits.size();
}

void GroupCheckpointer::PruneRound() {
  if (!publisher_) return;
  uint64_t pruned = 0;
  for (const auto& [p, log_start] : publisher_->TakeLogStarts()) {
    auto floor = map_.PruneFloor(p);
    if (floor.ok() && *floor && **floor >= log_start) continue;  // nothing new below
    auto res = map_.Prune(p, log_start);
    if (!res.ok()) {
      RM_LOG_WARN("flow {}: pruning {}[{}] below {} failed: {}", name_, p.topic, p.partition,
                  log_start.value(), res.error().message);
      CountError("prune");
      continue;
    }
    pruned += static_cast<uint64_t>(res->runs_deleted);
  }
  if (pruned > 0) RM_LOG_DEBUG("flow {}: pruned {} runs below the source log start", name_, pruned);
  if (probe_ && pruned > 0) probe_->AddRunsPruned(pruned);
  std::lock_guard lock(stats_mu_);
  stats_.runs_pruned += pruned;
}

}  // namespace rm::offsets::kafka

// GroupCheckpointer: a flow's consumer group checkpoints (issue 4, "Consumer group
// checkpoints"), on a thread of its own so the flow's data path never waits for it.
//
// Every offsets.group_interval_ms (default 5 s; the flow's own setting when it has one, see
// MirrorConfig::OffsetsFor), for each group the flow translates:
//   1. read the group's committed offsets on the SOURCE for every partition of the topics the
//      flow mirrors (TopicFilter; the same topics the flow copies);
//   2. translate them through the offset map and store them in the CheckpointStore
//      (offsets::CheckpointGroup: the map is made durable first, partitions the map knows
//      nothing about are left out);
//   3. offsets.emit_checkpoints: write each changed position as an MM2 Checkpoint record, with
//      the remote topic name, to <source>.checkpoints.internal on the TARGET;
//   4. offsets.sync_group_offsets: commit the translated positions for the group on the
//      TARGET, only forward (the target's committed offset is read first; a position at or
//      below it is left alone) and only while the group has no active members there.
// Besides, it prunes the map below each source partition's log start (reported by the flow
// through OffsetSyncPublisher) every 30 s, and creates the internal topics at start.
//
// Which groups: FlowConfig::groups / groups_exclude. With a regex, the source cluster is asked
// for its groups (ListGroups, every offsets.refresh_groups_interval_ms) and the matching ones
// are used; a pattern without regex
// metacharacters (LiteralGroupName) is used as a group name directly, which is all that works
// on clusters that do not serve ListGroups (the testbed's mock; a failed listing is retried
// every minute meanwhile).
//
// Active members on the target: asked with DescribeConsumerGroups; a group with members is not
// synced. Where the cluster does not answer that (the mock), the commit is sent anyway as a
// non-member commit (generation -1, no member id), which Kafka brokers (and the mock, for
// groups it has seen joining) reject with UNKNOWN_MEMBER_ID while the group has members: the
// broker enforces the rule. That rejection is logged and counted, never retried in a loop.
//
// Lifecycle: construct, Start() (spawns the thread), Stop() or destroy (joins; a round in
// progress finishes its current Kafka request, bounded by a few seconds). Threading: Start/Stop
// from one controlling thread; RunRound() is for tests and must not run concurrently with the
// thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "common/kafka_admin.h"
#include "common/kafka_client.h"
#include "offsets/checkpoint_store.h"
#include "offsets/kafka/internal_topics.h"
#include "offsets/kafka/offset_sync_publisher.h"
#include "offsets/kafka/probe.h"
#include "offsets/offset_map.h"
#include "replication/config.h"
#include "replication/replication_policy.h"
#include "replication/topic_filter.h"

namespace rm::offsets::kafka {

struct GroupCheckpointerStats {
  uint64_t rounds = 0;
  uint64_t checkpoints_stored = 0;     // group partitions stored in the CheckpointStore
  uint64_t checkpoints_emitted = 0;    // MM2 Checkpoint records written
  uint64_t target_commits = 0;         // group partitions committed on the target
  uint64_t target_skipped_active = 0;  // group syncs skipped: members active on the target
  uint64_t runs_pruned = 0;
  uint64_t errors = 0;
};

class GroupCheckpointer {
 public:
  // `config` and everything passed by pointer or reference must outlive the checkpointer.
  // `writer` may be null when neither syncs nor checkpoints are emitted; `publisher` may be
  // null (no pruning, no topic readiness to signal); so may `probe` (no metrics). Throws
  // ConfigError for bad client properties.
  GroupCheckpointer(const replication::MirrorConfig& config, const replication::FlowConfig& flow,
                    offsets::OffsetMap& map, offsets::CheckpointStore& checkpoints,
                    RecordWriter* writer, OffsetSyncPublisher* publisher,
                    OffsetsProbe* probe = nullptr);
  ~GroupCheckpointer();
  GroupCheckpointer(const GroupCheckpointer&) = delete;
  GroupCheckpointer& operator=(const GroupCheckpointer&) = delete;

  void Start();
  void Stop();

  // One round of steps 1-4 (creates the internal topics first if needed). Returns false when
  // the topics are not ready yet.
  bool RunRound();
  // Prunes the map with the log starts collected since the last call.
  void PruneRound();

  GroupCheckpointerStats stats() const;

 private:
  void Loop();
  bool PrepareTopics();
  std::vector<std::string> Groups();
  void CheckpointGroup(const std::string& group,
                       const std::vector<common::TopicPartition>& partitions);
  void EmitCheckpoints(const std::vector<offsets::GroupCheckpoint>& stored);
  void SyncTargetGroup(const std::string& group,
                       const std::vector<offsets::GroupCheckpoint>& stored);
  common::Consumer& GroupClient(std::map<std::string, std::unique_ptr<common::Consumer>>& cache,
                                const common::KafkaProperties& props, const std::string& group,
                                const std::string& side);
  void CountError(const std::string& kind);

  const replication::MirrorConfig& config_;
  const replication::FlowConfig flow_;
  const std::string name_;
  offsets::OffsetMap& map_;
  offsets::CheckpointStore& checkpoints_;
  RecordWriter* writer_;
  OffsetSyncPublisher* publisher_;
  OffsetsProbe* probe_;
  // The offsets: section with this flow's overrides (MirrorConfig::OffsetsFor).
  const replication::OffsetsSettings offsets_;
  std::unique_ptr<replication::ReplicationPolicy> policy_;
  replication::TopicFilter filter_;
  std::vector<std::string> literal_groups_;
  bool has_regex_groups_ = false;
  common::KafkaProperties source_props_, target_props_;
  std::unique_ptr<common::AdminClient> source_admin_, target_admin_;

  // Consumers with group.id = a translated group, never subscribed (see MakeGroupOffsetsClient).
  std::map<std::string, std::unique_ptr<common::Consumer>> source_groups_, target_groups_;

  bool topics_ready_ = false;
  bool topic_configs_checked_ = false;
  bool create_supported_ = true;
  std::vector<std::string> listed_groups_;
  std::chrono::steady_clock::time_point next_list_groups_{};
  bool list_groups_warned_ = false;
  std::chrono::steady_clock::time_point next_describe_{};  // DescribeGroups unavailable until
  bool describe_warned_ = false;
  // Last checkpoint emitted per (group, topic, partition): only changes are written.
  std::map<std::tuple<std::string, std::string, int32_t>, std::pair<int64_t, int64_t>> emitted_;

  mutable std::mutex stats_mu_;
  GroupCheckpointerStats stats_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace rm::offsets::kafka

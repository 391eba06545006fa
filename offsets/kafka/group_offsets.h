// Consumer group positions as the clusters report them, for the group checkpointer and the
// `offsets translate` queries: which groups a flow translates, which partitions it mirrors,
// what a group committed, and whether a group is active.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/kafka_admin.h"
#include "common/kafka_client.h"
#include "common/result.h"
#include "offsets/admin.h"
#include "replication/topic_filter.h"

namespace rm::offsets::kafka {

// The group name a pattern of FlowConfig::groups stands for when it has no regex
// metacharacters, after unescaping (`my\.app` -> "my.app"); nullopt for a real regex (`app-.*`).
// Clusters that cannot list groups (the testbed's mock: no ListGroups) translate only these.
std::optional<std::string> LiteralGroupName(const std::string& pattern);

// Source partitions of the topics the flow mirrors (TopicFilter::ShouldReplicate), optionally
// only `topic`, from a metadata answer. Sorted.
std::vector<common::TopicPartition> MirroredPartitions(const common::ClusterMetadata& metadata,
                                                       const replication::TopicFilter& filter,
                                                       const std::optional<std::string>& topic);

// The committed offsets (with commit metadata) of the group `consumer` was created with
// (group.id), for `partitions`. Partitions without a commit, or whose offset fetch failed, are
// left out; the call fails only when the whole request does (e.g. the cluster is down).
common::Result<std::vector<offsets::GroupOffset>> ReadGroupOffsets(
    const common::Consumer& consumer, const std::vector<common::TopicPartition>& partitions,
    std::chrono::milliseconds timeout);

// A consumer for reading and committing a group's offsets: group.id = `group`, never
// subscribed, so it does not join the group (commits go out as a simple, non-member commit).
std::unique_ptr<common::Consumer> MakeGroupOffsetsClient(const common::KafkaProperties& props,
                                                         const std::string& group,
                                                         const std::string& context);

// Whether the group has members on the cluster of `admin` (DescribeGroups). Fails when the
// cluster does not answer (the mock does not serve DescribeGroups).
enum class GroupActivity { kActive, kInactive };
common::Result<GroupActivity> DescribeGroupActivity(common::AdminClient& admin,
                                                    const std::string& group,
                                                    std::chrono::milliseconds timeout);

}  // namespace rm::offsets::kafka

// How remote topics are named, as MirrorMaker 2's ReplicationPolicy: the default policy
// prefixes the source cluster's alias ("us-east.orders"), the identity policy keeps the name
// (active-active with identity relies on provenance headers alone to stop cycles), except for
// MM2 heartbeat topics, which it names as the default policy does, as MM2's
// IdentityReplicationPolicy does.
#pragma once

#include <memory>
#include <string>

#include "replication/config.h"

namespace rm::replication {

class ReplicationPolicy {
 public:
  virtual ~ReplicationPolicy() = default;
  // Name in the target of `topic` copied from the cluster `source_alias`.
  virtual std::string FormatRemoteTopic(const std::string& source_alias,
                                        const std::string& topic) const = 0;
  // The alias a topic was copied from, judged by its name; "" for a local topic.
  virtual std::string TopicSource(const std::string& topic) const = 0;
  // The topic's name in the cluster it was copied from (itself for a local topic).
  virtual std::string UpstreamTopic(const std::string& topic) const = 0;
};

std::unique_ptr<ReplicationPolicy> MakeReplicationPolicy(PolicyKind kind,
                                                         const std::string& separator);

// True for MM2 heartbeat topics: "heartbeats" and its copies ("us-east.heartbeats",
// "eu-west.us-east.heartbeats", ...).
bool IsHeartbeatsTopic(const ReplicationPolicy& policy, const std::string& topic);

// True if `topic` in a cluster, copied onward to `target_alias`, would come back to where it
// came from: its name says it (transitively) came from `target_alias`.
bool IsCycle(const ReplicationPolicy& policy, const std::string& topic,
             const std::string& target_alias);

}  // namespace rm::replication

#include "replication/replication_policy.h"

namespace rm::replication {
namespace {

class DefaultPolicy : public ReplicationPolicy {
 public:
  explicit DefaultPolicy(std::string sep) : sep_(std::move(sep)) {}
  std::string FormatRemoteTopic(const std::string& source_alias,
                                const std::string& topic) const override {
    return source_alias + sep_ + topic;
  }
  std::string TopicSource(const std::string& topic) const override {
    auto pos = topic.find(sep_);
    return pos == std::string::npos ? "" : topic.substr(0, pos);
  }
  std::string UpstreamTopic(const std::string& topic) const override {
    auto pos = topic.find(sep_);
    return pos == std::string::npos ? topic : topic.substr(pos + sep_.size());
  }

 private:
  std::string sep_;
};

// Keeps names, except for heartbeat topics, which are named as by the default policy (as MM2's
// IdentityReplicationPolicy does): each cluster writes its own `heartbeats`, and a copy under the
// same name would mix the clusters' heartbeats and hide which links they prove alive.
class IdentityPolicy : public ReplicationPolicy {
 public:
  explicit IdentityPolicy(const std::string& sep) : heartbeats_(sep.empty() ? "." : sep) {}
  std::string FormatRemoteTopic(const std::string& source_alias,
                                const std::string& topic) const override {
    return LooksLikeHeartbeats(topic) ? heartbeats_.FormatRemoteTopic(source_alias, topic) : topic;
  }
  std::string TopicSource(const std::string& topic) const override {
    return LooksLikeHeartbeats(topic) ? heartbeats_.TopicSource(topic) : "";
  }
  std::string UpstreamTopic(const std::string& topic) const override {
    return LooksLikeHeartbeats(topic) ? heartbeats_.UpstreamTopic(topic) : topic;
  }

 private:
  static bool LooksLikeHeartbeats(const std::string& topic) {
    const std::string hb = kHeartbeatsTopic;
    return topic.size() >= hb.size() && topic.compare(topic.size() - hb.size(), hb.size(), hb) == 0;
  }
  DefaultPolicy heartbeats_;
};

}  // namespace

std::unique_ptr<ReplicationPolicy> MakeReplicationPolicy(PolicyKind kind,
                                                         const std::string& separator) {
  if (kind == PolicyKind::kIdentity) return std::make_unique<IdentityPolicy>(separator);
  return std::make_unique<DefaultPolicy>(separator);
}

bool IsHeartbeatsTopic(const ReplicationPolicy& policy, const std::string& topic) {
  std::string t = topic;
  for (int depth = 0; depth < 64; ++depth) {
    std::string up = policy.UpstreamTopic(t);
    if (up == t) break;
    t = up;
  }
  return t == kHeartbeatsTopic;
}

bool IsCycle(const ReplicationPolicy& policy, const std::string& topic,
             const std::string& target_alias) {
  std::string t = topic;
  // Each step strips one alias; a name has finitely many separators.
  for (int depth = 0; depth < 64; ++depth) {
    std::string source = policy.TopicSource(t);
    if (source.empty()) return false;
    if (source == target_alias) return true;
    std::string up = policy.UpstreamTopic(t);
    if (up == t) return false;
    t = up;
  }
  return false;
}

}  // namespace rm::replication

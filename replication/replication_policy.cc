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

class IdentityPolicy : public ReplicationPolicy {
 public:
  std::string FormatRemoteTopic(const std::string&, const std::string& topic) const override {
    return topic;
  }
  std::string TopicSource(const std::string&) const override { return ""; }
  std::string UpstreamTopic(const std::string& topic) const override { return topic; }
};

}  // namespace

std::unique_ptr<ReplicationPolicy> MakeReplicationPolicy(PolicyKind kind,
                                                         const std::string& separator) {
  if (kind == PolicyKind::kIdentity) return std::make_unique<IdentityPolicy>();
  return std::make_unique<DefaultPolicy>(separator);
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

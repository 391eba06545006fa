#include "replication/topic_filter.h"

namespace rm::replication {

RegexList::RegexList(const std::vector<std::string>& patterns) {
  for (const auto& p : patterns)
    res_.emplace_back(p, std::regex::ECMAScript | std::regex::optimize);
}

bool RegexList::Matches(const std::string& name) const {
  for (const auto& re : res_) {
    if (std::regex_match(name, re)) return true;
  }
  return false;
}

TopicFilter::TopicFilter(const FlowConfig& flow, const ReplicationPolicy& policy)
    : target_(flow.target),
      replicate_heartbeats_(flow.replicate_heartbeats),
      policy_(policy),
      topics_(flow.topics),
      topics_exclude_(flow.topics_exclude),
      groups_(flow.groups),
      groups_exclude_(flow.groups_exclude) {}

bool TopicFilter::ShouldReplicate(const std::string& topic) const {
  const bool selected = topics_.Matches(topic) && !topics_exclude_.Matches(topic);
  if (!selected && !(replicate_heartbeats_ && IsHeartbeatsTopic(policy_, topic))) return false;
  return !IsCycle(policy_, topic, target_);
}

bool TopicFilter::ShouldTranslateGroup(const std::string& group) const {
  return groups_.Matches(group) && !groups_exclude_.Matches(group);
}

}  // namespace rm::replication

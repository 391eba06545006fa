// Which source topics (and consumer groups) a flow copies: allow regexes, deny regexes (MM2
// heartbeat topics pass both when the flow replicates heartbeats, as in MM2), and never a topic
// whose name says it came from the flow's target (invariant 4 of docs/architecture.md).
#pragma once

#include <regex>
#include <string>
#include <vector>

#include "replication/config.h"
#include "replication/replication_policy.h"

namespace rm::replication {

// Full-match regex list. Compiled once; matching is what discovery calls per topic.
class RegexList {
 public:
  explicit RegexList(const std::vector<std::string>& patterns);
  bool Matches(const std::string& name) const;

 private:
  std::vector<std::regex> res_;
};

class TopicFilter {
 public:
  // `policy` must outlive the filter.
  TopicFilter(const FlowConfig& flow, const ReplicationPolicy& policy);
  bool ShouldReplicate(const std::string& topic) const;
  bool ShouldTranslateGroup(const std::string& group) const;

 private:
  std::string target_;
  bool replicate_heartbeats_;
  const ReplicationPolicy& policy_;
  RegexList topics_, topics_exclude_, groups_, groups_exclude_;
};

}  // namespace rm::replication

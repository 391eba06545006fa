// TargetTopics: makes a flow's remote topics exist on the target with the source's partition
// count and topic configuration, and grows them when the source topic grows.
//
// Rules (MirrorMaker 2's, where the cluster allows them):
//   1. A missing remote topic is created with the source topic's partition count, the flow's
//      `replication_factor` (-1: the target brokers' default) and, with `sync_topic_configs`,
//      the source topic's own configs (DescribeConfigs), minus the flow's
//      `config_properties_exclude` (configs that describe the source cluster rather than the
//      data). Later changes are synced by TopicConfigSync (topic_config_sync.h).
//   2. A remote topic with fewer partitions than the source gets partitions added
//      (CreatePartitions). More partitions than the source is fine: partition p is copied to
//      partition p and the extra ones stay empty (a warning says so once).
//   3. A cluster that cannot create topics (the testbed's mock; brokers where the principal
//      lacks the ACL) is asked once, then auto-creation is relied on: asking for the topic's
//      metadata creates it, and its partition count is verified. A mismatch is an error for
//      that topic only (the caller stops it, other topics go on).
//   4. A source cluster that cannot describe configs is asked once; topics are then created
//      with the target's defaults and a warning says so.
//
// Threading: not thread-safe; a flow calls it from its Run() thread.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/kafka_admin.h"
#include "common/result.h"
#include "replication/config.h"
#include "replication/topic_filter.h"

namespace rm::mirror {

// The cluster operations TargetTopics needs, behind an interface so the rules are unit-tested
// (the testbed can neither create topics nor add partitions).
class TopicAdmin {
 public:
  virtual ~TopicAdmin() = default;
  // Partition count of every topic of the cluster (listing all topics: on the mock a request
  // naming a missing topic creates it).
  virtual common::Result<std::map<std::string, int>> ListTopics() = 0;
  // The topic's own (set on the topic), writable, non-sensitive configs.
  virtual common::Result<std::map<std::string, std::string>> TopicConfigs(
      const std::string& topic) = 0;
  // Makes `configs` the topic's own configs; any other config set on the topic returns to the
  // broker's value (AlterConfigs).
  virtual common::Status ReplaceTopicConfigs(const std::string& topic,
                                             const std::map<std::string, std::string>& configs) = 0;
  // Error code "TOPIC_ALREADY_EXISTS" when it exists.
  // `replication_factor` -1: the brokers' default.
  virtual common::Status CreateTopic(const std::string& topic, int partitions,
                                     int replication_factor,
                                     const std::map<std::string, std::string>& configs) = 0;
  virtual common::Status CreatePartitions(const std::string& topic, int total) = 0;
  // Asks for this one topic's metadata (which creates it where auto-creation is on); returns
  // its partition count, 0 when it still does not exist.
  virtual common::Result<int> RequestTopic(const std::string& topic) = 0;
};

// TopicAdmin over a librdkafka admin client.
std::unique_ptr<TopicAdmin> MakeKafkaTopicAdmin(common::AdminClient& admin);

// `configs` without those `exclude` matches (MirrorMaker 2's DefaultConfigPropertyFilter with
// config.properties.exclude).
std::map<std::string, std::string> CopyableTopicConfigs(std::map<std::string, std::string> configs,
                                                        const replication::RegexList& exclude);

// How remote topics are created (a flow's settings, replication::FlowConfig).
struct TargetTopicOptions {
  // -1: the target brokers' default. Default: -1
  int replication_factor = -1;
  // Copy the source topic's configs (minus `config_exclude`). Default: true
  bool sync_topic_configs = true;
  // Regexes of configs never copied. Default: MM2's config.properties.exclude
  std::vector<std::string> config_exclude =
      replication::FlowConfig::DefaultConfigPropertiesExclude();
};

class TargetTopics {
 public:
  // `source` and `target` must outlive this object. `context` names the flow in logs.
  TargetTopics(TopicAdmin& source, TopicAdmin& target, std::string context,
               TargetTopicOptions options = {});

  // The target cluster's topics and their partition counts.
  using Listing = common::Result<std::map<std::string, int>>;
  Listing ListTarget() { return target_.ListTopics(); }

  // Makes sure `target_topic` exists with at least `partitions` partitions (rules above), given
  // a listing of the target from ListTarget(): a discovery round lists once for all its topics.
  // Errors: the listing's, "mirror.target_topic" (could not be created),
  // "mirror.partition_mismatch".
  common::Status Ensure(const Listing& target_listing, const std::string& source_topic,
                        const std::string& target_topic, int partitions);
  // The same with a fresh listing.
  common::Status Ensure(const std::string& source_topic, const std::string& target_topic,
                        int partitions) {
    return Ensure(ListTarget(), source_topic, target_topic, partitions);
  }

  bool target_can_create_topics() const { return target_can_create_; }

 private:
  std::map<std::string, std::string> CopyableConfigs(const std::string& source_topic);
  common::Status AutoCreate(const std::string& source_topic, const std::string& target_topic,
                            int partitions);

  TopicAdmin& source_;
  TopicAdmin& target_;
  const std::string context_;
  const TargetTopicOptions options_;
  const replication::RegexList config_exclude_;
  bool target_can_create_ = true;
  bool source_can_describe_ = true;
  std::set<std::string> warned_wider_;  // remote topics already reported as wider
};

}  // namespace rm::mirror

// KafkaTopicProvisioner: the provisioning step "topics" over the Kafka Admin API: lists the
// cluster's topics and creates the capture's topics that are missing, with their configs
// (the schema history compacted). Existing topics are left as they are, but one that must be
// compacted and is not fails the step (when the cluster describes configs). With
// `create_missing` false it only checks (topics managed elsewhere). Hand it to RunProvision()
// / Provision().
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/kafka_admin.h"
#include "common/kafka_config.h"
#include "src-cdc/postgres/provision.h"

namespace rm::cdc::postgres {

// What is wrong with an existing topic's configs (`actual`: its non-default configs, as
// AdminClient::DescribeTopicConfigs gives them) for `spec`: its cleanup.policy. Empty if fine.
std::vector<std::string> TopicConfigProblems(const TopicSpec& spec,
                                             const std::map<std::string, std::string>& actual);
// The CreateTopics requests for `topics` (partitions 0 = `default_partitions`).
std::vector<common::NewTopic> NewTopics(const std::vector<TopicSpec>& topics,
                                        int default_partitions, int replication_factor);

class KafkaTopicProvisioner : public TopicProvisioner {
 public:
  // `replication_factor` -1 = the brokers' default.
  KafkaTopicProvisioner(common::KafkaProperties props, int partitions, int replication_factor = -1,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30),
                        bool create_missing = true);
  StepReport EnsureTopics(const std::vector<TopicSpec>& topics, bool dry_run) override;

 private:
  common::KafkaProperties props_;
  int partitions_;
  int replication_factor_;
  std::chrono::milliseconds timeout_;
  bool create_missing_;
};

}  // namespace rm::cdc::postgres

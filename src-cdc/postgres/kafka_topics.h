// KafkaTopicProvisioner: the provisioning step "topics" over the Kafka Admin API: lists the
// cluster's topics and creates the captured tables' topics that are missing (existing topics
// are left as they are). With `create_missing` false it only checks that they exist (topics
// managed elsewhere). Hand it to RunProvision() / Provision().
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "common/kafka_config.h"
#include "src-cdc/postgres/provision.h"

namespace rm::cdc::postgres {

class KafkaTopicProvisioner : public TopicProvisioner {
 public:
  // `replication_factor` -1 = the brokers' default.
  KafkaTopicProvisioner(common::KafkaProperties props, int partitions, int replication_factor = -1,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30),
                        bool create_missing = true);
  StepReport EnsureTopics(const std::vector<std::string>& topics, bool dry_run) override;

 private:
  common::KafkaProperties props_;
  int partitions_;
  int replication_factor_;
  std::chrono::milliseconds timeout_;
  bool create_missing_;
};

}  // namespace rm::cdc::postgres

// KafkaTopicProvisioner: the provisioning step "topics" over the Kafka Admin API: creates the
// captured tables' topics when missing. Hand it to RunProvision() / Provision().
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
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));
  StepReport EnsureTopics(const std::vector<std::string>& topics, bool dry_run) override;

 private:
  common::KafkaProperties props_;
  int partitions_;
  int replication_factor_;
  std::chrono::milliseconds timeout_;
};

}  // namespace rm::cdc::postgres

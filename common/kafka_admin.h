// Admin operations (topics, configs, groups) over librdkafka's Admin API. Each call waits for
// its result up to the given timeout: some clusters (the testbed's mock) do not serve every
// admin request, and a call must fail with a clear timeout rather than hang.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "common/kafka_client.h"

namespace rm::common {

struct NewTopic {
  std::string name;
  int partitions = 1;
  int replication_factor = -1;  // -1: the broker's default.
  std::map<std::string, std::string> configs;
};

class AdminClient : public KafkaClient {
 public:
  AdminClient(const KafkaProperties& props, std::string_view context);

  // One Status per topic, in order. A topic that already exists gives an error with code
  // "TOPIC_ALREADY_EXISTS".
  Result<std::vector<Status>> CreateTopics(const std::vector<NewTopic>& topics,
                                           std::chrono::milliseconds timeout);
  // Grows a topic to `total` partitions.
  Status CreatePartitions(const std::string& topic, int total, std::chrono::milliseconds timeout);
  // The topic's own configs: those set on the topic (DYNAMIC_TOPIC_CONFIG), not inherited from
  // the broker's settings or defaults. What a copy of the topic should get, and the set
  // ReplaceTopicConfigs writes.
  Result<std::map<std::string, std::string>> DescribeTopicConfigs(
      const std::string& topic, std::chrono::milliseconds timeout);
  // Makes `configs` the topic's own configs (AlterConfigs): every config set on the topic and not
  // named here returns to the broker's value. librdkafka 2.0.2 has no IncrementalAlterConfigs,
  // so callers send the whole set they want (DescribeTopicConfigs, changed).
  Status ReplaceTopicConfigs(const std::string& topic,
                             const std::map<std::string, std::string>& configs,
                             std::chrono::milliseconds timeout);
  // Consumer group ids known to the cluster.
  Result<std::vector<std::string>> ListGroups(std::chrono::milliseconds timeout);

 private:
  // Waits for one admin result event of `type` on `queue`.
  Result<rd_kafka_event_t*> WaitResult(rd_kafka_queue_t* queue, rd_kafka_event_type_t type,
                                       std::chrono::milliseconds timeout, std::string_view what);
};

}  // namespace rm::common

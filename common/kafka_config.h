// librdkafka configuration from a key/value map, and the RAII handle types shared by the
// producer, consumer and admin wrappers.
#pragma once

#include <librdkafka/rdkafka.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace rm::common {

// librdkafka properties, passed through unchanged (bootstrap.servers, security.protocol, ...).
using KafkaProperties = std::map<std::string, std::string>;

struct RdKafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
struct RdKafkaConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
struct RdKafkaMessageDeleter {
  void operator()(rd_kafka_message_t* m) const { rd_kafka_message_destroy(m); }
};
struct RdKafkaPartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using RdKafkaPtr = std::unique_ptr<rd_kafka_t, RdKafkaDeleter>;
using RdKafkaConfPtr = std::unique_ptr<rd_kafka_conf_t, RdKafkaConfDeleter>;
using KafkaMessage = std::unique_ptr<rd_kafka_message_t, RdKafkaMessageDeleter>;
using PartitionListPtr =
    std::unique_ptr<rd_kafka_topic_partition_list_t, RdKafkaPartitionListDeleter>;

// Builds a librdkafka configuration from `props`. Every unknown or invalid property is
// reported at once in one ConfigError: "<context>: unknown property 'x'; invalid value ...".
// `context` says where the properties came from (e.g. "cluster us-east"). The returned conf
// routes librdkafka's log lines to our logger (tagged with `context`).
RdKafkaConfPtr BuildKafkaConf(const KafkaProperties& props, std::string_view context);
// What BuildKafkaConf would refuse in `props` ("unknown property 'x'; invalid value ..."), for
// configuration checks that report it as a problem of their own field; "" when librdkafka takes
// every property.
std::string KafkaPropertiesProblem(const KafkaProperties& props);

// Creates a client handle of `type` from a conf (taking ownership of it). Throws ConfigError
// naming `context` if librdkafka refuses (e.g. inconsistent settings).
RdKafkaPtr CreateKafkaHandle(rd_kafka_type_t type, RdKafkaConfPtr conf, std::string_view context);

// A partition of a topic, with an offset where one applies.
struct TopicPartition {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = RD_KAFKA_OFFSET_INVALID;
  // The metadata string of a committed offset (OffsetCommit/OffsetFetch); empty otherwise.
  std::string metadata;

  auto operator<=>(const TopicPartition&) const = default;
};

PartitionListPtr ToPartitionList(const std::vector<TopicPartition>& tps);
std::vector<TopicPartition> FromPartitionList(const rd_kafka_topic_partition_list_t* list);

// Brokers, topics and partitions as a cluster's metadata reports them.
struct PartitionMetadata {
  int32_t id = 0;
  int32_t leader = -1;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
};
struct TopicMetadata {
  std::string name;
  std::vector<PartitionMetadata> partitions;
  rd_kafka_resp_err_t error = RD_KAFKA_RESP_ERR_NO_ERROR;
};
struct BrokerMetadata {
  int32_t id = 0;
  std::string host;
  int port = 0;
};
struct ClusterMetadata {
  std::vector<BrokerMetadata> brokers;
  std::vector<TopicMetadata> topics;
  const TopicMetadata* Find(std::string_view topic) const;
};

}  // namespace rm::common

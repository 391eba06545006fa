#include "common/kafka_config.h"

#include <cstring>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/log.h"
#include "common/result.h"

namespace rm::common {
namespace {

// librdkafka calls this from its own threads; spdlog loggers are thread-safe.
void LogCallback(const rd_kafka_t* rk, int level, const char* facility, const char* buf) {
  const char* name = rk ? rd_kafka_name(rk) : "rdkafka";
  switch (level) {
    case 0:
    case 1:
    case 2:
    case 3:
      RM_LOG_ERROR("[{}] {}: {}", name, facility, buf);
      break;
    case 4:
      RM_LOG_WARN("[{}] {}: {}", name, facility, buf);
      break;
    case 5:
    case 6:
      RM_LOG_INFO("[{}] {}: {}", name, facility, buf);
      break;
    default:
      RM_LOG_DEBUG("[{}] {}: {}", name, facility, buf);
  }
}

}  // namespace

namespace {

// Sets every property of `props` on `conf`; what librdkafka refused, one entry each.
std::vector<std::string> SetProperties(rd_kafka_conf_t* conf, const KafkaProperties& props) {
  std::vector<std::string> problems;
  char errstr[512];
  for (const auto& [key, value] : props) {
    rd_kafka_conf_res_t res =
        rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr));
    if (res == RD_KAFKA_CONF_UNKNOWN) {
      problems.push_back(fmt::format("unknown property '{}'", key));
    } else if (res == RD_KAFKA_CONF_INVALID) {
      problems.push_back(
          fmt::format("invalid value '{}' for property '{}': {}", value, key, errstr));
    }
  }
  return problems;
}

}  // namespace

RdKafkaConfPtr BuildKafkaConf(const KafkaProperties& props, std::string_view context) {
  RdKafkaConfPtr conf(rd_kafka_conf_new());
  if (auto problems = SetProperties(conf.get(), props); !problems.empty()) {
    throw ConfigError(fmt::format("{}: {}", context, fmt::join(problems, "; ")));
  }
  rd_kafka_conf_set_log_cb(conf.get(), LogCallback);
  return conf;
}

std::string KafkaPropertiesProblem(const KafkaProperties& props) {
  RdKafkaConfPtr conf(rd_kafka_conf_new());
  return fmt::format("{}", fmt::join(SetProperties(conf.get(), props), "; "));
}

RdKafkaPtr CreateKafkaHandle(rd_kafka_type_t type, RdKafkaConfPtr conf, std::string_view context) {
  char errstr[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf.get(), errstr, sizeof(errstr));
  if (rk == nullptr) {
    throw ConfigError(fmt::format("{}: cannot create Kafka client: {}", context, errstr));
  }
  conf.release();  // rd_kafka_new took ownership on success.
  return RdKafkaPtr(rk);
}

PartitionListPtr ToPartitionList(const std::vector<TopicPartition>& tps) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(tps.size())));
  for (const auto& tp : tps) {
    rd_kafka_topic_partition_t* e =
        rd_kafka_topic_partition_list_add(list.get(), tp.topic.c_str(), tp.partition);
    e->offset = tp.offset;
    if (!tp.metadata.empty()) {
      // The list frees it with rd_free (free() in librdkafka builds without a custom allocator).
      e->metadata = strdup(tp.metadata.c_str());
      e->metadata_size = tp.metadata.size();
    }
  }
  return list;
}

std::vector<TopicPartition> FromPartitionList(const rd_kafka_topic_partition_list_t* list) {
  std::vector<TopicPartition> out;
  if (list == nullptr) return out;
  out.reserve(static_cast<size_t>(list->cnt));
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    out.push_back({e.topic, e.partition, e.offset,
                   e.metadata ? std::string(static_cast<const char*>(e.metadata), e.metadata_size)
                              : std::string()});
  }
  return out;
}

const TopicMetadata* ClusterMetadata::Find(std::string_view topic) const {
  for (const auto& t : topics) {
    if (t.name == topic) return &t;
  }
  return nullptr;
}

}  // namespace rm::common

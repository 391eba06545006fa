#include "offsets/kafka/internal_topics.h"

#include <fmt/format.h>

#include <thread>

#include "common/log.h"

namespace rm::offsets::kafka {

using namespace std::chrono_literals;

std::string OffsetSyncsTopic(const std::string& source_alias) {
  return "mm2-offset-syncs." + source_alias + ".internal";
}

std::string CheckpointsTopic(const std::string& source_alias) {
  return source_alias + ".checkpoints.internal";
}

KafkaRecordWriter::KafkaRecordWriter(const common::KafkaProperties& props,
                                     const std::string& context)
    : context_(context) {
  common::KafkaProperties p = props;
  p["linger.ms"] = "20";
  p["client.id"] = "regionmirror-offsets";
  p["enable.idempotence"] = "true";
  p["acks"] = "all";
  p["message.timeout.ms"] = "0";  // retried until delivered; see the class comment
  producer_ = std::make_unique<common::Producer>(
      p,
      [this](const rd_kafka_message_t& m) {
        if (m.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
          delivered_.fetch_add(1);
          std::lock_guard lock(acknowledged_mu_);
          auto& acknowledged = acknowledged_[rd_kafka_topic_name(m.rkt)];
          // After a failed record, later acknowledgements no longer mean "every record before
          // it is in the topic": the count stops there (see Acknowledged()).
          if (acknowledged.second) return;
          ++acknowledged.first;
          return;
        }
        MarkFailed(rd_kafka_topic_name(m.rkt));
        // Only the first failure and every 1000th are logged: a broken target fails in bulk.
        if (failed_.fetch_add(1) % 1000 == 0) {
          RM_LOG_ERROR("{}: writing to {} failed: {} ({} failures so far)", context_,
                       rd_kafka_topic_name(m.rkt), rd_kafka_err2str(m.err), failed_.load());
        }
      },
      context);
}

bool KafkaRecordWriter::Write(const std::string& topic, int32_t partition,
                              const offsets::mm2::KafkaRecord& record) {
  common::ProduceRecord r;
  r.topic = topic;
  r.partition = partition;
  r.key = record.key;
  r.value = record.value;
  for (const auto& [name, value] : record.headers) r.headers.push_back({name, value});
  rd_kafka_resp_err_t err = producer_->Produce(r, nullptr);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return true;
  if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
    // Not retriable by waiting (e.g. a key too large for the producer): count it as failed.
    MarkFailed(topic);
    if (failed_.fetch_add(1) % 1000 == 0) {
      RM_LOG_ERROR("{}: cannot write to {}: {}", context_, topic, rd_kafka_err2str(err));
    }
    return true;
  }
  return false;
}

void KafkaRecordWriter::Poll() { producer_->Poll(0ms); }

void KafkaRecordWriter::MarkFailed(const std::string& topic) {
  std::lock_guard lock(acknowledged_mu_);
  acknowledged_[topic].second = true;
}

uint64_t KafkaRecordWriter::Acknowledged(const std::string& topic) const {
  std::lock_guard lock(acknowledged_mu_);
  auto it = acknowledged_.find(topic);
  return it == acknowledged_.end() ? 0 : it->second.first;
}

common::Status KafkaRecordWriter::Flush(std::chrono::milliseconds timeout) {
  return producer_->Flush(timeout);
}

common::Status EnsureInternalTopic(common::AdminClient& admin, const std::string& topic,
                                   const std::string& cleanup_policy,
                                   std::chrono::milliseconds timeout, bool* create_supported,
                                   int replication_factor) {
  // Listing all topics does not auto-create the one we look for.
  auto md = admin.Metadata(std::nullopt, timeout);
  if (!md.ok()) return md.error();
  if (const auto* t = md->Find(topic); t && t->error == RD_KAFKA_RESP_ERR_NO_ERROR) {
    return common::Status::Ok();
  }
  if (*create_supported) {
    common::NewTopic nt{topic, 1, replication_factor, {{"cleanup.policy", cleanup_policy}}};
    auto res = admin.CreateTopics({nt}, timeout);
    if (res.ok() && ((*res)[0].ok() || (*res)[0].error().code == "TOPIC_ALREADY_EXISTS")) {
      RM_LOG_INFO("created topic {} (1 partition, cleanup.policy={}, replication factor {})", topic,
                  cleanup_policy,
                  replication_factor < 0 ? std::string("of the brokers' default")
                                         : std::to_string(replication_factor));
      return common::Status::Ok();
    }
    if (res.ok() && (*res)[0].error().code == "INVALID_REPLICATION_FACTOR") {
      return common::Error{
          "mirror.internal_topic",
          fmt::format("topic {}: replication factor {} refused ({}): set its "
                      "*.topic.replication.factor / *_replication_factor to at most the "
                      "cluster's broker count, or -1 for the brokers' default",
                      topic, replication_factor, (*res)[0].error().message)};
    }
    RM_LOG_WARN("the cluster did not create topic {} ({}); relying on its auto-creation", topic,
                res.ok() ? (*res)[0].error().message : res.error().message);
    *create_supported = false;
  }
  for (int attempt = 0; attempt < 10; ++attempt) {
    auto tmd = admin.Metadata(topic, timeout);
    if (tmd.ok()) {
      if (const auto* t = tmd->Find(topic);
          t && t->error == RD_KAFKA_RESP_ERR_NO_ERROR && !t->partitions.empty()) {
        RM_LOG_INFO("topic {} exists (auto-created, {} partitions; records go to partition {})",
                    topic, t->partitions.size(), kInternalTopicPartition);
        return common::Status::Ok();
      }
    }
    std::this_thread::sleep_for(200ms);
  }
  return common::Error{"mirror.internal_topic",
                       fmt::format("topic {} does not exist and could not be created", topic)};
}

void CheckInternalTopicConfig(common::AdminClient& admin, const std::string& topic,
                              const std::string& cleanup_policy,
                              std::chrono::milliseconds timeout) {
  auto configs = admin.DescribeTopicConfigs(topic, timeout);
  if (!configs.ok()) {
    RM_LOG_DEBUG("cannot check the configuration of topic {}: {}", topic, configs.error().message);
    return;
  }
  auto it = configs->find("cleanup.policy");
  std::string have = it == configs->end() ? "delete" : it->second;
  if (have != cleanup_policy) {
    RM_LOG_WARN("topic {} has cleanup.policy={}, expected {}{}", topic, have, cleanup_policy,
                cleanup_policy == "delete"
                    ? ": a compacted offset-syncs topic keeps too little to rebuild the offset "
                      "map from it"
                    : "");
  }
}

}  // namespace rm::offsets::kafka

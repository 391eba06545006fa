#include "mirror/target_topics.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "common/log.h"

namespace rm::mirror {

using common::Error;
using common::Result;
using common::Status;
using namespace std::chrono_literals;

namespace {

constexpr auto kAdminTimeout = 5000ms;
// Auto-creation: how often, and how long apart, the topic's metadata is asked for.
constexpr int kAutoCreateAttempts = 10;
constexpr auto kAutoCreatePause = 200ms;

class KafkaTopicAdmin : public TopicAdmin {
 public:
  explicit KafkaTopicAdmin(common::AdminClient& admin) : admin_(admin) {}

  Result<std::map<std::string, int>> ListTopics() override {
    auto md = admin_.Metadata(std::nullopt, kAdminTimeout);
    if (!md.ok()) return md.error();
    std::map<std::string, int> out;
    for (const auto& t : md->topics) {
      if (t.error == RD_KAFKA_RESP_ERR_NO_ERROR) {
        out[t.name] = static_cast<int>(t.partitions.size());
      }
    }
    return out;
  }

  Result<std::map<std::string, std::string>> TopicConfigs(const std::string& topic) override {
    return admin_.DescribeTopicConfigs(topic, kAdminTimeout);
  }

  Status ReplaceTopicConfigs(const std::string& topic,
                             const std::map<std::string, std::string>& configs) override {
    return admin_.ReplaceTopicConfigs(topic, configs, kAdminTimeout);
  }

  Status CreateTopic(const std::string& topic, int partitions, int replication_factor,
                     const std::map<std::string, std::string>& configs) override {
    auto res =
        admin_.CreateTopics({{topic, partitions, replication_factor, configs}}, kAdminTimeout);
    if (!res.ok()) return res.error();
    return (*res)[0];
  }

  Status CreatePartitions(const std::string& topic, int total) override {
    return admin_.CreatePartitions(topic, total, kAdminTimeout);
  }

  Result<int> RequestTopic(const std::string& topic) override {
    auto md = admin_.Metadata(topic, kAdminTimeout);
    if (!md.ok()) return md.error();
    const common::TopicMetadata* t = md->Find(topic);
    if (!t || t->error != RD_KAFKA_RESP_ERR_NO_ERROR) return 0;
    return static_cast<int>(t->partitions.size());
  }

 private:
  common::AdminClient& admin_;
};

}  // namespace

std::unique_ptr<TopicAdmin> MakeKafkaTopicAdmin(common::AdminClient& admin) {
  return std::make_unique<KafkaTopicAdmin>(admin);
}

std::map<std::string, std::string> CopyableTopicConfigs(std::map<std::string, std::string> configs,
                                                        const replication::RegexList& exclude) {
  std::erase_if(configs, [&exclude](const auto& kv) { return exclude.Matches(kv.first); });
  return configs;
}

TargetTopics::TargetTopics(TopicAdmin& source, TopicAdmin& target, std::string context,
                           TargetTopicOptions options)
    : source_(source),
      target_(target),
      context_(std::move(context)),
      options_(std::move(options)),
      config_exclude_(options_.config_exclude) {}

Status TargetTopics::Ensure(const Listing& listing, const std::string& source_topic,
                            const std::string& target_topic, int partitions) {
  if (!listing.ok()) return listing.error();
  if (auto it = listing->find(target_topic); it != listing->end()) {
    const int have = it->second;
    if (have > partitions) {
      if (warned_wider_.insert(target_topic).second) {
        RM_LOG_WARN(
            "{}: target topic {} has {} partitions, source {} has {}; copying partition for "
            "partition into the first {}",
            context_, target_topic, have, source_topic, partitions, partitions);
      }
      return Status::Ok();
    }
    if (have == partitions) return Status::Ok();
    auto st = target_.CreatePartitions(target_topic, partitions);
    if (!st.ok()) {
      return Error{"mirror.partition_mismatch",
                   fmt::format("target topic {} has {} partitions but source topic {} has {}, and "
                               "adding partitions failed: {}",
                               target_topic, have, source_topic, partitions, st.error().message)};
    }
    RM_LOG_INFO("{}: target topic {} grown from {} to {} partitions", context_, target_topic, have,
                partitions);
    return Status::Ok();
  }

  if (target_can_create_) {
    auto configs = CopyableConfigs(source_topic);
    Status st = target_.CreateTopic(target_topic, partitions, options_.replication_factor, configs);
    if (st.ok() || st.error().code == "TOPIC_ALREADY_EXISTS") {
      RM_LOG_INFO(
          "{}: created target topic {} with {} partitions, replication factor {} and {} configs "
          "copied",
          context_, target_topic, partitions,
          options_.replication_factor < 0 ? std::string("of the brokers' default")
                                          : std::to_string(options_.replication_factor),
          configs.size());
      // Already there (another instance created it between the listing and now): its partition
      // count is checked on the next refresh like any other topic's.
      return Status::Ok();
    }
    RM_LOG_WARN(
        "{}: the target cluster did not create topic {} ({}); relying on its auto-creation from "
        "now on",
        context_, target_topic, st.error().message);
    target_can_create_ = false;
  }
  return AutoCreate(source_topic, target_topic, partitions);
}

std::map<std::string, std::string> TargetTopics::CopyableConfigs(const std::string& source_topic) {
  std::map<std::string, std::string> out;
  if (!options_.sync_topic_configs || !source_can_describe_) return out;
  auto configs = source_.TopicConfigs(source_topic);
  if (!configs.ok()) {
    RM_LOG_WARN(
        "{}: cannot read the configs of source topic {} ({}); remote topics are created with "
        "the target's defaults from now on",
        context_, source_topic, configs.error().message);
    source_can_describe_ = false;
    return out;
  }
  return CopyableTopicConfigs(std::move(*configs), config_exclude_);
}

Status TargetTopics::AutoCreate(const std::string& source_topic, const std::string& target_topic,
                                int partitions) {
  int have = 0;
  for (int attempt = 0; attempt < kAutoCreateAttempts && have == 0; ++attempt) {
    auto n = target_.RequestTopic(target_topic);
    if (n.ok()) have = *n;
    if (have == 0) std::this_thread::sleep_for(kAutoCreatePause);
  }
  if (have == 0) {
    return Error{
        "mirror.target_topic",
        fmt::format("target topic {} does not exist and could not be created", target_topic)};
  }
  if (have != partitions) {
    return Error{"mirror.partition_mismatch",
                 fmt::format("target topic {} was auto-created with {} partitions but source "
                             "topic {} has {}: create it with {} partitions; not mirrored",
                             target_topic, have, source_topic, partitions, partitions)};
  }
  return Status::Ok();
}

}  // namespace rm::mirror

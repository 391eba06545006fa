#include "offsets/kafka/group_offsets.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <memory>

namespace rm::offsets::kafka {

std::optional<std::string> LiteralGroupName(const std::string& pattern) {
  static constexpr std::string_view kMeta = ".[]{}()*+?^$|\\";
  std::string name;
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\') {
      // An escaped punctuation character is itself; \d, \w and friends are classes.
      if (i + 1 >= pattern.size()) return std::nullopt;
      const char next = pattern[++i];
      if (std::isalnum(static_cast<unsigned char>(next))) return std::nullopt;
      name += next;
      continue;
    }
    if (kMeta.find(c) != std::string_view::npos) return std::nullopt;
    name += c;
  }
  if (name.empty()) return std::nullopt;
  return name;
}

std::vector<common::TopicPartition> MirroredPartitions(const common::ClusterMetadata& metadata,
                                                       const replication::TopicFilter& filter,
                                                       const std::optional<std::string>& topic) {
  std::vector<common::TopicPartition> out;
  for (const auto& t : metadata.topics) {
    if (t.error != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    if (topic && t.name != *topic) continue;
    if (!filter.ShouldReplicate(t.name)) continue;
    for (const auto& p : t.partitions) out.push_back({t.name, p.id});
  }
  std::sort(out.begin(), out.end());
  return out;
}

common::Result<std::vector<offsets::GroupOffset>> ReadGroupOffsets(
    const common::Consumer& consumer, const std::vector<common::TopicPartition>& partitions,
    std::chrono::milliseconds timeout) {
  std::vector<offsets::GroupOffset> out;
  if (partitions.empty()) return out;
  // rd_kafka_committed directly (not Consumer::Committed): the commit metadata is passed on in
  // checkpoints, as MM2 does.
  common::PartitionListPtr list = common::ToPartitionList(partitions);
  rd_kafka_resp_err_t err =
      rd_kafka_committed(consumer.handle(), list.get(), static_cast<int>(timeout.count()));
  if (err) return common::KafkaError(err, consumer.context() + ": committed offsets");
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    if (e.err || e.offset < 0) continue;
    std::string metadata;
    if (e.metadata != nullptr && e.metadata_size > 0) {
      metadata.assign(static_cast<const char*>(e.metadata), e.metadata_size);
    }
    out.push_back({e.topic, e.partition, common::SourceOffset(e.offset), std::move(metadata)});
  }
  return out;
}

std::unique_ptr<common::Consumer> MakeGroupOffsetsClient(const common::KafkaProperties& props,
                                                         const std::string& group,
                                                         const std::string& context) {
  common::KafkaProperties p = props;
  p["group.id"] = group;
  p["enable.auto.commit"] = "false";
  p["enable.auto.offset.store"] = "false";
  p["client.id"] = "regionmirror-offsets";
  return std::make_unique<common::Consumer>(p, nullptr, context);
}

common::Result<GroupActivity> DescribeGroupActivity(common::AdminClient& admin,
                                                    const std::string& group,
                                                    std::chrono::milliseconds timeout) {
  // The legacy rd_kafka_list_groups (DescribeGroups under the hood), not the Admin API's
  // DescribeConsumerGroups: in librdkafka 2.0.2, a DescribeConsumerGroups that fails with
  // "not supported by broker" (the mock) leaves the handle unable to be destroyed (measured:
  // rd_kafka_destroy hangs).
  const struct rd_kafka_group_list* list = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_list_groups(admin.handle(), group.c_str(), &list, static_cast<int>(timeout.count()));
  const std::string what = fmt::format("{}: describe group {}", admin.context(), group);
  if (err) {
    if (list) rd_kafka_group_list_destroy(list);
    return common::KafkaError(err, what);
  }
  std::unique_ptr<const rd_kafka_group_list, void (*)(const rd_kafka_group_list*)> owned(
      list, rd_kafka_group_list_destroy);
  for (int i = 0; i < list->group_cnt; ++i) {
    const auto& g = list->groups[i];
    if (g.group == nullptr || group != g.group || g.err) continue;
    const std::string state = g.state ? g.state : "";
    const bool idle = g.member_cnt == 0 && (state == "Empty" || state == "Dead" || state.empty());
    return idle ? GroupActivity::kInactive : GroupActivity::kActive;
  }
  return common::Error{"UNKNOWN", what + ": no answer for the group"};
}

}  // namespace rm::offsets::kafka

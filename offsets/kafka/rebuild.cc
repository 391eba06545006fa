#include "offsets/kafka/rebuild.h"

#include <fmt/format.h>

#include <chrono>
#include <optional>
#include <string_view>

#include "common/kafka_client.h"
#include "offsets/kafka/internal_topics.h"
#include "offsets/mm2_format.h"

namespace rm::offsets::kafka {

using namespace std::chrono_literals;

namespace {

// The value of a sync record's mark header (mm2_format.h), nullopt when it has none.
std::optional<std::string_view> SyncMarkHeader(rd_kafka_message_t* msg) {
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(msg, &headers) != RD_KAFKA_RESP_ERR_NO_ERROR) return std::nullopt;
  const void* value = nullptr;
  size_t size = 0;
  const std::string name(mm2::kSyncMarkHeader);
  if (rd_kafka_header_get_last(headers, name.c_str(), &value, &size) !=
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    return std::nullopt;
  }
  return std::string_view(static_cast<const char*>(value), value ? size : 0);
}

}  // namespace

common::Result<RebuildReport> RebuildFromSyncTopic(const replication::MirrorConfig& config,
                                                   const replication::FlowConfig& flow,
                                                   OffsetMap& map) {
  using common::ConfigError;
  OffsetSyncRebuilder rebuilder(map, flow.name());
  const replication::ClusterConfig* dst = config.FindCluster(flow.target);
  common::KafkaProperties props = dst->ClientProperties();
  props["enable.auto.commit"] = "false";
  props["enable.partition.eof"] = "true";
  props["client.id"] = "regionmirror-offsets-rebuild";
  props["group.id"] = "regionmirror-offsets-rebuild";  // assign() needs one; nothing is committed
  RebuildReport report;
  report.topic = OffsetSyncsTopic(flow.source);
  const std::string& topic = report.topic;
  common::Consumer consumer(props, nullptr, "offsets rebuild");
  // Listing all topics does not auto-create the one we read.
  auto md = consumer.Metadata(std::nullopt, 10s);
  if (!md.ok()) throw ConfigError(fmt::format("cluster {}: {}", flow.target, md.error().message));
  if (md->Find(topic) == nullptr) {
    throw ConfigError(
        fmt::format("cluster {} has no topic {}: nothing to rebuild from", flow.target, topic));
  }
  auto wm = consumer.QueryWatermarks(topic, kInternalTopicPartition, 10s);
  if (!wm.ok()) throw ConfigError(wm.error().message);
  if (wm->high > wm->low) {
    auto st = consumer.Assign({{topic, kInternalTopicPartition, wm->low}});
    if (!st.ok()) throw ConfigError(st.error().message);
    int64_t next = wm->low;
    auto idle_since = std::chrono::steady_clock::now();
    while (next < wm->high) {
      common::KafkaMessage msg = consumer.Poll(500ms);
      if (!msg) {
        if (std::chrono::steady_clock::now() - idle_since > 30s) {
          return common::Error{
              "offsets.rebuild",
              fmt::format("{} stopped answering at offset {} of {}", topic, next, wm->high)};
        }
        continue;
      }
      idle_since = std::chrono::steady_clock::now();
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
      if (msg->err) {
        return common::Error{"offsets.rebuild", fmt::format("reading {}: {}", topic,
                                                            rd_kafka_message_errstr(msg.get()))};
      }
      next = msg->offset + 1;
      auto sync = mm2::DecodeOffsetSync(
          std::string_view(static_cast<const char*>(msg->key), msg->key ? msg->key_len : 0),
          std::string_view(static_cast<const char*>(msg->payload), msg->payload ? msg->len : 0),
          SyncMarkHeader(msg.get()));
      if (!sync.ok()) {
        ++report.undecodable;
        continue;
      }
      if (auto s = rebuilder.Apply(*sync); !s.ok()) {
        return common::Error{"offsets.rebuild", fmt::format("rebuilding at {} offset {}: {}", topic,
                                                            msg->offset, s.error().message)};
      }
    }
  }
  if (auto s = rebuilder.Finish(); !s.ok()) return s.error();
  report.stats = rebuilder.stats();
  return report;
}

}  // namespace rm::offsets::kafka

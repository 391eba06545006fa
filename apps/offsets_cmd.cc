// `regionmirror offsets translate | dump | rebuild`: the offset map from the command line.
//
// translate and dump open the store as a RocksDB secondary instance (read-only), so they work
// while `regionmirror run` holds the directory; they see what the mirror had made durable (its
// last checkpoint). rebuild writes, so it needs the directory for itself (or --into another).
#include <fmt/format.h>
#include <gflags/gflags.h>

#include <chrono>
#include <filesystem>

#include "apps/subcommands.h"
#include "common/kafka_client.h"
#include "common/log.h"
#include "common/result.h"
#include "mirror/internal_topics.h"
#include "mirror/offsets_queries.h"
#include "offsets/checkpoint_store.h"
#include "offsets/mm2_format.h"
#include "offsets/offset_map.h"
#include "offsets/offset_store.h"
#include "offsets/offset_sync_emitter.h"
#include "replication/config.h"

DECLARE_string(config);  // apps/run_cmd.cc
DEFINE_string(group, "", "offsets translate: the consumer group to translate.");
DEFINE_string(topic, "", "offsets translate/dump: only this source topic.");
DEFINE_string(flow, "",
              "offsets dump: only this flow; offsets rebuild: the flow to rebuild, e.g. "
              "us-east->eu-west.");
DEFINE_bool(json, false, "offsets translate/dump: print JSON instead of a table.");
DEFINE_bool(stored, false,
            "offsets translate: answer from the stored checkpoints, without asking the source "
            "cluster (it is also the fallback when the source cannot be read).");
DEFINE_int64(limit, 10000, "offsets dump: at most this many runs (0: all).");
DEFINE_string(into, "",
              "offsets rebuild: write the rebuilt map into this directory instead of offsets.dir "
              "(which a running mirror may hold).");

namespace rm::apps {
namespace {

using common::ConfigError;
using namespace std::chrono_literals;

replication::MirrorConfig LoadConfig() {
  if (FLAGS_config.empty()) throw ConfigError("--config is required");
  replication::MirrorConfig config = replication::LoadMirrorConfig(FLAGS_config);
  for (const auto& w : config.warnings) RM_LOG_DEBUG("{}", w);
  if (config.offsets.dir.empty()) {
    throw ConfigError(
        fmt::format("{}: offsets.dir: not set, so there is no offset map to read", FLAGS_config));
  }
  return config;
}

std::optional<std::string> Optional(const std::string& flag) {
  if (flag.empty()) return std::nullopt;
  return flag;
}

// The store of `config`, read-only beside a running mirror.
std::unique_ptr<offsets::OffsetStore> OpenSecondary(const replication::MirrorConfig& config) {
  offsets::OffsetStoreOptions options;
  options.secondary = true;
  auto store = offsets::OffsetStore::Open(config.offsets.dir, options);
  if (!store.ok()) {
    throw ConfigError(fmt::format("{}: offsets.dir: {}{}", FLAGS_config, store.error().message,
                                  store.error().code == "offsets.not_found"
                                      ? " (has `regionmirror run` run with this offsets.dir?)"
                                      : ""));
  }
  return std::move(store).value();
}

void Print(const nlohmann::json& j) {
  fmt::print("{}\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

int Translate(const std::vector<std::string>&) {
  if (FLAGS_group.empty()) throw ConfigError("--group is required");
  replication::MirrorConfig config = LoadConfig();
  auto store = OpenSecondary(config);
  offsets::OffsetMap map(*store);
  offsets::CheckpointStore checkpoints(*store);
  mirror::TranslateQuery q;
  q.group = FLAGS_group;
  q.topic = Optional(FLAGS_topic);
  q.stored_only = FLAGS_stored;
  auto rows = mirror::TranslateGroupPositions(config, map, checkpoints, q);
  if (!rows.ok()) {
    fmt::print(stderr, "regionmirror: {}\n", rows.error().message);
    return 1;
  }
  if (FLAGS_json) {
    Print(mirror::ToJson(*rows));
  } else if (rows->empty()) {
    fmt::print("no positions for group {}{}\n", FLAGS_group,
               FLAGS_topic.empty() ? "" : " on topic " + FLAGS_topic);
  } else {
    fmt::print("{}", mirror::TranslateTable(*rows));
  }
  return 0;
}

int Dump(const std::vector<std::string>&) {
  replication::MirrorConfig config = LoadConfig();
  auto store = OpenSecondary(config);
  offsets::OffsetMap map(*store);
  offsets::CheckpointStore checkpoints(*store);
  mirror::DumpQuery q;
  q.flow = Optional(FLAGS_flow);
  q.topic = Optional(FLAGS_topic);
  q.limit = static_cast<size_t>(std::max<int64_t>(0, FLAGS_limit));
  auto dump = mirror::DumpOffsets(map, checkpoints, q);
  if (!dump.ok()) {
    fmt::print(stderr, "regionmirror: {}\n", dump.error().message);
    return 1;
  }
  if (FLAGS_json) {
    Print(*dump);
  } else {
    fmt::print("{}", mirror::DumpTable(*dump));
  }
  return 0;
}

// Reads partition 0 of the flow's offset-syncs topic on its target from the beginning to the
// high watermark seen at start, applying every sync to `rebuilder`.
int Rebuild(const std::vector<std::string>&) {
  if (FLAGS_flow.empty()) throw ConfigError("--flow is required (e.g. --flow us-east->eu-west)");
  replication::MirrorConfig config = LoadConfig();
  const replication::FlowConfig* flow = nullptr;
  std::string names;
  for (const auto& f : config.flows) {
    if (f.name() == FLAGS_flow) flow = &f;
    names += (names.empty() ? "" : ", ") + f.name();
  }
  if (flow == nullptr) {
    throw ConfigError(
        fmt::format("--flow {}: no such flow in {} (flows: {})", FLAGS_flow, FLAGS_config, names));
  }
  const std::filesystem::path dir = FLAGS_into.empty() ? config.offsets.dir : FLAGS_into;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  auto store = offsets::OffsetStore::Open(dir);
  if (!store.ok()) {
    throw ConfigError(fmt::format("{}: {}{}", FLAGS_into.empty() ? "offsets.dir" : "--into",
                                  store.error().message,
                                  store.error().code == "offsets.locked"
                                      ? " (stop the mirror, or rebuild --into another directory)"
                                      : ""));
  }
  offsets::OffsetMap map(**store);
  offsets::OffsetSyncRebuilder rebuilder(map, flow->name());

  const replication::ClusterConfig* dst = config.FindCluster(flow->target);
  common::KafkaProperties props = dst->ClientProperties();
  props["enable.auto.commit"] = "false";
  props["enable.partition.eof"] = "true";
  props["client.id"] = "regionmirror-offsets-rebuild";
  props["group.id"] = "regionmirror-offsets-rebuild";  // assign() needs one; nothing is committed
  const std::string topic = mirror::OffsetSyncsTopic(flow->source);
  common::Consumer consumer(props, nullptr, "offsets rebuild");
  // Listing all topics does not auto-create the one we read.
  auto md = consumer.Metadata(std::nullopt, 10s);
  if (!md.ok()) throw ConfigError(fmt::format("cluster {}: {}", flow->target, md.error().message));
  if (md->Find(topic) == nullptr) {
    throw ConfigError(
        fmt::format("cluster {} has no topic {}: nothing to rebuild from", flow->target, topic));
  }
  auto wm = consumer.QueryWatermarks(topic, mirror::kInternalTopicPartition, 10s);
  if (!wm.ok()) throw ConfigError(wm.error().message);
  uint64_t undecodable = 0;
  if (wm->high > wm->low) {
    auto st = consumer.Assign({{topic, mirror::kInternalTopicPartition, wm->low}});
    if (!st.ok()) throw ConfigError(st.error().message);
    int64_t next = wm->low;
    auto idle_since = std::chrono::steady_clock::now();
    while (next < wm->high) {
      common::KafkaMessage msg = consumer.Poll(500ms);
      if (!msg) {
        if (std::chrono::steady_clock::now() - idle_since > 30s) {
          fmt::print(stderr, "regionmirror: {} stopped answering at offset {} of {}\n", topic, next,
                     wm->high);
          return 1;
        }
        continue;
      }
      idle_since = std::chrono::steady_clock::now();
      if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) break;
      if (msg->err) {
        fmt::print(stderr, "regionmirror: reading {}: {}\n", topic,
                   rd_kafka_message_errstr(msg.get()));
        return 1;
      }
      next = msg->offset + 1;
      auto sync = offsets::mm2::DecodeOffsetSync(
          std::string_view(static_cast<const char*>(msg->key), msg->key ? msg->key_len : 0),
          std::string_view(static_cast<const char*>(msg->payload), msg->payload ? msg->len : 0));
      if (!sync.ok()) {
        ++undecodable;
        continue;
      }
      if (auto s = rebuilder.Apply(*sync); !s.ok()) {
        fmt::print(stderr, "regionmirror: rebuilding at {} offset {}: {}\n", topic, msg->offset,
                   s.error().message);
        return 1;
      }
    }
  }
  if (auto s = rebuilder.Finish(); !s.ok()) {
    fmt::print(stderr, "regionmirror: {}\n", s.error().message);
    return 1;
  }
  const auto& st = rebuilder.stats();
  nlohmann::json out = {{"flow", flow->name()},
                        {"dir", dir.string()},
                        {"topic", topic},
                        {"syncs", st.syncs},
                        {"undecodable", undecodable},
                        {"stale_syncs", st.stale_syncs},
                        {"invalid_syncs", st.invalid_syncs},
                        {"runs_appended", st.runs_appended}};
  if (FLAGS_json) {
    Print(out);
  } else {
    fmt::print("rebuilt flow {} in {} from {}: {} syncs ({} stale, {} invalid, {} undecodable)\n",
               flow->name(), dir.string(), topic, st.syncs, st.stale_syncs, st.invalid_syncs,
               undecodable);
  }
  return 0;
}

}  // namespace

std::vector<common::Subcommand> OffsetsSubcommands() {
  return {
      {"offsets translate",
       "Where a consumer group continues on each flow's target: its committed source offsets "
       "translated through the offset map (stored checkpoints when the source is unreachable).",
       "",
       {"config", "group", "topic", "stored", "json"},
       Translate},
      {"offsets dump",
       "List the offset map's runs and the stored group checkpoints.",
       "",
       {"config", "flow", "topic", "limit", "json"},
       Dump},
      {"offsets rebuild",
       "Rebuild a flow's offset map from the offset-syncs topic on its target.",
       "",
       {"config", "flow", "into", "json"},
       Rebuild},
  };
}

}  // namespace rm::apps

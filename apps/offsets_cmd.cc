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
#include "common/log.h"
#include "common/result.h"
#include "offsets/checkpoint_store.h"
#include "offsets/kafka/queries.h"
#include "offsets/kafka/rebuild.h"
#include "offsets/offset_map.h"
#include "offsets/offset_store.h"
#include "replication/config.h"

DECLARE_string(config);  // apps/run_cmd.cc
DEFINE_string(group, "", "offsets translate: the consumer group to translate.");
DEFINE_string(topic, "",
              "offsets translate/dump: only this source topic; topology resolve: the topic to "
              "read.");
DEFINE_string(flow, "",
              "offsets dump: only this flow; offsets rebuild: the flow to rebuild, e.g. "
              "us-east->eu-west.");
DEFINE_bool(json, false,
            "offsets translate/dump, topology validate/plan/resolve: print JSON instead of text.");
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
  offsets::kafka::TranslateQuery q;
  q.group = FLAGS_group;
  q.topic = Optional(FLAGS_topic);
  q.stored_only = FLAGS_stored;
  auto rows = offsets::kafka::TranslateGroupPositions(config, map, checkpoints, q);
  if (!rows.ok()) {
    fmt::print(stderr, "regionmirror: {}\n", rows.error().message);
    return 1;
  }
  if (FLAGS_json) {
    Print(offsets::kafka::ToJson(*rows));
  } else if (rows->empty()) {
    fmt::print("no positions for group {}{}\n", FLAGS_group,
               FLAGS_topic.empty() ? "" : " on topic " + FLAGS_topic);
  } else {
    fmt::print("{}", offsets::kafka::TranslateTable(*rows));
  }
  return 0;
}

int Dump(const std::vector<std::string>&) {
  replication::MirrorConfig config = LoadConfig();
  auto store = OpenSecondary(config);
  offsets::OffsetMap map(*store);
  offsets::CheckpointStore checkpoints(*store);
  offsets::kafka::DumpQuery q;
  q.flow = Optional(FLAGS_flow);
  q.topic = Optional(FLAGS_topic);
  q.limit = static_cast<size_t>(std::max<int64_t>(0, FLAGS_limit));
  auto dump = offsets::kafka::DumpOffsets(map, checkpoints, q);
  if (!dump.ok()) {
    fmt::print(stderr, "regionmirror: {}\n", dump.error().message);
    return 1;
  }
  if (FLAGS_json) {
    Print(*dump);
  } else {
    fmt::print("{}", offsets::kafka::DumpTable(*dump));
  }
  return 0;
}

// Rebuilds the flow's map from its offset-syncs topic (offsets/kafka/rebuild.h).
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
  auto report = offsets::kafka::RebuildFromSyncTopic(config, *flow, map);
  if (!report.ok()) {
    fmt::print(stderr, "regionmirror: {}\n", report.error().message);
    return 1;
  }
  const std::string& topic = report->topic;
  const uint64_t undecodable = report->undecodable;
  const auto& st = report->stats;
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

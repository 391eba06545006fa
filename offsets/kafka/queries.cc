#include "offsets/kafka/queries.h"

#include <fmt/format.h>

#include <algorithm>

#include "common/log.h"
#include "offsets/admin.h"
#include "offsets/kafka/group_offsets.h"
#include "replication/replication_policy.h"
#include "replication/topic_filter.h"

namespace rm::offsets::kafka {

namespace {

// The flow's rows from a live read of the source; an error when the source cannot be read.
common::Result<std::vector<TranslatedPosition>> LiveRows(
    const replication::MirrorConfig& config, const replication::FlowConfig& flow,
    const replication::ReplicationPolicy& policy, const offsets::OffsetMap& map,
    const TranslateQuery& query) {
  const replication::ClusterConfig* src = config.FindCluster(flow.source);
  if (src == nullptr) return common::Error{"mirror.config", "unknown cluster " + flow.source};
  auto client = MakeGroupOffsetsClient(
      src->ClientProperties(), query.group,
      fmt::format("offsets translate: group {} on {}", query.group, flow.source));
  auto md = client->Metadata(std::nullopt, query.timeout);
  if (!md.ok()) return md.error();
  replication::TopicFilter filter(flow, policy);
  auto committed =
      ReadGroupOffsets(*client, MirroredPartitions(*md, filter, query.topic), query.timeout);
  if (!committed.ok()) return committed.error();
  std::vector<TranslatedPosition> rows;
  for (const auto& c : *committed) {
    auto t = map.Translate({flow.name(), c.topic, c.partition}, c.committed);
    if (!t.ok()) return t.error();
    rows.push_back({flow.name(), query.group, c.topic,
                    policy.FormatRemoteTopic(flow.source, c.topic), c.partition, c.committed,
                    t->target, t->kind, "live", 0});
  }
  return rows;
}

nlohmann::json::string_t Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<std::string> Param(const common::HttpRequest& req, const std::string& name) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return std::nullopt;
  return it->second;
}

}  // namespace

common::Result<std::vector<TranslatedPosition>> TranslateGroupPositions(
    const replication::MirrorConfig& config, const offsets::OffsetMap& map,
    const offsets::CheckpointStore& checkpoints, const TranslateQuery& query) {
  if (query.group.empty()) return common::Error{"mirror.invalid_argument", "no group given"};
  std::vector<TranslatedPosition> rows;
  std::optional<std::vector<offsets::GroupCheckpoint>> stored;  // read once, when needed
  for (const auto& flow : config.flows) {
    if (!flow.enabled) continue;
    auto policy = replication::MakeReplicationPolicy(flow.policy, flow.separator);
    if (!query.stored_only) {
      auto live = LiveRows(config, flow, *policy, map, query);
      if (live.ok()) {
        rows.insert(rows.end(), live->begin(), live->end());
        continue;
      }
      RM_LOG_WARN(
          "offsets translate: reading group {} on {} failed ({}); answering from the "
          "stored checkpoints of flow {}",
          query.group, flow.source, live.error().message, flow.name());
    }
    if (!stored) {
      auto s = offsets::StoredGroupPositions(checkpoints, query.group, query.topic);
      if (!s.ok()) return s.error();
      stored = std::move(*s);
    }
    for (const auto& c : *stored) {
      if (c.flow != flow.name()) continue;
      rows.push_back({c.flow, c.group, c.topic, policy->FormatRemoteTopic(flow.source, c.topic),
                      c.partition, c.source_offset, c.target_offset, c.kind, "checkpoint",
                      c.time_ms});
    }
  }
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return std::tie(a.flow, a.topic, a.partition) < std::tie(b.flow, b.topic, b.partition);
  });
  return rows;
}

common::Result<nlohmann::json> DumpOffsets(const offsets::OffsetMap& map,
                                           const offsets::CheckpointStore& checkpoints,
                                           const DumpQuery& query) {
  offsets::RunFilter rf;
  rf.flow = query.flow;
  rf.topic = query.topic;
  auto runs = offsets::DumpRuns(map, rf, query.limit);
  if (!runs.ok()) return runs.error();
  offsets::CheckpointFilter cf;
  cf.flow = query.flow;
  cf.topic = query.topic;
  auto cps = checkpoints.List(cf);
  if (!cps.ok()) return cps.error();
  nlohmann::json out = offsets::ToJson(*runs);
  out["checkpoints"] = offsets::ToJson(*cps);
  return out;
}

nlohmann::json ToJson(const std::vector<TranslatedPosition>& rows) {
  auto out = nlohmann::json::array();
  for (const auto& r : rows) {
    nlohmann::json j = {{"flow", r.flow},
                        {"group", r.group},
                        {"topic", r.topic},
                        {"remote_topic", r.remote_topic},
                        {"partition", r.partition},
                        {"source_offset", r.source_offset.value()},
                        {"target_offset", r.target_offset.value()},
                        {"translation", std::string(offsets::ToString(r.kind))},
                        {"from", r.from}};
    if (r.from == "checkpoint") j["time_ms"] = r.time_ms;
    out.push_back(std::move(j));
  }
  return out;
}

namespace {

// Left-aligned columns, two spaces apart.
std::string Table(const std::vector<std::vector<std::string>>& cells) {
  std::vector<size_t> width;
  for (const auto& row : cells) {
    if (width.size() < row.size()) width.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  }
  std::string out;
  for (const auto& row : cells) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += i + 1 == row.size() ? row[i] : fmt::format("{:<{}}  ", row[i], width[i]);
    }
    out += line + "\n";
  }
  return out;
}

}  // namespace

std::string TranslateTable(const std::vector<TranslatedPosition>& rows) {
  std::vector<std::vector<std::string>> cells = {{"FLOW", "GROUP", "TOPIC", "PARTITION", "SOURCE",
                                                  "TARGET_TOPIC", "TARGET", "TRANSLATION", "FROM"}};
  for (const auto& r : rows) {
    cells.push_back({r.flow, r.group, r.topic, std::to_string(r.partition),
                     std::to_string(r.source_offset.value()), r.remote_topic,
                     std::to_string(r.target_offset.value()),
                     std::string(offsets::ToString(r.kind)), r.from});
  }
  return Table(cells);
}

std::string DumpTable(const nlohmann::json& dump) {
  std::vector<std::vector<std::string>> runs = {
      {"FLOW", "TOPIC", "PARTITION", "SOURCE_START", "TARGET_START", "COUNT"}};
  for (const auto& r : dump.at("runs")) {
    runs.push_back({r.at("flow").get<std::string>(), r.at("topic").get<std::string>(),
                    std::to_string(r.at("partition").get<int32_t>()),
                    std::to_string(r.at("source_start").get<int64_t>()),
                    std::to_string(r.at("target_start").get<int64_t>()),
                    std::to_string(r.at("count").get<int64_t>())});
  }
  std::vector<std::vector<std::string>> cps = {
      {"GROUP", "FLOW", "TOPIC", "PARTITION", "SOURCE", "TARGET", "TRANSLATION", "TIME_MS"}};
  for (const auto& c : dump.at("checkpoints")) {
    cps.push_back(
        {c.at("group").get<std::string>(), c.at("flow").get<std::string>(),
         c.at("topic").get<std::string>(), std::to_string(c.at("partition").get<int32_t>()),
         std::to_string(c.at("source_offset").get<int64_t>()),
         std::to_string(c.at("target_offset").get<int64_t>()),
         c.at("translation").get<std::string>(), std::to_string(c.at("time_ms").get<int64_t>())});
  }
  std::string out = fmt::format("runs ({}{}):\n", runs.size() - 1,
                                dump.value("truncated", false) ? ", truncated" : "");
  out += Table(runs);
  out += fmt::format("\ncheckpoints ({}):\n", cps.size() - 1);
  out += Table(cps);
  return out;
}

void InstallOffsetsRoutes(common::HttpServer& server, const replication::MirrorConfig& config,
                          const offsets::OffsetMap& map,
                          const offsets::CheckpointStore& checkpoints) {
  server.RouteExpensive("GET", "/offsets/translate", [&](const common::HttpRequest& req) {
    TranslateQuery q;
    q.group = Param(req, "group").value_or("");
    if (q.group.empty()) throw common::HttpError(400, "the group parameter is required");
    q.topic = Param(req, "topic");
    auto stored = Param(req, "stored");
    q.stored_only = stored && (*stored == "1" || *stored == "true");
    // Runs on the admin server's small worker pool: keep a dead source from holding a worker.
    q.timeout = std::chrono::milliseconds(3000);
    auto rows = TranslateGroupPositions(config, map, checkpoints, q);
    if (!rows.ok()) throw common::HttpError(500, rows.error().message);
    return common::HttpResponse{200, "application/json", Dump(ToJson(*rows))};
  });
  server.RouteExpensive("GET", "/offsets/dump", [&](const common::HttpRequest& req) {
    DumpQuery q;
    q.flow = Param(req, "flow");
    q.topic = Param(req, "topic");
    if (auto limit = Param(req, "limit")) {
      try {
        q.limit = static_cast<size_t>(std::stoull(*limit));
      } catch (const std::exception&) {
        throw common::HttpError(400, "limit must be a non-negative number");
      }
    }
    auto dump = DumpOffsets(map, checkpoints, q);
    if (!dump.ok()) throw common::HttpError(500, dump.error().message);
    return common::HttpResponse{200, "application/json", Dump(*dump)};
  });
}

}  // namespace rm::offsets::kafka

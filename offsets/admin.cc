#include "offsets/admin.h"

namespace rm::offsets {

common::Result<RunsDump> DumpRuns(const OffsetMap& map, const RunFilter& filter, size_t limit) {
  RunsDump dump;
  auto s = map.ForEachRun(filter, [&](const PartitionKey& p, const Run& run) {
    if (limit != 0 && dump.runs.size() == limit) {
      dump.truncated = true;
      return false;
    }
    dump.runs.push_back({p, run});
    return true;
  });
  if (!s.ok()) return s.error();
  return dump;
}

common::Result<std::vector<GroupCheckpoint>> TranslateGroup(const OffsetMap& map,
                                                            const std::string& flow,
                                                            const std::string& group,
                                                            const std::vector<GroupOffset>& offsets,
                                                            int64_t now_ms) {
  std::vector<GroupCheckpoint> out;
  out.reserve(offsets.size());
  for (const auto& offset : offsets) {
    auto translated = map.Translate({flow, offset.topic, offset.partition}, offset.committed);
    if (!translated.ok()) return translated.error();
    out.push_back(GroupCheckpoint{flow, group, offset.topic, offset.partition, offset.committed,
                                  translated->target, translated->kind, now_ms, offset.metadata});
  }
  return out;
}

common::Result<std::vector<GroupCheckpoint>> CheckpointGroup(
    OffsetMap& map, CheckpointStore& checkpoints, const std::string& flow, const std::string& group,
    const std::vector<GroupOffset>& offsets, int64_t now_ms) {
  // Translate against everything reported so far, made durable first: a stored checkpoint
  // never refers to a run that a crash could take back.
  if (auto s = map.Checkpoint(); !s.ok() && s.error().code != "offsets.rejected_report") {
    return s.error();
  }
  auto translated = TranslateGroup(map, flow, group, offsets, now_ms);
  if (!translated.ok()) return translated.error();
  std::vector<GroupCheckpoint> stored;
  for (auto& c : *translated) {
    if (c.kind != TranslationKind::kNoMapping) stored.push_back(std::move(c));
  }
  if (auto s = checkpoints.Put(stored, /*sync=*/true); !s.ok()) return s.error();
  return stored;
}

common::Result<std::vector<GroupCheckpoint>> StoredGroupPositions(
    const CheckpointStore& checkpoints, const std::string& group,
    const std::optional<std::string>& topic) {
  CheckpointFilter filter;
  filter.group = group;
  filter.topic = topic;
  return checkpoints.List(filter);
}

nlohmann::json ToJson(const RunsDump& dump) {
  auto runs = nlohmann::json::array();
  for (const auto& row : dump.runs) {
    runs.push_back({{"flow", row.partition.flow},
                    {"topic", row.partition.topic},
                    {"partition", row.partition.partition},
                    {"source_start", row.run.source_start.value()},
                    {"target_start", row.run.target_start.value()},
                    {"count", row.run.count}});
  }
  return {{"runs", std::move(runs)}, {"truncated", dump.truncated}};
}

nlohmann::json ToJson(const GroupCheckpoint& c) {
  return {{"flow", c.flow},
          {"group", c.group},
          {"topic", c.topic},
          {"partition", c.partition},
          {"source_offset", c.source_offset.value()},
          {"target_offset", c.target_offset.value()},
          {"translation", std::string(ToString(c.kind))},
          {"time_ms", c.time_ms},
          {"metadata", c.metadata}};
}

nlohmann::json ToJson(const std::vector<GroupCheckpoint>& checkpoints) {
  auto out = nlohmann::json::array();
  for (const auto& c : checkpoints) out.push_back(ToJson(c));
  return out;
}

nlohmann::json ToJson(const TranslationResult& result) {
  return {{"translation", std::string(ToString(result.kind))},
          {"target_offset", result.target.value()}};
}

}  // namespace rm::offsets

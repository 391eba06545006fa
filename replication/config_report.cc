#include "replication/config_report.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

#include "replication/replication_policy.h"

namespace rm::replication {
namespace {

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "(none)" : out;
}

std::string Seconds(int64_t ms) {
  return ms % 1000 == 0 ? fmt::format("{} s", ms / 1000) : fmt::format("{} ms", ms);
}

}  // namespace

std::string DescribeMirrorConfig(const MirrorConfig& config, const std::string& file) {
  std::string out = fmt::format("{}: OK ({} clusters, {} flows)\n", file, config.clusters.size(),
                                config.flows.size());
  out += "clusters:\n";
  for (const auto& c : config.clusters) {
    out += fmt::format("  {}: {}", c.alias, c.bootstrap_servers);
    if (!c.properties.empty()) {
      std::vector<std::string> names;
      for (const auto& [k, v] : c.properties) names.push_back(k);
      out += fmt::format(" (client settings: {})", Join(names));
    }
    out += "\n";
  }
  out += "flows:\n";
  for (const auto& fl : config.flows) {
    auto policy = MakeReplicationPolicy(fl.policy, fl.separator);
    const OffsetsSettings o = config.OffsetsFor(fl);
    out += fmt::format("  {}{}\n", fl.name(), fl.enabled ? "" : " (disabled)");
    out += fmt::format("    topics: {}; excluded: {}{}\n", Join(fl.topics), Join(fl.topics_exclude),
                       fl.replicate_heartbeats ? "; heartbeat topics always" : "");
    out += fmt::format("    remote topics: {}\n", policy->FormatRemoteTopic(fl.source, "<topic>"));
    out += fmt::format("    groups: {}; excluded: {}\n", Join(fl.groups), Join(fl.groups_exclude));
    // What happens to each record, in the order the steps run.
    if (fl.transforms.empty()) {
      out += "    transforms: none (records are copied as read)\n";
    } else {
      out += "    transforms, in order:\n";
      const auto& steps = fl.transforms.steps();
      for (size_t i = 0; i < steps.size(); ++i) {
        out += fmt::format("      {}. {}\n", i + 1, DescribeRecordTransformStep(steps[i]));
      }
    }
    if (config.offsets.dir.empty()) {
      out += "    offsets: not recorded (no offsets directory): no translation, no checkpoints\n";
    } else {
      out += fmt::format(
          "    offsets: group positions translated every {}{}{}; groups listed every {}\n",
          Seconds(o.group_interval_ms),
          o.emit_checkpoints ? fmt::format(", checkpoints into {}.checkpoints.internal on {}",
                                           fl.source, fl.target)
                             : ", no checkpoint records",
          o.sync_group_offsets ? ", committed on the target for idle groups" : "",
          Seconds(std::max(o.refresh_groups_interval_ms, o.group_interval_ms)));
    }
    auto rf = [](int n) { return n < 0 ? std::string("broker default") : std::to_string(n); };
    out += fmt::format("    remote topic creation: replication factor {}, topic configs {}\n",
                       rf(fl.replication_factor),
                       fl.sync_topic_configs
                           ? fmt::format("copied and kept in step every {}, except {}",
                                         Seconds(fl.sync_topic_configs_interval_ms),
                                         Join(fl.config_properties_exclude))
                           : std::string("not copied (the target's defaults)"));
    if (!config.offsets.dir.empty()) {
      out += fmt::format(
          "    internal topics' replication factor: offset syncs {}, checkpoints {}\n",
          rf(fl.offset_syncs_replication_factor), rf(fl.checkpoints_replication_factor));
    }
  }
  if (config.offsets.dir.empty()) {
    out += "offsets: not recorded (set offsets.dir)\n";
  } else {
    out += fmt::format("offsets: {} (offset syncs {})\n", config.offsets.dir,
                       config.offsets.emit_syncs
                           ? "into mm2-offset-syncs.<source>.internal on each target"
                           : "not published");
  }
  if (config.heartbeats.empty()) {
    out += "heartbeats: off\n";
  } else {
    std::vector<std::string> pairs;
    for (const auto& hb : config.heartbeats) {
      pairs.push_back(
          fmt::format("{}->{} every {}{}", hb.source, hb.target, Seconds(hb.interval_ms),
                      hb.replication_factor < 0
                          ? ""
                          : fmt::format(" (replication factor {})", hb.replication_factor)));
    }
    out += fmt::format("heartbeats: {} (topic {} on the target)\n", Join(pairs), kHeartbeatsTopic);
  }
  if (!config.defaulted.empty()) {
    out += "defaulted (not set in the file):\n";
    for (const auto& d : config.defaulted) out += "  " + d + "\n";
  }
  if (config.warnings.empty()) {
    out += "not applied: nothing, every key is applied\n";
  } else {
    for (const auto& w : config.warnings) out += "not applied: " + w + "\n";
  }
  return out;
}

std::optional<std::string> OffsetsDirProblem(const MirrorConfig& config) {
  if (config.offsets.dir.empty()) return std::nullopt;
  std::filesystem::path p = std::filesystem::absolute(config.offsets.dir);
  std::error_code ec;
  while (!std::filesystem::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) {
    p = p.parent_path();
  }
  if (!std::filesystem::is_directory(p, ec)) {
    return fmt::format("offsets.dir: {} is not a directory", p.string());
  }
  if (access(p.c_str(), W_OK | X_OK) != 0) {
    return fmt::format(
        "offsets.dir: {} cannot be {} ({} is not writable by this user): set another "
        "directory (regionmirror.offsets.dir in mm2.properties, offsets.dir in YAML, or "
        "--offsets-dir)",
        config.offsets.dir,
        p == std::filesystem::absolute(config.offsets.dir) ? "written" : "created", p.string());
  }
  return std::nullopt;
}

}  // namespace rm::replication

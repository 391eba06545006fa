#include "topology/config.h"

#include <fmt/format.h>

#include "common/config_reader.h"
#include "common/result.h"
#include "common/secrets.h"

namespace rm::topology {

using common::ConfigError;
using Reader = common::YamlFieldReader;

namespace {

// Reads `key` as either a string or a list of strings into `out`.
void GetNames(Reader& r, const YAML::Node& node, const std::string& path, const char* key,
              std::vector<std::string>& out) {
  r.GetStringList(node, path, key, out);
}

void ReadCluster(Reader& r, const YAML::Node& node, const std::string& path, int line,
                 ClusterSpec& c) {
  r.CheckKeys(
      node, path,
      {"alias", "bootstrap_servers", "properties", "properties_env", "properties_file", "racks"});
  c.line = line;
  r.Get(node, path, "alias", c.alias);
  r.Get(node, path, "bootstrap_servers", c.bootstrap_servers);
  r.GetProperties(node, path, "properties", c.properties);
  r.GetProperties(node, path, "properties_env", c.properties_env);
  r.GetProperties(node, path, "properties_file", c.properties_file);
  r.GetStringList(node, path, "racks", c.racks);
  if (c.alias.empty()) r.Problem(path + ".alias", "required");
  if (c.bootstrap_servers.empty()) r.Problem(path + ".bootstrap_servers", "required");
  for (const auto& [key, value] : c.properties) {
    if (key == "bootstrap.servers") {
      r.Problem(path + ".properties.bootstrap.servers", "set bootstrap_servers instead");
    } else if (common::IsSecretProperty(key)) {
      r.Problem(path + ".properties." + key,
                "secrets are never written in the file: use properties_env or properties_file");
    }
  }
}

}  // namespace

std::string Problem::ToString() const {
  std::string where = line > 0 ? fmt::format("{}:{}", file, line) : file;
  return field.empty() ? fmt::format("{}: {}", where, message)
                       : fmt::format("{}: {}: {}", where, field, message);
}

std::string TopicRule::Describe() const {
  return is_literal() ? fmt::format("topics[{}] (topic '{}', line {})", index, topic, line)
                      : fmt::format("topics[{}] (pattern '{}', line {})", index, pattern, line);
}

int TopologyConfig::LineOf(const std::string& field) const { return lines.LineOf(field); }

const RegionSpec* TopologyConfig::FindRegion(const std::string& name) const {
  for (const auto& r : regions) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

replication::ClusterConfig ClusterSpec::WithSecrets(const std::string& file) const {
  replication::ClusterConfig out = *this;
  std::vector<std::string> problems;
  common::ReadSecrets({properties_env, properties_file},
                      fmt::format("{}: cluster {}: ", file, alias), out.properties, problems);
  common::ThrowIfProblems(problems);
  return out;
}

namespace {

LoadedTopology ReadTopology(const YAML::Node& root, const std::string& file) {
  LoadedTopology out;
  TopologyConfig& cfg = out.config;
  cfg.file = file;
  cfg.lines = common::YamlLines(root);
  std::vector<std::string> raw;
  Reader r(raw);
  r.CheckKeys(root, "",
              {"regions", "links", "topics", "groups", "replication_policy", "separator", "health",
               "mirror", "offsets"});

  if (!root["regions"]) r.Problem("regions", "required: at least one region");
  if (r.IsList(root["regions"], "regions")) {
    const YAML::Node rs = root["regions"];
    for (size_t i = 0; i < rs.size(); ++i) {
      std::string f = fmt::format("regions[{}]", i);
      if (!r.IsMap(rs[i], f)) continue;
      r.CheckKeys(rs[i], f, {"name", "zones", "clusters", "primary"});
      RegionSpec region;
      region.line = cfg.LineOf(f);
      r.Get(rs[i], f, "name", region.name);
      if (region.name.empty()) r.Problem(f + ".name", "required");
      r.GetStringList(rs[i], f, "zones", region.zones);
      r.Get(rs[i], f, "primary", region.primary);
      if (!rs[i]["clusters"]) r.Problem(f + ".clusters", "required: at least one cluster");
      if (r.IsList(rs[i]["clusters"], f + ".clusters")) {
        const YAML::Node cs = rs[i]["clusters"];
        for (size_t j = 0; j < cs.size(); ++j) {
          std::string cf = fmt::format("{}.clusters[{}]", f, j);
          if (!r.IsMap(cs[j], cf)) continue;
          ClusterSpec c;
          ReadCluster(r, cs[j], cf, cfg.LineOf(cf), c);
          if (c.racks.empty()) c.racks = region.zones;
          region.clusters.push_back(std::move(c));
        }
      }
      if (region.primary.empty() && !region.clusters.empty()) {
        region.primary = region.clusters.front().alias;
      }
      cfg.regions.push_back(std::move(region));
    }
  }

  if (r.IsList(root["links"], "links")) {
    const YAML::Node ls = root["links"];
    for (size_t i = 0; i < ls.size(); ++i) {
      std::string f = fmt::format("links[{}]", i);
      if (!r.IsMap(ls[i], f)) continue;
      r.CheckKeys(ls[i], f, {"regions", "rtt_ms"});
      LinkSpec link;
      link.line = cfg.LineOf(f);
      std::vector<std::string> pair;
      r.GetStringList(ls[i], f, "regions", pair);
      if (pair.size() != 2) {
        r.Problem(f + ".regions", "expected two regions, e.g. [us-east, eu-west]");
      } else {
        link.a = pair[0];
        link.b = pair[1];
      }
      if (!ls[i]["rtt_ms"]) r.Problem(f + ".rtt_ms", "required");
      r.Get(ls[i], f, "rtt_ms", link.rtt_ms);
      cfg.links.push_back(std::move(link));
    }
  }

  if (r.IsList(root["topics"], "topics")) {
    const YAML::Node ts = root["topics"];
    for (size_t i = 0; i < ts.size(); ++i) {
      std::string f = fmt::format("topics[{}]", i);
      if (!r.IsMap(ts[i], f)) continue;
      r.CheckKeys(
          ts[i], f,
          {"topic", "pattern", "priority", "home", "replicate_to", "allowed_regions", "read"});
      TopicRule rule;
      rule.index = i;
      rule.line = cfg.LineOf(f);
      r.Get(ts[i], f, "topic", rule.topic);
      r.Get(ts[i], f, "pattern", rule.pattern);
      if (rule.topic.empty() == rule.pattern.empty()) {
        r.Problem(f, "set exactly one of topic (a name) and pattern (a regex)");
      }
      r.Get(ts[i], f, "priority", rule.priority);
      GetNames(r, ts[i], f, "home", rule.home);
      if (rule.home.empty()) r.Problem(f + ".home", "required: the region where it is written");
      GetNames(r, ts[i], f, "replicate_to", rule.replicate_to);
      GetNames(r, ts[i], f, "allowed_regions", rule.allowed_regions);
      r.GetEnum(ts[i], f, "read",
                {{"local_first", ReadPolicy::kLocalFirst}, {"home_only", ReadPolicy::kHomeOnly}},
                rule.read);
      cfg.topics.push_back(std::move(rule));
    }
  }

  if (r.IsList(root["groups"], "groups")) {
    const YAML::Node gs = root["groups"];
    for (size_t i = 0; i < gs.size(); ++i) {
      std::string f = fmt::format("groups[{}]", i);
      if (!r.IsMap(gs[i], f)) continue;
      r.CheckKeys(gs[i], f, {"name", "pattern", "regions", "topics"});
      GroupRule g;
      g.index = i;
      g.line = cfg.LineOf(f);
      r.Get(gs[i], f, "name", g.name);
      r.Get(gs[i], f, "pattern", g.pattern);
      if (g.name.empty() == g.pattern.empty()) {
        r.Problem(f, "set exactly one of name (a group) and pattern (a regex)");
      }
      GetNames(r, gs[i], f, "regions", g.regions);
      if (g.regions.empty()) r.Problem(f + ".regions", "required: where the group may run");
      GetNames(r, gs[i], f, "topics", g.topics);
      cfg.groups.push_back(std::move(g));
    }
  }

  r.GetEnum(root, "", "replication_policy", replication::PolicyWords(), cfg.policy);
  r.Get(root, "", "separator", cfg.separator);
  if (cfg.policy == replication::PolicyKind::kDefault && cfg.separator.empty()) {
    r.Problem("separator", "must not be empty");
  }

  if (const YAML::Node h = root["health"]; r.IsMap(h, "health")) {
    r.CheckKeys(h, "health", {"probe_interval_ms", "max_lag_ms"});
    r.Get(h, "health", "probe_interval_ms", cfg.health.probe_interval_ms);
    r.Get(h, "health", "max_lag_ms", cfg.health.max_lag_ms);
  }
  if (cfg.health.probe_interval_ms < 10) r.Problem("health.probe_interval_ms", "must be >= 10");
  if (cfg.health.max_lag_ms < 1) r.Problem("health.max_lag_ms", "must be >= 1");

  if (r.IsMap(root["mirror"], "mirror")) cfg.mirror_section = root["mirror"];
  if (r.IsMap(root["offsets"], "offsets")) cfg.offsets_section = root["offsets"];

  // The reader's problems are "<field>: <why>"; give each its line.
  for (const auto& p : raw) {
    auto [field, why] = common::ConfigProblem::FromFieldMessage(p);
    const int line = field.empty() ? 0 : cfg.LineOf(field);
    out.problems.push_back({file, line, std::move(field), std::move(why)});
  }
  return out;
}

}  // namespace

LoadedTopology ParseTopologyYaml(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}: not valid YAML: {}", file, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) throw ConfigError(fmt::format("{}: expected a mapping at the top", file));
  try {
    return ReadTopology(root, file);
  } catch (const YAML::Exception& e) {
    // Shapes the field reader does not expect (a list or map used as a key, found by fuzzing).
    throw ConfigError(
        fmt::format("{}:{}: unexpected YAML structure: {}", file, e.mark.line + 1, e.msg));
  }
}

LoadedTopology LoadTopologyFile(const std::string& path) {
  return ParseTopologyYaml(common::ReadConfigFile(path), path);
}

}  // namespace rm::topology

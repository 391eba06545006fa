#include "replication/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <strings.h>

#include <algorithm>
#include <charconv>
#include <regex>
#include <set>
#include <sstream>

#include "common/config_reader.h"
#include "common/result.h"
#include "common/secrets.h"
#include "replication/config_providers.h"
#include "replication/jaas.h"
#include "replication/java_keystores.h"
#include "replication/java_properties.h"
#include "replication/mm2_clients.h"
#include "replication/mm2_keys.h"
#include "replication/mm2_transforms.h"

namespace rm::replication {

using common::ConfigError;

const std::vector<common::EnumWord<PolicyKind>>& PolicyWords() {
  static const std::vector<common::EnumWord<PolicyKind>> words = {
      {"default", PolicyKind::kDefault},
      {"identity", PolicyKind::kIdentity},
      {"DefaultReplicationPolicy", PolicyKind::kDefault, true},
      {"org.apache.kafka.connect.mirror.DefaultReplicationPolicy", PolicyKind::kDefault, true},
      {"IdentityReplicationPolicy", PolicyKind::kIdentity, true},
      {"org.apache.kafka.connect.mirror.IdentityReplicationPolicy", PolicyKind::kIdentity, true},
  };
  return words;
}

namespace {

PolicyKind ParsePolicy(const std::string& s, bool* ok) {
  for (const auto& w : PolicyWords()) {
    if (w.word == s) {
      *ok = true;
      return w.value;
    }
  }
  *ok = false;
  return PolicyKind::kDefault;
}

void CheckRegexes(const std::vector<std::string>& res, const std::string& field,
                  std::vector<common::ConfigProblem>* problems) {
  for (size_t i = 0; i < res.size(); ++i) {
    try {
      std::regex re(res[i]);
    } catch (const std::regex_error& e) {
      problems->push_back(
          {fmt::format("{}[{}]", field, i), fmt::format("bad regex '{}': {}", res[i], e.what())});
    }
  }
}

bool ValidAlias(const std::string& a) {
  if (a.empty() || a.size() > 100) return false;
  for (char c : a) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  }
  return true;
}

bool IsReplicationFactor(int rf) { return rf == -1 || rf >= 1; }
std::string NotAReplicationFactor(int rf) {
  return fmt::format("{} is not a replication factor (>= 1, or -1 for the target brokers' default)",
                     rf);
}

// --- mm2.properties --------------------------------------------------------------------------

// Splits a comma-separated MM2 list (whitespace around items ignored).
std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    auto b = item.find_first_not_of(" \t");
    auto e = item.find_last_not_of(" \t");
    if (b != std::string::npos) out.push_back(item.substr(b, e - b + 1));
  }
  return out;
}

// The "no prefix" setup of MM2: `replication.policy.separator =` with `source.cluster.alias =`.
// DefaultReplicationPolicy names a remote topic source.cluster.alias + separator + topic, and
// MirrorMakerConfig only defaults source.cluster.alias to the flow's source when the file does
// not set it; so both empty keep topic names unchanged, which is our identity policy (cycles are
// then stopped by provenance headers, as MM2's IdentityReplicationPolicy users rely on
// MM2's own loop checks). Any other renaming of a flow's clusters is refused: regionmirror names
// a cluster by one alias everywhere (remote topic prefixes, provenance headers, the cycle rule by
// name, the offsets topics and queries). With a second name, the reverse flow would not see that
// "X.orders" came from A and would create "B.X.orders" back on A (the provenance check still
// drops every record, so the topic stays empty, but it is a loop by name all the same). Renaming
// the cluster in `clusters` gives the same remote names without that, since an alias is only a
// name here: the bootstrap servers say which cluster it is.
void ApplyMm2AliasOverrides(const std::string* source_alias, const std::string* target_alias,
                            const std::string& flow, FlowConfig* fl,
                            std::vector<std::string>* problems) {
  if (source_alias && *source_alias != fl->source) {
    if (!source_alias->empty()) {
      problems->push_back(fmt::format(
          "source.cluster.alias: '{0}' for flow {1}: renaming a cluster is not supported: "
          "regionmirror names a cluster by one alias in remote topics, provenance headers, the "
          "cycle rule and the offsets topics, and with a second name the reverse flow would copy "
          "'{0}.<topic>' back as if it came from elsewhere. For remote topics named "
          "'{0}.<topic>', call the cluster {0} in `clusters` ({0}.bootstrap.servers = ...): an "
          "alias is only a name. (Empty, with an empty replication.policy.separator, is the "
          "supported \"no prefix\" setup.)",
          *source_alias, flow));
    } else if (fl->policy == PolicyKind::kDefault && !fl->separator.empty()) {
      problems->push_back(fmt::format(
          "source.cluster.alias: empty for flow {} needs an empty replication.policy.separator "
          "too (else remote topics would be named '{}orders')",
          flow, fl->separator));
    } else {
      fl->policy = PolicyKind::kIdentity;
    }
  } else if (fl->policy == PolicyKind::kDefault && fl->separator.empty()) {
    problems->push_back(fmt::format(
        "replication.policy.separator: empty for flow {}: remote topics would be named "
        "'{}orders'; for names without prefix set source.cluster.alias empty too, or use "
        "IdentityReplicationPolicy",
        flow, fl->source));
    fl->separator = ".";  // reported here; Validate need not say it again
  }
  if (target_alias && !target_alias->empty() && *target_alias != fl->target) {
    problems->push_back(
        fmt::format("target.cluster.alias: '{0}' for flow {1}: renaming a cluster is not "
                    "supported (the cycle rule and the offsets topics know the cluster by one "
                    "alias): call the cluster {0} in `clusters` instead",
                    *target_alias, flow));
  }
}

// Group listing turned off (refresh.groups.enabled = false): listed once, at start.
constexpr int64_t kNeverMs = int64_t{1} << 50;

// MirrorMakerConfig.clusterProps: the top-level client settings MM2 knows (security.protocol,
// ssl.*, sasl.*) apply to every cluster that does not set its own. Only those librdkafka can use
// or that are translated below (JAAS, key stores) are spread; the rest stay top-level and are
// reported under the name the file uses.
void SpreadTopLevelClientSettings(std::map<std::string, std::string>* props,
                                  const std::vector<std::string>& aliases) {
  static const std::regex client_key("security\\.protocol|ssl\\..*|sasl\\..*");
  static const std::regex translated(
      "sasl\\.jaas\\.config|ssl\\.(truststore|keystore)\\..*|ssl\\.key\\.password");
  std::vector<std::string> spread;
  for (const auto& [key, value] : *props) {
    if (!std::regex_match(key, client_key)) continue;
    if (key == "sasl.jaas.config") continue;  // TranslateJaasConfig applies it per cluster
    if (std::regex_match(key, translated) || IsLibrdkafkaProperty(key, value)) {
      spread.push_back(key);
    }
  }
  for (const auto& key : spread) {
    const std::string value = props->at(key);
    for (const auto& alias : aliases) props->emplace(alias + "." + key, value);
    props->erase(key);
  }
}

// A key no rule above consumed: a cluster-level librdkafka property is placed on its cluster
// (returns ""); anything else gets the reason it does not apply.
std::string PlaceOrExplain(const std::string& key, const std::string& value, MirrorConfig* cfg) {
  if (key.find("->") != std::string::npos) {
    const std::string bare =
        key.substr(key.find('.') == std::string::npos ? key.size() : key.find('.') + 1);
    if (auto reason = Mm2NotAppliedReason(bare, value)) return *reason;
    return "not a MirrorMaker 2 flow setting";
  }
  for (auto& c : cfg->clusters) {
    const std::string prefix = c.alias + ".";
    if (key.rfind(prefix, 0) != 0) continue;
    const std::string prop = key.substr(prefix.size());
    if (auto reason = Mm2NotAppliedReason(prop, value)) return *reason;
    if (auto reason = JavaOnlyClientSetting(prop)) return *reason;
    if (IsLibrdkafkaProperty(prop, value)) {
      c.properties[prop] = value;
      return "";
    }
    return "not a MirrorMaker 2 setting, and librdkafka has no such property (or refuses the "
           "value)";
  }
  if (auto reason = Mm2NotAppliedReason(key, value)) return *reason;
  if (auto reason = JavaOnlyClientSetting(key)) return *reason;
  if (IsLibrdkafkaProperty(key, value)) {
    return "MM2 applies top-level client settings only for security.protocol, ssl.* and sasl.*: "
           "set it per cluster (A." +
           key + ") or per client (A.consumer." + key + ", A.producer." + key + ")";
  }
  return "not a MirrorMaker 2 setting";
}

// The start-up warning: one block, keys grouped by reason.
std::string NotAppliedBlock(const std::string& file,
                            const std::vector<std::pair<std::string, std::string>>& not_applied) {
  std::vector<std::pair<std::string, std::vector<std::string>>> by_reason;
  for (const auto& [key, reason] : not_applied) {
    auto it = std::find_if(by_reason.begin(), by_reason.end(),
                           [&reason = reason](const auto& r) { return r.first == reason; });
    if (it == by_reason.end()) {
      by_reason.push_back({reason, {key}});
    } else {
      it->second.push_back(key);
    }
  }
  std::string out = fmt::format("{}: {} key{} not applied:", file, not_applied.size(),
                                not_applied.size() == 1 ? "" : "s");
  for (const auto& [reason, keys] : by_reason) {
    std::string list;
    for (const auto& k : keys) list += (list.empty() ? "" : ", ") + k;
    out += fmt::format("\n  - {}: {}", list, reason);
  }
  return out;
}

}  // namespace

OffsetsSettings MirrorConfig::OffsetsFor(const FlowConfig& flow) const {
  OffsetsSettings o = offsets;
  if (flow.emit_checkpoints) o.emit_checkpoints = *flow.emit_checkpoints;
  if (flow.sync_group_offsets) o.sync_group_offsets = *flow.sync_group_offsets;
  if (flow.group_interval_ms) o.group_interval_ms = *flow.group_interval_ms;
  if (flow.refresh_groups_interval_ms)
    o.refresh_groups_interval_ms = *flow.refresh_groups_interval_ms;
  return o;
}

const ClusterConfig* MirrorConfig::FindCluster(const std::string& alias) const {
  for (const auto& c : clusters) {
    if (c.alias == alias) return &c;
  }
  return nullptr;
}

std::vector<common::ConfigProblem> MirrorConfig::Validate() const {
  std::vector<common::ConfigProblem> problems;
  auto problem = [&](const std::string& field, const std::string& what) {
    problems.push_back({field, what});
  };
  if (clusters.empty()) problem("clusters", "at least one cluster is required");
  std::set<std::string> aliases;
  for (size_t i = 0; i < clusters.size(); ++i) {
    const auto& c = clusters[i];
    std::string f = fmt::format("clusters[{}]", i);
    if (!ValidAlias(c.alias)) {
      problem(f + ".alias",
              fmt::format("'{}' is not a valid alias (letters, digits, '-', '_')", c.alias));
    } else if (!aliases.insert(c.alias).second) {
      problem(f + ".alias", fmt::format("alias '{}' is used twice", c.alias));
    }
    if (c.bootstrap_servers.empty()) problem(f + ".bootstrap_servers", "required");
    if (auto why = common::KafkaPropertiesProblem(c.properties); !why.empty()) {
      problem(f + ".properties", why);
    }
  }
  if (flows.empty()) problem("flows", "at least one flow is required");
  std::set<std::string> flow_names;
  for (size_t i = 0; i < flows.size(); ++i) {
    const auto& fl = flows[i];
    std::string f = fmt::format("flows[{}]", i);
    if (!FindCluster(fl.source)) {
      problem(f + ".source", fmt::format("unknown cluster '{}'", fl.source));
    }
    if (!FindCluster(fl.target)) {
      problem(f + ".target", fmt::format("unknown cluster '{}'", fl.target));
    }
    if (fl.source == fl.target) problem(f, "source and target are the same cluster");
    if (!flow_names.insert(fl.name()).second) {
      problem(f, fmt::format("flow {} is defined twice", fl.name()));
    }
    if (fl.topics.empty()) problem(f + ".topics", "at least one regex is required");
    CheckRegexes(fl.topics, f + ".topics", &problems);
    CheckRegexes(fl.topics_exclude, f + ".topics_exclude", &problems);
    CheckRegexes(fl.groups, f + ".groups", &problems);
    CheckRegexes(fl.groups_exclude, f + ".groups_exclude", &problems);
    for (const auto& [key, rf] :
         {std::pair{"replication_factor", fl.replication_factor},
          std::pair{"offset_syncs_replication_factor", fl.offset_syncs_replication_factor},
          std::pair{"checkpoints_replication_factor", fl.checkpoints_replication_factor}}) {
      if (!IsReplicationFactor(rf)) problem(f + "." + key, NotAReplicationFactor(rf));
    }
    CheckRegexes(fl.config_properties_exclude, f + ".config_properties_exclude", &problems);
    if (fl.sync_topic_configs_interval_ms < 1000) {
      problem(f + ".sync_topic_configs_interval_ms", "must be >= 1000");
    }
    if (fl.policy == PolicyKind::kDefault && fl.separator.empty()) {
      problem(f + ".separator", "must not be empty");
    }
  }
  const auto& m = mirror;
  if (m.refresh_interval_ms < 100) problem("mirror.refresh_interval_ms", "must be >= 100");
  if (m.commit_interval_ms < 10) problem("mirror.commit_interval_ms", "must be >= 10");
  if (m.max_inflight_per_partition < 1) {
    problem("mirror.max_inflight_per_partition", "must be >= 1");
  }
  if (m.max_inflight_total < m.max_inflight_per_partition) {
    problem("mirror.max_inflight_total", "must be >= max_inflight_per_partition");
  }
  if (m.max_inflight_bytes < (1 << 20)) problem("mirror.max_inflight_bytes", "must be >= 1 MiB");
  if (m.start_from != "earliest" && m.start_from != "latest") {
    problem("mirror.start_from", common::MustBeOneOf({"earliest", "latest"}, m.start_from));
  }
  if (m.group_prefix.empty()) problem("mirror.group_prefix", "must not be empty");
  if (m.takeover_wait_ms < 0) problem("mirror.takeover_wait_ms", "must be >= 0");
  if (m.flow_lease_ms < 1000) problem("mirror.flow_lease_ms", "must be >= 1000");
  if (m.tail_scan_max_records < 64) problem("mirror.tail_scan_max_records", "must be >= 64");
  if (m.tail_scan_timeout_ms < 1000) problem("mirror.tail_scan_timeout_ms", "must be >= 1000");
  for (const auto& [name, props] :
       {std::pair{"mirror.consumer", &m.consumer}, std::pair{"mirror.producer", &m.producer}}) {
    if (auto why = common::KafkaPropertiesProblem(*props); !why.empty()) problem(name, why);
  }
  if (offsets.checkpoint_interval_ms < 10)
    problem("offsets.checkpoint_interval_ms", "must be >= 10");
  if (offsets.group_interval_ms < 100) problem("offsets.group_interval_ms", "must be >= 100");
  for (const auto& fl : flows) {
    if (fl.group_interval_ms && *fl.group_interval_ms < 100) {
      problem(fl.name() + ".emit.checkpoints.interval.seconds", "must be >= 1");
    }
  }
  for (const auto& hb : heartbeats) {
    if (hb.interval_ms < 10) {
      problem("heartbeats.interval_ms", fmt::format("{} is below 10", hb.interval_ms));
      break;
    }
    if (!IsReplicationFactor(hb.replication_factor)) {
      problem("heartbeats.replication_factor", NotAReplicationFactor(hb.replication_factor));
      break;
    }
  }
  for (auto& p : admin.Validate("admin")) problems.push_back(std::move(p));
  return problems;
}

namespace {

// Reads the fields of our YAML format into `cfg`; what the reader found ("<field>: <why>") into
// `problems`.
void ReadMirrorYamlFields(const YAML::Node& root, MirrorConfig& cfg,
                          std::vector<std::string>& problems) {
  common::YamlFieldReader r(problems);
  r.CheckKeys(root, "", {"clusters", "flows", "mirror", "offsets", "admin", "heartbeats"});

  if (r.IsList(root["clusters"], "clusters")) {
    const YAML::Node cs = root["clusters"];
    for (size_t i = 0; i < cs.size(); ++i) {
      std::string f = fmt::format("clusters[{}]", i);
      if (!r.IsMap(cs[i], f)) continue;
      r.CheckKeys(
          cs[i], f,
          {"alias", "bootstrap_servers", "properties", "properties_env", "properties_file"});
      ClusterConfig c;
      common::SecretSources secrets;
      r.Get(cs[i], f, "alias", c.alias);
      r.Get(cs[i], f, "bootstrap_servers", c.bootstrap_servers);
      r.GetProperties(cs[i], f, "properties", c.properties);
      r.GetProperties(cs[i], f, "properties_env", secrets.from_env);
      r.GetProperties(cs[i], f, "properties_file", secrets.from_file);
      for (const auto& [key, value] : c.properties) {
        if (key == "bootstrap.servers") {
          r.Problem(f + ".properties.bootstrap.servers", "set bootstrap_servers instead");
        } else if (common::IsSecretProperty(key)) {
          r.Problem(f + ".properties." + key,
                    "secrets are never written in the file: use properties_env or "
                    "properties_file");
        }
      }
      common::ReadSecrets(secrets, f + ".", c.properties, problems);
      cfg.clusters.push_back(std::move(c));
    }
  }
  if (r.IsList(root["flows"], "flows")) {
    const YAML::Node fs = root["flows"];
    for (size_t i = 0; i < fs.size(); ++i) {
      std::string f = fmt::format("flows[{}]", i);
      if (!r.IsMap(fs[i], f)) continue;
      r.CheckKeys(
          fs[i], f,
          {"source", "target", "topics", "topics_exclude", "replication_policy", "separator",
           "groups", "groups_exclude", "enabled", "replication_factor", "sync_topic_configs",
           "sync_topic_configs_interval_ms", "config_properties_exclude",
           "offset_syncs_replication_factor", "checkpoints_replication_factor", "transforms"});
      FlowConfig fl;
      r.Get(fs[i], f, "source", fl.source);
      r.Get(fs[i], f, "target", fl.target);
      r.GetStringList(fs[i], f, "topics", fl.topics);
      r.GetStringList(fs[i], f, "topics_exclude", fl.topics_exclude);
      r.GetStringList(fs[i], f, "groups", fl.groups);
      r.GetStringList(fs[i], f, "groups_exclude", fl.groups_exclude);
      r.Get(fs[i], f, "separator", fl.separator);
      r.Get(fs[i], f, "enabled", fl.enabled);
      r.Get(fs[i], f, "replication_factor", fl.replication_factor);
      r.Get(fs[i], f, "sync_topic_configs", fl.sync_topic_configs);
      r.Get(fs[i], f, "sync_topic_configs_interval_ms", fl.sync_topic_configs_interval_ms);
      r.GetStringList(fs[i], f, "config_properties_exclude", fl.config_properties_exclude);
      r.Get(fs[i], f, "offset_syncs_replication_factor", fl.offset_syncs_replication_factor);
      r.Get(fs[i], f, "checkpoints_replication_factor", fl.checkpoints_replication_factor);
      if (fs[i]["transforms"]) {
        fl.transforms =
            ReadRecordTransforms(fs[i]["transforms"], f + ".transforms", fl.name(), problems);
      }
      r.GetEnum(fs[i], f, "replication_policy", PolicyWords(), fl.policy);
      cfg.flows.push_back(std::move(fl));
    }
  }
  if (const YAML::Node m = root["mirror"]; r.IsMap(m, "mirror")) {
    r.CheckKeys(m, "mirror",
                {"refresh_interval_ms", "commit_interval_ms", "max_inflight_per_partition",
                 "max_inflight_total", "max_inflight_bytes", "group_prefix", "start_from",
                 "drain_timeout_ms", "takeover_wait_ms", "flow_lease_ms", "tail_scan_max_records",
                 "tail_scan_timeout_ms", "consumer", "producer"});
    auto& s = cfg.mirror;
    r.Get(m, "mirror", "refresh_interval_ms", s.refresh_interval_ms);
    r.Get(m, "mirror", "commit_interval_ms", s.commit_interval_ms);
    r.Get(m, "mirror", "max_inflight_per_partition", s.max_inflight_per_partition);
    r.Get(m, "mirror", "max_inflight_total", s.max_inflight_total);
    r.Get(m, "mirror", "max_inflight_bytes", s.max_inflight_bytes);
    r.Get(m, "mirror", "group_prefix", s.group_prefix);
    r.GetEnum(m, "mirror", "start_from", {{"earliest", "earliest"}, {"latest", "latest"}},
              s.start_from);
    r.Get(m, "mirror", "drain_timeout_ms", s.drain_timeout_ms);
    r.Get(m, "mirror", "takeover_wait_ms", s.takeover_wait_ms);
    r.Get(m, "mirror", "flow_lease_ms", s.flow_lease_ms);
    r.Get(m, "mirror", "tail_scan_max_records", s.tail_scan_max_records);
    r.Get(m, "mirror", "tail_scan_timeout_ms", s.tail_scan_timeout_ms);
    r.GetProperties(m, "mirror", "consumer", s.consumer);
    r.GetProperties(m, "mirror", "producer", s.producer);
  }
  if (const YAML::Node o = root["offsets"]; r.IsMap(o, "offsets")) {
    r.CheckKeys(o, "offsets",
                {"dir", "checkpoint_interval_ms", "group_interval_ms", "emit_syncs",
                 "emit_checkpoints", "sync_group_offsets"});
    auto& s = cfg.offsets;
    r.Get(o, "offsets", "dir", s.dir);
    r.Get(o, "offsets", "checkpoint_interval_ms", s.checkpoint_interval_ms);
    r.Get(o, "offsets", "group_interval_ms", s.group_interval_ms);
    r.Get(o, "offsets", "emit_syncs", s.emit_syncs);
    r.Get(o, "offsets", "emit_checkpoints", s.emit_checkpoints);
    r.Get(o, "offsets", "sync_group_offsets", s.sync_group_offsets);
  }
  if (const YAML::Node h = root["heartbeats"]; r.IsMap(h, "heartbeats")) {
    r.CheckKeys(h, "heartbeats", {"enabled", "interval_ms", "replication_factor"});
    bool enabled = false;
    int64_t interval_ms = 1000;
    int replication_factor = -1;
    r.Get(h, "heartbeats", "enabled", enabled);
    r.Get(h, "heartbeats", "interval_ms", interval_ms);
    r.Get(h, "heartbeats", "replication_factor", replication_factor);
    // As MM2: every ordered pair of clusters, so each cluster's heartbeat topics name all the
    // others, and flows copy heartbeat topics onward whatever their topic regexes say.
    if (enabled) {
      for (const auto& src : cfg.clusters) {
        for (const auto& dst : cfg.clusters) {
          if (src.alias != dst.alias) {
            cfg.heartbeats.push_back({src.alias, dst.alias, interval_ms, replication_factor});
          }
        }
      }
      for (auto& fl : cfg.flows) fl.replicate_heartbeats = true;
    }
  }
  cfg.admin.Read(r, root["admin"], "admin");
}

}  // namespace

std::vector<common::ConfigProblem> ReadMirrorConfigYaml(const YAML::Node& root, MirrorConfig& out) {
  std::vector<std::string> read;
  ReadMirrorYamlFields(root, out, read);
  std::vector<common::ConfigProblem> problems;
  for (const auto& p : read) problems.push_back(common::ConfigProblem::FromFieldMessage(p));
  for (auto& v : out.Validate()) problems.push_back(std::move(v));
  return problems;
}

MirrorConfig ParseMirrorConfigYaml(const std::string& text, const std::string& file) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}: line {}: not valid YAML: {}", file, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) throw ConfigError(fmt::format("{}: expected a mapping at the top", file));
  std::vector<std::string> problems;
  MirrorConfig cfg;
  ReadMirrorYamlFields(root, cfg, problems);
  common::ThrowIfProblems(file, problems, cfg.Validate(), common::YamlLines(root));
  return cfg;
}

MirrorConfig LoadMirrorConfigYaml(const std::string& path) {
  return ParseMirrorConfigYaml(common::ReadConfigFile(path), path);
}

MirrorConfig ParseMm2Properties(const std::string& text, const std::string& file) {
  auto props = ParseJavaProperties(text, file);
  std::vector<std::string> problems;
  ResolveConfigProviders(&props, &problems);
  // Kafka's ConfigDef trims every value it parses (String#trim), after the config providers;
  // so do we, before any use.
  for (auto& [key, value] : props) {
    size_t b = value.find_first_not_of(" \t\f\r\n\v");
    value = b == std::string::npos ? ""
                                   : value.substr(b, value.find_last_not_of(" \t\f\r\n\v") - b + 1);
  }
  MirrorConfig cfg;
  std::set<std::string> used;
  auto take = [&](const std::string& key) -> const std::string* {
    auto it = props.find(key);
    if (it == props.end()) return nullptr;
    used.insert(key);
    return &it->second;
  };
  auto regex_list = [](const std::string& v) {
    // MM2 lists are comma-separated regexes.
    return SplitList(v);
  };

  const std::string* clusters = take("clusters");
  if (!clusters) {
    throw ConfigError(fmt::format("{}: clusters: required (e.g. clusters = A, B)", file));
  }
  std::vector<std::string> aliases = SplitList(*clusters);
  SpreadTopLevelClientSettings(&props, aliases);
  TranslateJaasConfig(&props, aliases, &problems);
  TranslateJavaKeyStores(&props, aliases, &problems);
  for (const auto& a : aliases) {
    ClusterConfig c;
    c.alias = a;
    if (const auto* b = take(a + ".bootstrap.servers")) {
      c.bootstrap_servers = *b;
    } else {
      problems.push_back(fmt::format("{}.bootstrap.servers: required", a));
    }
    cfg.clusters.push_back(std::move(c));
  }

  // Settings MM2 takes per flow ("A->B.<key>") or for all flows ("<key>"), flow first.
  auto flow_value =
      [&](const std::string& flow,
          const std::string& key) -> std::optional<std::pair<std::string, std::string>> {
    for (const std::string& k : {flow + "." + key, key}) {
      if (const auto* v = take(k)) return std::pair{k, *v};
    }
    return std::nullopt;
  };
  auto set_anywhere = [&](const std::string& key) {
    if (props.count(key)) return true;
    for (const auto& src : aliases) {
      for (const auto& dst : aliases) {
        if (props.count(src + "->" + dst + "." + key)) return true;
      }
    }
    return false;
  };
  auto parse_bool = [&](const std::optional<std::pair<std::string, std::string>>& kv,
                        bool fallback) {
    if (!kv) return fallback;
    if (strcasecmp(kv->second.c_str(), "true") == 0) return true;
    if (strcasecmp(kv->second.c_str(), "false") == 0) return false;
    problems.push_back(fmt::format("{}: '{}' is not true or false", kv->first, kv->second));
    return fallback;
  };
  auto parse_long = [&](const std::optional<std::pair<std::string, std::string>>& kv,
                        int64_t fallback, int64_t min) {
    if (!kv) return fallback;
    int64_t n = 0;
    const char* end = kv->second.data() + kv->second.size();
    auto [ptr, ec] = std::from_chars(kv->second.data(), end, n);
    if (ec != std::errc() || ptr != end || n < min) {
      problems.push_back(
          fmt::format("{}: '{}' is not a whole number >= {}", kv->first, kv->second, min));
      return fallback;
    }
    return n;
  };

  // Global defaults, overridable per flow ("A->B.topics").
  FlowConfig defaults;
  defaults.replicate_heartbeats = true;  // MM2 copies heartbeat topics whatever `topics` says
  if (const auto* v = take("topics.blacklist")) defaults.topics_exclude = regex_list(*v);
  if (const auto* v = take("groups.blacklist")) defaults.groups_exclude = regex_list(*v);
  if (const auto* v = take("replication.policy.class")) {
    bool ok = false;
    defaults.policy = ParsePolicy(*v, &ok);
    if (!ok) {
      problems.push_back(fmt::format(
          "replication.policy.class: '{}' is not supported (DefaultReplicationPolicy or "
          "IdentityReplicationPolicy)",
          *v));
    }
  }
  if (const auto* v = take("refresh.topics.interval.seconds")) {
    cfg.mirror.refresh_interval_ms =
        parse_long(std::pair{std::string("refresh.topics.interval.seconds"), *v}, 10, 1) * 1000;
  } else {
    cfg.defaulted.push_back(
        "refresh.topics.interval.seconds = 10 (regionmirror's default; MM2's is 600)");
  }
  if (const auto* v = take("emit.offset-syncs.enabled")) {
    cfg.offsets.emit_syncs =
        parse_bool(std::pair{std::string("emit.offset-syncs.enabled"), *v}, true);
  }
  if (const auto* v = take(kMm2OffsetsDirKey)) {
    cfg.offsets.dir = *v;
  } else {
    cfg.offsets.dir = kMm2DefaultOffsetsDir;
    cfg.defaulted.push_back(fmt::format("{} = {}", kMm2OffsetsDirKey, kMm2DefaultOffsetsDir));
  }
  // MM2's defaults this file relies on, for `run --check`: key, and what applies without it.
  const std::pair<const char*, const char*> mm2_defaults[] = {
      {"emit.checkpoints.enabled", "emit.checkpoints.enabled = true"},
      {"emit.checkpoints.interval.seconds", "emit.checkpoints.interval.seconds = 60"},
      {"sync.group.offsets.enabled", "sync.group.offsets.enabled = false"},
      {"refresh.groups.interval.seconds", "refresh.groups.interval.seconds = 600"},
      {"groups", "groups = .*"},
      {"groups.exclude", "groups.exclude = console-consumer-.*, connect-.*, __.*"},
      {"emit.heartbeats.enabled", "emit.heartbeats.enabled = true"},
      {"emit.heartbeats.interval.seconds", "emit.heartbeats.interval.seconds = 1"},
      {"replication.factor",
       "replication.factor: the target broker's default.replication.factor (MM2 would use 2)"},
      {"sync.topic.configs.enabled", "sync.topic.configs.enabled = true"},
      {"sync.topic.configs.interval.seconds", "sync.topic.configs.interval.seconds = 600"},
      {"offset-syncs.topic.replication.factor",
       "offset-syncs.topic.replication.factor: the target broker's default.replication.factor "
       "(MM2 would use 3)"},
      {"checkpoints.topic.replication.factor",
       "checkpoints.topic.replication.factor: the target broker's default.replication.factor "
       "(MM2 would use 3)"},
      {"heartbeats.topic.replication.factor",
       "heartbeats.topic.replication.factor: the target broker's default.replication.factor "
       "(MM2 would use 3)"},
  };
  for (const auto& [key, line] : mm2_defaults) {
    if (set_anywhere(key)) continue;
    if (std::string(key) == "groups.exclude" && props.count("groups.blacklist")) continue;
    cfg.defaulted.push_back(line);
  }

  // MM2 lets a flow name its clusters differently from `clusters` (source.cluster.alias,
  // target.cluster.alias); only the "no prefix" use of that is supported, see
  // ApplyMm2AliasOverrides.
  const std::string* global_source_alias = take("source.cluster.alias");
  const std::string* global_target_alias = take("target.cluster.alias");
  std::vector<std::pair<std::string, std::string>> not_applied;  // key, reason
  for (const auto& src : aliases) {
    for (const auto& dst : aliases) {
      if (src == dst) continue;
      const std::string p = src + "->" + dst;
      const bool enabled = parse_bool(flow_value(p, "enabled"), false);
      FlowConfig fl = defaults;
      fl.source = src;
      fl.target = dst;
      if (auto kv = flow_value(p, "topics")) fl.topics = regex_list(kv->second);
      if (auto kv = flow_value(p, "topics.exclude")) fl.topics_exclude = regex_list(kv->second);
      if (auto kv = flow_value(p, "groups")) fl.groups = regex_list(kv->second);
      if (auto kv = flow_value(p, "groups.exclude")) fl.groups_exclude = regex_list(kv->second);
      if (auto kv = flow_value(p, "replication.policy.separator")) fl.separator = kv->second;
      const std::string* src_alias = take(p + ".source.cluster.alias");
      if (!src_alias) src_alias = global_source_alias;
      const std::string* dst_alias = take(p + ".target.cluster.alias");
      if (!dst_alias) dst_alias = global_target_alias;

      // Offsets: checkpoints and target group commits happen in one round per flow, at the
      // shorter of the two intervals when both are on.
      fl.emit_checkpoints = parse_bool(flow_value(p, "emit.checkpoints.enabled"), true);
      int64_t interval_s = parse_long(flow_value(p, "emit.checkpoints.interval.seconds"), 60, 1);
      fl.sync_group_offsets = parse_bool(flow_value(p, "sync.group.offsets.enabled"), false);
      const int64_t sync_s =
          parse_long(flow_value(p, "sync.group.offsets.interval.seconds"), 60, 1);
      if (*fl.sync_group_offsets) interval_s = std::min(interval_s, sync_s);
      fl.group_interval_ms = interval_s * 1000;
      const bool refresh_groups = parse_bool(flow_value(p, "refresh.groups.enabled"), true);
      const int64_t refresh_s =
          parse_long(flow_value(p, "refresh.groups.interval.seconds"), 600, 1);
      // Disabled refresh: groups are listed once, at start.
      fl.refresh_groups_interval_ms = refresh_groups ? refresh_s * 1000 : kNeverMs;

      // Remote topic creation and configs.
      // -1 (the brokers' default) is accepted as MM2 accepts it.
      auto replication_factor = [&](const char* key) {
        auto kv = flow_value(p, key);
        int64_t n = parse_long(kv, -1, -1);
        if (n == 0) {
          problems.push_back(fmt::format(
              "{}: '0' is not a whole number >= 1 (or -1 for the brokers' default)", kv->first));
          n = -1;
        }
        return static_cast<int>(n);
      };
      fl.replication_factor = replication_factor("replication.factor");
      fl.offset_syncs_replication_factor =
          replication_factor("offset-syncs.topic.replication.factor");
      fl.checkpoints_replication_factor =
          replication_factor("checkpoints.topic.replication.factor");
      fl.sync_topic_configs = parse_bool(flow_value(p, "sync.topic.configs.enabled"), true);
      fl.sync_topic_configs_interval_ms =
          parse_long(flow_value(p, "sync.topic.configs.interval.seconds"), 600, 1) * 1000;
      // config.properties.blacklist is the name before Kafka 2.7; the newer name wins.
      for (const char* key : {"config.properties.blacklist", "config.properties.exclude"}) {
        if (auto kv = flow_value(p, key)) fl.config_properties_exclude = regex_list(kv->second);
      }
      if (auto kv = flow_value(p, "offset-syncs.topic.location")) {
        if (strcasecmp(kv->second.c_str(), "source") == 0) {
          problems.push_back(fmt::format(
              "{}: 'source' is not supported: regionmirror keeps offset syncs on the target "
              "(mm2-offset-syncs.{}.internal), next to the copies, so that failover still finds "
              "them when the source region is down; remove the key or set it to target",
              kv->first, src));
        } else if (strcasecmp(kv->second.c_str(), "target") != 0) {
          problems.push_back(
              fmt::format("{}: '{}' is not target (or source)", kv->first, kv->second));
        }
      }

      // Heartbeats: MM2 emits them for every pair of clusters, enabled flow or not, unless
      // emit.heartbeats.enabled is false for it (MirrorMakerConfig.clusterPairs), so that a
      // one-way A->B still shows A's upstreams on B.
      const bool heartbeats = parse_bool(flow_value(p, "emit.heartbeats.enabled"), true);
      const int64_t heartbeat_s =
          parse_long(flow_value(p, "emit.heartbeats.interval.seconds"), 1, 1);
      const int heartbeat_rf = replication_factor("heartbeats.topic.replication.factor");
      if (heartbeats) cfg.heartbeats.push_back({src, dst, heartbeat_s * 1000, heartbeat_rf});

      // Connect transforms and predicates (mm2_transforms.h); MM2's heartbeat connector runs
      // them on a disabled flow too.
      fl.transforms =
          ReadMm2FlowTransforms(props, src, dst, enabled, heartbeats,
                                enabled && *fl.emit_checkpoints, &used, &problems, &not_applied);

      for (const char* key : {"refresh.topics.interval.seconds", "emit.offset-syncs.enabled"}) {
        if (take(p + "." + key)) {
          not_applied.emplace_back(p + "." + key,
                                   "applies to every flow: set it without the flow prefix");
        }
      }
      if (enabled) {
        ApplyMm2AliasOverrides(src_alias, dst_alias, p, &fl, &problems);
        cfg.flows.push_back(std::move(fl));
      }
    }
  }

  ExplainTopLevelMm2TransformKeys(props, &used, &not_applied);

  // Client overrides by prefix, then cluster-level client properties ("A.security.protocol =
  // SSL"), which pass through to librdkafka when it knows them; anything else is reported with
  // the reason it does not apply.
  std::vector<std::string> client_not_applied;
  ApplyMm2ClientOverrides(props, &cfg, &used, &client_not_applied);
  for (const auto& entry : client_not_applied) {
    const size_t paren = entry.find(" (");
    not_applied.emplace_back(entry.substr(0, paren),
                             paren == std::string::npos
                                 ? "not applied"
                                 : entry.substr(paren + 2, entry.size() - paren - 3));
  }
  for (const auto& [key, value] : props) {
    if (used.count(key)) continue;
    not_applied.emplace_back(key, PlaceOrExplain(key, value, &cfg));
  }
  not_applied.erase(std::remove_if(not_applied.begin(), not_applied.end(),
                                   [](const auto& kv) { return kv.second.empty(); }),
                    not_applied.end());
  if (!not_applied.empty()) cfg.warnings.push_back(NotAppliedBlock(file, not_applied));
  common::ThrowIfProblems(file, problems, cfg.Validate());
  return cfg;
}

MirrorConfig LoadMm2Properties(const std::string& path) {
  return ParseMm2Properties(common::ReadConfigFile(path), path);
}

MirrorConfig LoadMirrorConfig(const std::string& path) {
  const std::string ext = ".properties";
  if (path.size() >= ext.size() && path.compare(path.size() - ext.size(), ext.size(), ext) == 0) {
    return LoadMm2Properties(path);
  }
  return LoadMirrorConfigYaml(path);
}

}  // namespace rm::replication

#include "mirror/config.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "common/config_reader.h"
#include "common/result.h"

namespace rm::mirror {

using common::ConfigError;

namespace {

[[noreturn]] void ThrowProblems(const std::vector<std::string>& problems) {
  std::string msg = fmt::format("{} problem{} in configuration:", problems.size(),
                                problems.size() == 1 ? "" : "s");
  for (const auto& p : problems) msg += "\n  " + p;
  throw ConfigError(msg);
}

// --- YAML ------------------------------------------------------------------------------------

class YamlReader {
 public:
  YamlReader(std::string file, std::vector<std::string>* problems)
      : file_(std::move(file)), problems_(problems) {}

  void Problem(const std::string& field, const std::string& what) {
    problems_->push_back(fmt::format("{}: {}: {}", file_, field, what));
  }

  // Reports keys of `node` not in `known`.
  void CheckKeys(const YAML::Node& node, const std::string& field,
                 std::initializer_list<const char*> known) {
    if (!node.IsMap()) {
      Problem(field, "must be a mapping");
      return;
    }
    for (const auto& kv : node) {
      std::string key = kv.first.as<std::string>();
      bool ok = false;
      for (const char* k : known) ok = ok || key == k;
      if (!ok) {
        std::string list;
        for (const char* k : known) list += (list.empty() ? "" : ", ") + std::string(k);
        Problem(field.empty() ? key : field + "." + key,
                fmt::format("unknown key (known here: {})", list));
      }
    }
  }

  template <typename T>
  void Scalar(const YAML::Node& parent, const char* key, const std::string& field, T* out) {
    YAML::Node n = parent[key];
    if (!n) return;
    try {
      *out = n.as<T>();
    } catch (const YAML::Exception&) {
      Problem(field + "." + key, fmt::format("expected a {}", TypeName<T>()));
    }
  }

  void StringList(const YAML::Node& parent, const char* key, const std::string& field,
                  std::vector<std::string>* out) {
    YAML::Node n = parent[key];
    if (!n) return;
    if (n.IsScalar()) {  // a single string is accepted as a one-element list
      *out = {n.as<std::string>()};
      return;
    }
    if (!n.IsSequence()) {
      Problem(field + "." + key, "expected a list of strings");
      return;
    }
    out->clear();
    for (size_t i = 0; i < n.size(); ++i) {
      if (!n[i].IsScalar()) {
        Problem(fmt::format("{}.{}[{}]", field, key, i), "expected a string");
        continue;
      }
      out->push_back(n[i].as<std::string>());
    }
  }

  void Properties(const YAML::Node& parent, const char* key, const std::string& field,
                  common::KafkaProperties* out) {
    YAML::Node n = parent[key];
    if (!n) return;
    if (!n.IsMap()) {
      Problem(field + "." + key, "expected a mapping of librdkafka properties");
      return;
    }
    for (const auto& kv : n) {
      if (!kv.second.IsScalar()) {
        Problem(fmt::format("{}.{}.{}", field, key, kv.first.as<std::string>()),
                "expected a scalar value");
        continue;
      }
      (*out)[kv.first.as<std::string>()] = kv.second.as<std::string>();
    }
  }

 private:
  template <typename T>
  static const char* TypeName() {
    if constexpr (std::is_same_v<T, bool>) return "boolean";
    if constexpr (std::is_integral_v<T>) return "integer";
    return "string";
  }
  std::string file_;
  std::vector<std::string>* problems_;
};

PolicyKind ParsePolicy(const std::string& s, bool* ok) {
  *ok = true;
  if (s == "default" || s == "DefaultReplicationPolicy" ||
      s == "org.apache.kafka.connect.mirror.DefaultReplicationPolicy") {
    return PolicyKind::kDefault;
  }
  if (s == "identity" || s == "IdentityReplicationPolicy" ||
      s == "org.apache.kafka.connect.mirror.IdentityReplicationPolicy") {
    return PolicyKind::kIdentity;
  }
  *ok = false;
  return PolicyKind::kDefault;
}

void CheckRegexes(const std::vector<std::string>& res, const std::string& field,
                  const std::string& file, std::vector<std::string>* problems) {
  for (size_t i = 0; i < res.size(); ++i) {
    try {
      std::regex re(res[i]);
    } catch (const std::regex_error& e) {
      problems->push_back(
          fmt::format("{}: {}[{}]: bad regex '{}': {}", file, field, i, res[i], e.what()));
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

bool IsLibrdkafkaProperty(const std::string& key, const std::string& value) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[256];
  bool ok = rd_kafka_conf_set(conf, key.c_str(), value.c_str(), errstr, sizeof(errstr)) ==
            RD_KAFKA_CONF_OK;
  rd_kafka_conf_destroy(conf);
  return ok;
}

}  // namespace

// Parsing problems and validation problems together, each once, so one run shows them all.
static void AddValidationProblems(const MirrorConfig& cfg, const std::string& file,
                                  std::vector<std::string>* problems) {
  for (auto& p : cfg.Validate(file)) {
    if (std::find(problems->begin(), problems->end(), p) == problems->end()) {
      problems->push_back(std::move(p));
    }
  }
}

const ClusterConfig* MirrorConfig::FindCluster(const std::string& alias) const {
  for (const auto& c : clusters) {
    if (c.alias == alias) return &c;
  }
  return nullptr;
}

std::vector<std::string> MirrorConfig::Validate(const std::string& file) const {
  std::vector<std::string> problems;
  auto problem = [&](const std::string& field, const std::string& what) {
    problems.push_back(fmt::format("{}: {}: {}", file, field, what));
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
    try {
      common::BuildKafkaConf(c.properties, f + ".properties");
    } catch (const ConfigError& e) {
      problems.push_back(fmt::format("{}: {}", file, e.what()));
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
    CheckRegexes(fl.topics, f + ".topics", file, &problems);
    CheckRegexes(fl.topics_exclude, f + ".topics_exclude", file, &problems);
    CheckRegexes(fl.groups, f + ".groups", file, &problems);
    CheckRegexes(fl.groups_exclude, f + ".groups_exclude", file, &problems);
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
    problem("mirror.start_from", fmt::format("'{}' is not earliest or latest", m.start_from));
  }
  if (m.group_prefix.empty()) problem("mirror.group_prefix", "must not be empty");
  for (const auto& [name, props] :
       {std::pair{"mirror.consumer", &m.consumer}, std::pair{"mirror.producer", &m.producer}}) {
    try {
      common::BuildKafkaConf(*props, name);
    } catch (const ConfigError& e) {
      problems.push_back(fmt::format("{}: {}", file, e.what()));
    }
  }
  if (offsets.checkpoint_interval_ms < 10)
    problem("offsets.checkpoint_interval_ms", "must be >= 10");
  if (offsets.group_interval_ms < 100) problem("offsets.group_interval_ms", "must be >= 100");
  if (admin.port < -1 || admin.port > 65535) {
    problem("admin.port", fmt::format("{} is not a port (or -1 to disable)", admin.port));
  }
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
  YamlReader r(file, &problems);
  MirrorConfig cfg;
  r.CheckKeys(root, "", {"clusters", "flows", "mirror", "offsets", "admin"});

  if (YAML::Node cs = root["clusters"]) {
    if (!cs.IsSequence()) r.Problem("clusters", "expected a list");
    for (size_t i = 0; cs.IsSequence() && i < cs.size(); ++i) {
      std::string f = fmt::format("clusters[{}]", i);
      ClusterConfig c;
      r.CheckKeys(cs[i], f, {"alias", "bootstrap_servers", "properties"});
      if (!cs[i].IsMap()) continue;
      r.Scalar(cs[i], "alias", f, &c.alias);
      r.Scalar(cs[i], "bootstrap_servers", f, &c.bootstrap_servers);
      r.Properties(cs[i], "properties", f, &c.properties);
      if (c.properties.count("bootstrap.servers")) {
        r.Problem(f + ".properties.bootstrap.servers", "set bootstrap_servers instead");
      }
      cfg.clusters.push_back(std::move(c));
    }
  }
  if (YAML::Node fs = root["flows"]) {
    if (!fs.IsSequence()) r.Problem("flows", "expected a list");
    for (size_t i = 0; fs.IsSequence() && i < fs.size(); ++i) {
      std::string f = fmt::format("flows[{}]", i);
      FlowConfig fl;
      r.CheckKeys(fs[i], f,
                  {"source", "target", "topics", "topics_exclude", "replication_policy",
                   "separator", "groups", "groups_exclude", "enabled"});
      if (!fs[i].IsMap()) continue;
      r.Scalar(fs[i], "source", f, &fl.source);
      r.Scalar(fs[i], "target", f, &fl.target);
      r.StringList(fs[i], "topics", f, &fl.topics);
      r.StringList(fs[i], "topics_exclude", f, &fl.topics_exclude);
      r.StringList(fs[i], "groups", f, &fl.groups);
      r.StringList(fs[i], "groups_exclude", f, &fl.groups_exclude);
      r.Scalar(fs[i], "separator", f, &fl.separator);
      r.Scalar(fs[i], "enabled", f, &fl.enabled);
      std::string policy = "default";
      r.Scalar(fs[i], "replication_policy", f, &policy);
      bool ok = false;
      fl.policy = ParsePolicy(policy, &ok);
      if (!ok) {
        r.Problem(f + ".replication_policy",
                  fmt::format("unknown policy '{}' (default or identity)", policy));
      }
      cfg.flows.push_back(std::move(fl));
    }
  }
  if (YAML::Node m = root["mirror"]) {
    r.CheckKeys(m, "mirror",
                {"refresh_interval_ms", "commit_interval_ms", "max_inflight_per_partition",
                 "max_inflight_total", "max_inflight_bytes", "group_prefix", "start_from",
                 "drain_timeout_ms", "consumer", "producer"});
    auto& s = cfg.mirror;
    r.Scalar(m, "refresh_interval_ms", "mirror", &s.refresh_interval_ms);
    r.Scalar(m, "commit_interval_ms", "mirror", &s.commit_interval_ms);
    r.Scalar(m, "max_inflight_per_partition", "mirror", &s.max_inflight_per_partition);
    r.Scalar(m, "max_inflight_total", "mirror", &s.max_inflight_total);
    r.Scalar(m, "max_inflight_bytes", "mirror", &s.max_inflight_bytes);
    r.Scalar(m, "group_prefix", "mirror", &s.group_prefix);
    r.Scalar(m, "start_from", "mirror", &s.start_from);
    r.Scalar(m, "drain_timeout_ms", "mirror", &s.drain_timeout_ms);
    r.Properties(m, "consumer", "mirror", &s.consumer);
    r.Properties(m, "producer", "mirror", &s.producer);
  }
  if (YAML::Node o = root["offsets"]) {
    r.CheckKeys(o, "offsets",
                {"dir", "checkpoint_interval_ms", "group_interval_ms", "emit_syncs",
                 "emit_checkpoints", "sync_group_offsets"});
    auto& s = cfg.offsets;
    r.Scalar(o, "dir", "offsets", &s.dir);
    r.Scalar(o, "checkpoint_interval_ms", "offsets", &s.checkpoint_interval_ms);
    r.Scalar(o, "group_interval_ms", "offsets", &s.group_interval_ms);
    r.Scalar(o, "emit_syncs", "offsets", &s.emit_syncs);
    r.Scalar(o, "emit_checkpoints", "offsets", &s.emit_checkpoints);
    r.Scalar(o, "sync_group_offsets", "offsets", &s.sync_group_offsets);
  }
  if (YAML::Node a = root["admin"]) {
    r.CheckKeys(a, "admin", {"bind", "port"});
    r.Scalar(a, "bind", "admin", &cfg.admin.bind);
    r.Scalar(a, "port", "admin", &cfg.admin.port);
  }
  AddValidationProblems(cfg, file, &problems);
  if (!problems.empty()) ThrowProblems(problems);
  return cfg;
}

MirrorConfig LoadMirrorConfigYaml(const std::string& path) {
  return ParseMirrorConfigYaml(common::ReadConfigFile(path), path);
}

std::map<std::string, std::string> ParseJavaProperties(const std::string& text) {
  std::map<std::string, std::string> out;
  std::vector<std::string> logical;
  {
    std::istringstream in(text);
    std::string line, acc;
    bool cont = false;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      size_t b = line.find_first_not_of(" \t\f");
      std::string trimmed = b == std::string::npos ? "" : line.substr(b);
      if (!cont && (trimmed.empty() || trimmed[0] == '#' || trimmed[0] == '!')) continue;
      // A line ending in an odd number of backslashes continues on the next line.
      size_t bs = 0;
      while (bs < trimmed.size() && trimmed[trimmed.size() - 1 - bs] == '\\') ++bs;
      bool continues = bs % 2 == 1;
      if (continues) trimmed.pop_back();
      acc += trimmed;
      cont = continues;
      if (!cont) {
        logical.push_back(acc);
        acc.clear();
      }
    }
    if (!acc.empty()) logical.push_back(acc);
  }
  auto unescape = [](const std::string& s) {
    std::string o;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '\\' || i + 1 == s.size()) {
        o.push_back(s[i]);
        continue;
      }
      char c = s[++i];
      switch (c) {
        case 't':
          o.push_back('\t');
          break;
        case 'n':
          o.push_back('\n');
          break;
        case 'r':
          o.push_back('\r');
          break;
        case 'f':
          o.push_back('\f');
          break;
        case 'u':
          if (i + 4 < s.size() + 0) {
            unsigned cp = static_cast<unsigned>(std::stoul(s.substr(i + 1, 4), nullptr, 16));
            i += 4;
            if (cp < 0x80) {
              o.push_back(static_cast<char>(cp));
            } else if (cp < 0x800) {
              o.push_back(static_cast<char>(0xC0 | (cp >> 6)));
              o.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
            } else {
              o.push_back(static_cast<char>(0xE0 | (cp >> 12)));
              o.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
              o.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
            }
          }
          break;
        default:
          o.push_back(c);
      }
    }
    return o;
  };
  for (const auto& l : logical) {
    size_t i = 0;
    while (i < l.size()) {
      if (l[i] == '\\') {
        i += 2;
        continue;
      }
      if (l[i] == '=' || l[i] == ':' || l[i] == ' ' || l[i] == '\t') break;
      ++i;
    }
    std::string key = unescape(l.substr(0, std::min(i, l.size())));
    size_t v = i;
    while (v < l.size() && (l[v] == ' ' || l[v] == '\t')) ++v;
    if (v < l.size() && (l[v] == '=' || l[v] == ':')) ++v;
    while (v < l.size() && (l[v] == ' ' || l[v] == '\t')) ++v;
    std::string value = v < l.size() ? unescape(l.substr(v)) : "";
    // Trailing whitespace of a value is kept by Java; trim it, as MM2 trims list items anyway.
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    out[key] = value;
  }
  return out;
}

MirrorConfig ParseMm2Properties(const std::string& text, const std::string& file) {
  auto props = ParseJavaProperties(text);
  MirrorConfig cfg;
  std::vector<std::string> problems;
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
  for (const auto& a : aliases) {
    ClusterConfig c;
    c.alias = a;
    if (const auto* b = take(a + ".bootstrap.servers")) {
      c.bootstrap_servers = *b;
    } else {
      problems.push_back(fmt::format("{}: {}.bootstrap.servers: required", file, a));
    }
    cfg.clusters.push_back(std::move(c));
  }

  // Global defaults, overridable per flow ("A->B.topics").
  FlowConfig defaults;
  if (const auto* v = take("topics")) defaults.topics = regex_list(*v);
  if (const auto* v = take("topics.exclude")) defaults.topics_exclude = regex_list(*v);
  if (const auto* v = take("topics.blacklist")) defaults.topics_exclude = regex_list(*v);
  if (const auto* v = take("groups")) defaults.groups = regex_list(*v);
  if (const auto* v = take("groups.exclude")) defaults.groups_exclude = regex_list(*v);
  if (const auto* v = take("groups.blacklist")) defaults.groups_exclude = regex_list(*v);
  if (const auto* v = take("replication.policy.separator")) defaults.separator = *v;
  if (const auto* v = take("replication.policy.class")) {
    bool ok = false;
    defaults.policy = ParsePolicy(*v, &ok);
    if (!ok) {
      problems.push_back(fmt::format(
          "{}: replication.policy.class: '{}' is not supported (DefaultReplicationPolicy or "
          "IdentityReplicationPolicy)",
          file, *v));
    }
  }
  if (const auto* v = take("refresh.topics.interval.seconds")) {
    cfg.mirror.refresh_interval_ms = std::atoll(v->c_str()) * 1000;
  }
  if (const auto* v = take("emit.checkpoints.interval.seconds")) {
    cfg.offsets.group_interval_ms = std::atoll(v->c_str()) * 1000;
  }
  if (const auto* v = take("emit.checkpoints.enabled")) cfg.offsets.emit_checkpoints = *v == "true";
  if (const auto* v = take("sync.group.offsets.enabled")) {
    cfg.offsets.sync_group_offsets = *v == "true";
  }

  for (const auto& src : aliases) {
    for (const auto& dst : aliases) {
      if (src == dst) continue;
      std::string p = src + "->" + dst;
      const std::string* enabled = take(p + ".enabled");
      FlowConfig fl = defaults;
      fl.source = src;
      fl.target = dst;
      if (const auto* v = take(p + ".topics")) fl.topics = regex_list(*v);
      if (const auto* v = take(p + ".topics.exclude")) fl.topics_exclude = regex_list(*v);
      if (const auto* v = take(p + ".groups")) fl.groups = regex_list(*v);
      if (const auto* v = take(p + ".groups.exclude")) fl.groups_exclude = regex_list(*v);
      if (enabled && *enabled == "true") cfg.flows.push_back(std::move(fl));
    }
  }

  // Cluster-level client properties ("A.security.protocol = SSL") pass through to librdkafka
  // when it knows them; anything else is reported.
  std::vector<std::string> unsupported;
  for (const auto& [key, value] : props) {
    if (used.count(key)) continue;
    bool placed = false;
    for (auto& c : cfg.clusters) {
      std::string prefix = c.alias + ".";
      if (key.rfind(prefix, 0) == 0 && key.find("->") == std::string::npos) {
        std::string prop = key.substr(prefix.size());
        if (IsLibrdkafkaProperty(prop, value)) {
          c.properties[prop] = value;
          placed = true;
        }
      }
    }
    if (!placed) unsupported.push_back(key);
  }
  if (!unsupported.empty()) {
    std::string list;
    for (const auto& k : unsupported) list += (list.empty() ? "" : ", ") + k;
    cfg.warnings.push_back(fmt::format("{}: {} key{} not supported and not applied: {}", file,
                                       unsupported.size(), unsupported.size() == 1 ? "" : "s",
                                       list));
  }
  AddValidationProblems(cfg, file, &problems);
  if (!problems.empty()) ThrowProblems(problems);
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

}  // namespace rm::mirror

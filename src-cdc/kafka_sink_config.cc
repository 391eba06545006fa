#include "src-cdc/kafka_sink_config.h"

#include <fmt/format.h>

#include <cstdlib>

namespace rm::cdc {

void KafkaSinkConfig::Read(common::YamlFieldReader& r, const YAML::Node& node,
                           const std::string& path, bool topics_created) {
  if (!r.IsMap(node, path)) return;
  r.CheckKeys(node, path,
              {"bootstrap_servers", "properties", "sasl_password_env", "properties_env",
               "properties_file", "topic_partitions", "topic_replication_factor", "create_topics"});
  r.Get(node, path, "bootstrap_servers", bootstrap_servers);
  if (bootstrap_servers.empty()) r.Problem(path + ".bootstrap_servers", "required");
  r.GetProperties(node, path, "properties", properties);
  r.Get(node, path, "sasl_password_env", sasl_password_env);
  r.GetProperties(node, path, "properties_env", secrets.from_env);
  r.GetProperties(node, path, "properties_file", secrets.from_file);
  if (!sasl_password_env.empty() && secrets.from_env.count("sasl.password") > 0) {
    r.Problem(path + ".sasl_password_env", "also given as properties_env.sasl.password: keep one");
  }
  if (!topics_created) {
    for (const char* key : {"topic_partitions", "topic_replication_factor", "create_topics"}) {
      if (node[key]) {
        r.Problem(common::YamlFieldReader::Join(path, key),
                  "this capture creates no topics (create them beforehand, or let the brokers "
                  "create them), so the key would have no effect");
      }
    }
    return;
  }
  r.Get(node, path, "topic_partitions", topic_partitions);
  r.Get(node, path, "topic_replication_factor", topic_replication_factor);
  r.Get(node, path, "create_topics", create_topics);
}

std::vector<common::ConfigProblem> KafkaSinkConfig::Validate(const std::string& prefix) const {
  std::vector<common::ConfigProblem> p;
  for (const auto& [key, value] : properties) {
    if (key == "bootstrap.servers") {
      p.push_back({prefix + ".properties.bootstrap.servers",
                   "set " + prefix + ".bootstrap_servers instead"});
    } else if (common::IsSecretProperty(key)) {
      p.push_back({prefix + ".properties." + key, "secrets are never written in the config: use " +
                                                      prefix + ".sasl_password_env, " + prefix +
                                                      ".properties_env or " + prefix +
                                                      ".properties_file"});
    }
  }
  if (topic_partitions < 1) p.push_back({prefix + ".topic_partitions", "must be at least 1"});
  if (topic_replication_factor == 0 || topic_replication_factor < -1) {
    p.push_back({prefix + ".topic_replication_factor", "must be -1 (broker default) or positive"});
  }
  return p;
}

common::KafkaProperties KafkaSinkConfig::ResolveInto(const std::string& prefix,
                                                     std::vector<std::string>& problems) const {
  common::KafkaProperties props = properties;
  props["bootstrap.servers"] = bootstrap_servers;
  if (!sasl_password_env.empty()) {
    if (const char* v = std::getenv(sasl_password_env.c_str())) {
      props["sasl.password"] = v;
    } else {
      problems.push_back(fmt::format("{}.sasl_password_env: environment variable {} is not set",
                                     prefix, sasl_password_env));
    }
  }
  common::ReadSecrets(secrets, prefix + ".", props, problems);
  return props;
}

std::vector<common::ConfigProblem> KafkaSinkConfig::CheckClientProperties(
    const std::string& prefix) const {
  std::vector<std::string> secret_problems;  // "kafka.properties_env.<key>: <why>"
  const common::KafkaProperties props = ResolveInto(prefix, secret_problems);
  std::vector<common::ConfigProblem> p;
  for (const auto& s : secret_problems) p.push_back(common::ConfigProblem::FromFieldMessage(s));
  if (auto why = common::KafkaPropertiesProblem(props); !why.empty()) {
    p.push_back({prefix + ".properties", why});
  }
  return p;
}

common::KafkaProperties KafkaSinkConfig::Resolve(const std::string& source_file) const {
  std::vector<std::string> problems;
  common::KafkaProperties props = ResolveInto("kafka", problems);
  for (auto& p : problems) p = source_file + ": " + p;
  common::ThrowIfProblems(problems);
  return props;
}

}  // namespace rm::cdc

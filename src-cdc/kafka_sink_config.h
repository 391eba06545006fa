// The `kafka:` section of both captures' configuration files: the cluster change events are
// produced to. One type and one reader, so the two files spell and check it alike:
//
//   kafka:
//     bootstrap_servers: "b1:9092"   # required when the section is present
//     properties: {linger.ms: "5"}   # librdkafka producer properties; secrets never inline
//     sasl_password_env: RM_KAFKA_PASSWORD   # becomes sasl.password
//     properties_env: {}             # other secret properties from variables, or from files:
//     properties_file: {ssl.key.password: /run/secrets/key}
//     topic_partitions: 6            # only where the capture creates its topics (Postgres'
//     topic_replication_factor: -1   #   provisioning); -1: the brokers' default
//     create_topics: true            # false: topics are made elsewhere
#pragma once

#include <string>
#include <vector>

#include "common/config_reader.h"
#include "common/kafka_config.h"
#include "common/secrets.h"

namespace rm::cdc {

struct KafkaSinkConfig {
  // Bootstrap servers. Required when the section is present. Empty: no Kafka configured.
  std::string bootstrap_servers;
  // librdkafka properties for the producer (and the provisioning admin client): TLS, SASL,
  // compression.type, linger.ms, ... Properties holding secrets (common::IsSecretProperty) are
  // refused here. Default: none (the sink adds acks=all and idempotence).
  common::KafkaProperties properties;
  // Name of an environment variable holding the SASL password (sasl.password); shorthand for
  // properties_env: {sasl.password: VAR}. Default: none.
  std::string sasl_password_env;
  // Secret properties from variables or files (common/secrets.h). Default: none.
  common::SecretSources secrets;
  // Partitions of the topics the capture creates. Default: 6.
  int topic_partitions = 6;
  // Replication factor of the topics the capture creates; -1 = the brokers' default.
  // Default: -1.
  int topic_replication_factor = -1;
  // Whether the capture creates missing topics. false: topics are managed elsewhere.
  // Default: true.
  bool create_topics = true;

  bool configured() const { return !bootstrap_servers.empty(); }

  // Reads the section at `path` ("kafka") when present. `topics_created` says whether the
  // capture creates its topics: when it does not, the topic keys are problems that say so
  // (accepting them would promise what the capture does not do).
  void Read(common::YamlFieldReader& r, const YAML::Node& node, const std::string& path,
            bool topics_created);
  // Problems with the values, the section being at `prefix`.
  std::vector<common::ConfigProblem> Validate(const std::string& prefix) const;
  // What librdkafka refuses in the client properties, with the secrets read: problems of
  // `<prefix>.properties` and of the secret fields (a variable unset, a file unreadable).
  std::vector<common::ConfigProblem> CheckClientProperties(const std::string& prefix) const;
  // Client properties: `properties` plus bootstrap.servers and the secrets. Throws ConfigError
  // naming `source_file` and the field (of the section `kafka`) when a variable is unset or a
  // file unreadable.
  common::KafkaProperties Resolve(const std::string& source_file) const;

 private:
  // `properties` plus bootstrap.servers and the secrets; problems "<field>: <why>", the
  // section being at `prefix`.
  common::KafkaProperties ResolveInto(const std::string& prefix,
                                      std::vector<std::string>& problems) const;
};

}  // namespace rm::cdc

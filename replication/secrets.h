// Secrets in our YAML files: the project's one rule (as the Postgres capture's password_env /
// password_file). A librdkafka property holding a secret (a password, a client secret, a
// private key) is never written in the file; the file names where it is instead:
//
//   properties_env:  {sasl.password: RM_US_EAST_PASSWORD}       # an environment variable
//   properties_file: {ssl.key.password: /run/secrets/key-pass}  # a file (one trailing newline
//                                                                 # is dropped)
//
// mm2.properties files are Java properties files and keep Kafka's own mechanism instead
// (config providers, config_providers.h).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/kafka_config.h"

namespace rm::replication {

// True for a librdkafka property that holds a secret: names containing "password" or "secret"
// (sasl.password, ssl.key.password, ssl.keystore.password, sasl.oauthbearer.client.secret) and
// the inline private key ssl.key.pem.
bool IsSecretProperty(std::string_view key);

struct SecretSources {
  std::map<std::string, std::string> from_env;   // property -> environment variable
  std::map<std::string, std::string> from_file;  // property -> file path

  bool empty() const { return from_env.empty() && from_file.empty(); }
};

// Reads every secret of `sources` into `props`. A variable that is unset or a file that cannot
// be read is a problem, appended as "<where>properties_env.<key>: environment variable X is not
// set" (or "...properties_file.<key>: cannot read <path>"); that property is left out.
void ReadSecrets(const SecretSources& sources, const std::string& where,
                 common::KafkaProperties& props, std::vector<std::string>& problems);

}  // namespace rm::replication

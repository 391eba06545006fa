// Secrets in our YAML files: the project's one rule. A secret is never written in the file;
// the file names where it is, an environment variable or a file (one trailing newline dropped):
//
//   - a single secret field `<name>`: `<name>_env: VAR` or `<name>_file: /run/secrets/x`, never
//     both (Postgres' password, the Cassandra keystore passwords and key): SecretRef;
//   - librdkafka properties holding secrets (passwords, client secrets, private keys):
//       properties_env:  {sasl.password: RM_US_EAST_PASSWORD}
//       properties_file: {ssl.key.password: /run/secrets/key-pass}
//     and such a property written inline in `properties` is refused (IsSecretProperty).
//
// mm2.properties files are Java properties files and keep Kafka's own mechanism instead
// (config providers, config_providers.h).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/config_reader.h"
#include "common/kafka_config.h"
#include "common/result.h"

namespace rm::common {

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
void ReadSecrets(const SecretSources& sources, const std::string& where, KafkaProperties& props,
                 std::vector<std::string>& problems);

// One secret field given by `<name>_env` or `<name>_file`.
struct SecretRef {
  std::string env;   // environment variable holding the secret
  std::string file;  // file holding it

  bool given() const { return !env.empty() || !file.empty(); }
  // The secret. Errors name the field that gave it: "<field>_env: environment variable X is not
  // set", "<field>_file: cannot read <path>", "<field>_env: required" when neither is given.
  Result<std::string> Read(const std::string& field) const;
};

// Reads `<key>_env` and `<key>_file` of `node` into `out`; a problem when both are given. The
// caller lists both names among the node's known keys.
void GetSecretRef(YamlFieldReader& r, const YAML::Node& node, const std::string& path,
                  const std::string& key, SecretRef& out);

}  // namespace rm::common

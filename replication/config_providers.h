// Kafka config providers in mm2.properties values: `${env:VAR}` and `${file:path:key}`, so
// secrets stay where they are (environment, a mounted secrets file) instead of being copied.
//
// Follows Kafka's ConfigTransformer: every `${provider:[path:]key}` in a value is replaced, once
// (results are not expanded again); the providers are those named by `config.providers`, each
// with `config.providers.<name>.class`. Supported classes: EnvVarConfigProvider (the variable
// `key`) and FileConfigProvider (key `key` of the Java properties file `path`). Without a
// `config.providers` key, `env` and `file` mean those two, so a file written for us alone need
// not declare them.
// Differs from Kafka on purpose: a reference that cannot be resolved (unknown provider, unset
// variable, unreadable file, missing key) is an error naming the key and the reference; Kafka
// would pass the text on unchanged and fail later with a less helpful message.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace rm::replication {

// Resolves the references in every value of `props` and removes the `config.providers` keys it
// used. Problems are appended to `problems` as "<key>: <reference>: <reason>".
void ResolveConfigProviders(std::map<std::string, std::string>* props,
                            std::vector<std::string>* problems);

}  // namespace rm::replication

// Java's `sasl.jaas.config` in mm2.properties, translated into librdkafka's SASL settings.
//
// Supported login modules: PlainLoginModule and ScramLoginModule (username and password
// options become sasl.username / sasl.password; PLAIN is set as sasl.mechanism unless one is
// given; SCRAM needs sasl.mechanism SCRAM-SHA-256 or SCRAM-SHA-512 from the file, as in Java).
// Other modules (GSSAPI, OAUTHBEARER) have no such translation and are reported as problems.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace rm::replication {

// Replaces `<alias>.sasl.jaas.config` (and a top-level `sasl.jaas.config`, which MM2 applies to
// every cluster that has none of its own) by `<alias>.sasl.username`, `.sasl.password` and
// `.sasl.mechanism`. Problems name the key and never the password.
void TranslateJaasConfig(std::map<std::string, std::string>* props,
                         const std::vector<std::string>& aliases,
                         std::vector<std::string>* problems);

}  // namespace rm::replication

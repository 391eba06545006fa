// Java key and trust stores of mm2.properties (`A.ssl.truststore.*`, `A.ssl.keystore.*`,
// `A.ssl.key.password`, Kafka's inline PEM settings), translated into what librdkafka 2.0.2
// reads, so an existing file keeps its TLS setup without copying a secret anywhere:
//
//   trust store PKCS12  -> its certificates as PEM in ssl.ca.pem (read here with OpenSSL)
//   trust store PEM     -> ssl.ca.location
//   key store PKCS12    -> ssl.keystore.location / ssl.keystore.password (librdkafka reads
//                          PKCS12 itself; the key must use the store's password, as keytool
//                          makes it)
//   key store PEM       -> ssl.certificate.location and ssl.key.location (the same file),
//                          ssl.key.password
//   ssl.truststore.certificates / ssl.keystore.certificate.chain / ssl.keystore.key (inline PEM)
//                       -> ssl.ca.pem / ssl.certificate.pem / ssl.key.pem
//   JKS or JCEKS        -> a problem naming the keytool command that converts the store to
//                          PKCS12 (a Java-only format: no C library in Debian reads it, and
//                          running a JVM at start-up to convert it is not worth the dependency)
//   ssl.endpoint.identification.algorithm empty (Java: no host name check) -> "none"
//
// The store type is ssl.*.type when set; otherwise (Kafka's default type JKS, whose Java loader
// also reads PKCS12 files) it is told from the file's first bytes. A store that cannot be read
// (missing file, wrong password) is a problem naming the key, never the password.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace rm::replication {

// Replaces the cluster-level Java store keys of `props` (`<alias>.ssl.truststore.location`, ...)
// by librdkafka's. Problems are appended as "<key>: <reason>".
void TranslateJavaKeyStores(std::map<std::string, std::string>* props,
                            const std::vector<std::string>& aliases,
                            std::vector<std::string>* problems);

}  // namespace rm::replication

// Reads secret keys from a Java JCEKS keystore, the format Cassandra's transparent data
// encryption uses (`transparent_data_encryption_options.key_provider` = JKSKeyProvider with
// store_type JCEKS). Layout (com.sun.crypto.provider.JceKeyStore): magic 0xCECECECE, version,
// entry count, entries (tag, alias, date, then for secret keys a serialized SealedObject
// protected with PBEWithMD5AndTripleDES), and a SHA-1 integrity digest keyed by the store
// password.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace rm::cdc::cassandra {

struct JceksSecretKey {
  std::string alias;      // as stored (Java lower-cases aliases on insert)
  std::string algorithm;  // e.g. "AES"
  std::string key;        // raw key bytes
  int64_t created_millis = 0;
};

// Parses `keystore` and unseals every secret-key entry with `key_password`. The integrity digest
// is checked with `store_password` unless it is empty. Private-key and certificate entries are
// skipped. Errors (code "jceks.format", "jceks.password" or "jceks.unsupported") say what and
// where; a wrong password is reported as such, not as garbage keys.
common::Result<std::vector<JceksSecretKey>> ReadJceksSecretKeys(std::string_view keystore,
                                                                std::string_view store_password,
                                                                std::string_view key_password);

}  // namespace rm::cdc::cassandra

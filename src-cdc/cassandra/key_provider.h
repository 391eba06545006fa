// Where the reader gets the keys of encrypted segments. A segment header names its key by
// alias (encKeyAlias, e.g. "testing:1"); a KeyProvider maps aliases to raw key bytes.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

namespace rm::cdc::cassandra {

// Implementations must be thread-safe for GetKey once built (readers share one provider).
class KeyProvider {
 public:
  virtual ~KeyProvider() = default;
  // Raw key bytes for `alias`, or an error (code "cassandra.key") naming the alias.
  virtual common::Result<std::string> GetKey(std::string_view alias) const = 0;
};

// Keys given directly, e.g. from configuration as hex. Immutable after setup.
class StaticKeyProvider : public KeyProvider {
 public:
  // Adds a key for `alias` given as hex ("b7d96fb9..."); fails on malformed hex.
  common::Status AddHexKey(std::string alias, std::string_view hex);
  void AddKey(std::string alias, std::string raw) { keys_[std::move(alias)] = std::move(raw); }
  // Used for every alias that has no key of its own.
  void SetDefaultKey(std::string raw) { default_key_ = std::move(raw); }

  common::Result<std::string> GetKey(std::string_view alias) const override;

 private:
  std::map<std::string, std::string, std::less<>> keys_;
  std::optional<std::string> default_key_;
};

// Secret keys loaded once from a JCEKS keystore (Cassandra's JKSKeyProvider). Immutable.
class JceksKeyProvider : public KeyProvider {
 public:
  // Reads and unseals every secret key of the keystore file. Errors name the file.
  static common::Result<JceksKeyProvider> Load(const std::filesystem::path& keystore,
                                               std::string_view store_password,
                                               std::string_view key_password);
  static common::Result<JceksKeyProvider> FromBytes(std::string_view keystore,
                                                    std::string_view store_password,
                                                    std::string_view key_password);

  common::Result<std::string> GetKey(std::string_view alias) const override;
  size_t size() const { return keys_.size(); }

 private:
  std::map<std::string, std::string, std::less<>> keys_;
};

}  // namespace rm::cdc::cassandra

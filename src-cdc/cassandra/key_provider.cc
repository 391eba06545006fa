#include "src-cdc/cassandra/key_provider.h"

#include <cctype>
#include <fstream>
#include <sstream>

#include "src-cdc/cassandra/jceks.h"

namespace rm::cdc::cassandra {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

common::Status StaticKeyProvider::AddHexKey(std::string alias, std::string_view hex) {
  if (hex.empty() || hex.size() % 2 != 0) {
    return common::Error{"cassandra.key",
                         "key for '" + alias + "' is not an even-length hex string"};
  }
  std::string raw;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int v = 0;
    for (size_t k = i; k < i + 2; ++k) {
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(hex[k])));
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return common::Error{"cassandra.key", "key for '" + alias + "' is not hex"};
      v = v * 16 + d;
    }
    raw.push_back(static_cast<char>(v));
  }
  keys_[std::move(alias)] = std::move(raw);
  return common::Status::Ok();
}

common::Result<std::string> StaticKeyProvider::GetKey(std::string_view alias) const {
  const auto it = keys_.find(alias);
  if (it != keys_.end()) return it->second;
  if (default_key_) return *default_key_;
  return common::Error{"cassandra.key", "no key configured for alias '" + std::string(alias) + "'"};
}

common::Result<JceksKeyProvider> JceksKeyProvider::Load(const std::filesystem::path& keystore,
                                                        std::string_view store_password,
                                                        std::string_view key_password) {
  std::ifstream in(keystore, std::ios::binary);
  if (!in) {
    return common::Error{"cassandra.key", keystore.string() + ": cannot open keystore"};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto p = FromBytes(ss.str(), store_password, key_password);
  if (!p.ok()) return common::Error{p.error().code, keystore.string() + ": " + p.error().message};
  return p;
}

common::Result<JceksKeyProvider> JceksKeyProvider::FromBytes(std::string_view keystore,
                                                             std::string_view store_password,
                                                             std::string_view key_password) {
  auto keys = ReadJceksSecretKeys(keystore, store_password, key_password);
  if (!keys.ok()) return keys.error();
  JceksKeyProvider p;
  for (auto& k : keys.value()) p.keys_[Lower(k.alias)] = std::move(k.key);
  return p;
}

common::Result<std::string> JceksKeyProvider::GetKey(std::string_view alias) const {
  // Java's keystore lower-cases aliases, so look them up case-insensitively too.
  const auto it = keys_.find(Lower(alias));
  if (it == keys_.end()) {
    return common::Error{"cassandra.key",
                         "keystore has no secret key with alias '" + std::string(alias) + "'"};
  }
  return it->second;
}

}  // namespace rm::cdc::cassandra

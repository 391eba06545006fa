#include "common/secrets.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

namespace rm::common {

bool IsSecretProperty(std::string_view key) {
  return key.find("password") != std::string_view::npos ||
         key.find("secret") != std::string_view::npos || key == "ssl.key.pem";
}

namespace {

// The file's text without one trailing newline (files written by `echo` or editors end in one).
std::optional<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  std::string value = ss.str();
  if (!value.empty() && value.back() == '\n') value.pop_back();
  if (!value.empty() && value.back() == '\r') value.pop_back();
  return value;
}

}  // namespace

void ReadSecrets(const SecretSources& sources, const std::string& where, KafkaProperties& props,
                 std::vector<std::string>& problems) {
  for (const auto& [key, var] : sources.from_env) {
    const char* v = std::getenv(var.c_str());
    if (v == nullptr) {
      problems.push_back(
          fmt::format("{}properties_env.{}: environment variable {} is not set", where, key, var));
      continue;
    }
    props[key] = v;
  }
  for (const auto& [key, path] : sources.from_file) {
    auto value = ReadSecretFile(path);
    if (!value) {
      problems.push_back(fmt::format("{}properties_file.{}: cannot read {}", where, key, path));
      continue;
    }
    props[key] = std::move(*value);
  }
}

Result<std::string> SecretRef::Read(const std::string& field) const {
  if (!env.empty()) {
    const char* v = std::getenv(env.c_str());
    if (v == nullptr) {
      return Error{"config", fmt::format("{}_env: environment variable {} is not set", field, env)};
    }
    return std::string(v);
  }
  if (!file.empty()) {
    auto value = ReadSecretFile(file);
    if (!value) return Error{"config", fmt::format("{}_file: cannot read {}", field, file)};
    return std::move(*value);
  }
  return Error{"config", fmt::format("{}_env: required (or {}_file)", field, field)};
}

void GetSecretRef(YamlFieldReader& r, const YAML::Node& node, const std::string& path,
                  const std::string& key, SecretRef& out) {
  const std::string env_key = key + "_env";
  const std::string file_key = key + "_file";
  r.Get(node, path, env_key.c_str(), out.env);
  r.Get(node, path, file_key.c_str(), out.file);
  if (!out.env.empty() && !out.file.empty()) {
    r.Problem(YamlFieldReader::Join(path, file_key),
              fmt::format("give {} or {}, not both", env_key, file_key));
  }
}

}  // namespace rm::common

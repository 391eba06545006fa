#include "replication/secrets.h"

#include <fmt/format.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace rm::replication {

bool IsSecretProperty(std::string_view key) {
  return key.find("password") != std::string_view::npos ||
         key.find("secret") != std::string_view::npos || key == "ssl.key.pem";
}

void ReadSecrets(const SecretSources& sources, const std::string& where,
                 common::KafkaProperties& props, std::vector<std::string>& problems) {
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
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      problems.push_back(fmt::format("{}properties_file.{}: cannot read {}", where, key, path));
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    std::string value = ss.str();
    if (!value.empty() && value.back() == '\n') value.pop_back();
    if (!value.empty() && value.back() == '\r') value.pop_back();
    props[key] = std::move(value);
  }
}

}  // namespace rm::replication

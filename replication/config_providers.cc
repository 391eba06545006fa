#include "replication/config_providers.h"

#include <fmt/format.h>

#include <cstdlib>
#include <optional>
#include <regex>
#include <sstream>

#include "common/config_reader.h"
#include "common/result.h"
#include "replication/java_properties.h"

namespace rm::replication {
namespace {

enum class ProviderKind { kEnv, kFile };

constexpr const char* kEnvClass = "org.apache.kafka.common.config.provider.EnvVarConfigProvider";
constexpr const char* kFileClass = "org.apache.kafka.common.config.provider.FileConfigProvider";

std::optional<ProviderKind> KindOfClass(const std::string& cls) {
  if (cls == kEnvClass || cls == "EnvVarConfigProvider") return ProviderKind::kEnv;
  if (cls == kFileClass || cls == "FileConfigProvider") return ProviderKind::kFile;
  return std::nullopt;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\f\r\n\v");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\f\r\n\v") - b + 1);
}

// The providers the file declares (see the header for the default).
std::map<std::string, ProviderKind> DeclaredProviders(std::map<std::string, std::string>* props,
                                                      std::vector<std::string>* problems) {
  std::map<std::string, ProviderKind> providers;
  auto list = props->find("config.providers");
  if (list == props->end()) {
    return {{"env", ProviderKind::kEnv}, {"file", ProviderKind::kFile}};
  }
  std::stringstream names(list->second);
  std::string name;
  while (std::getline(names, name, ',')) {
    name = Trim(name);
    if (name.empty()) continue;
    const std::string class_key = "config.providers." + name + ".class";
    auto cls = props->find(class_key);
    if (cls == props->end()) {
      problems->push_back(fmt::format("{}: required for config provider '{}'", class_key, name));
      continue;
    }
    if (auto kind = KindOfClass(Trim(cls->second))) {
      providers[name] = *kind;
    } else {
      problems->push_back(
          fmt::format("{}: '{}' is not supported (FileConfigProvider or EnvVarConfigProvider)",
                      class_key, Trim(cls->second)));
    }
    props->erase(cls);
  }
  props->erase(list);
  return providers;
}

}  // namespace

void ResolveConfigProviders(std::map<std::string, std::string>* props,
                            std::vector<std::string>* problems) {
  const auto providers = DeclaredProviders(props, problems);
  // Kafka's ConfigTransformer pattern: ${provider:[path:]key}, each part free of '}'.
  static const std::regex kReference(R"(\$\{([^}]*?):(([^}]*?):)?([^}]*?)\})");
  std::map<std::string, std::map<std::string, std::string>> files;  // path -> contents
  std::map<std::string, std::string> file_errors;                   // path -> why unreadable
  for (auto& [key, value] : *props) {
    if (value.find("${") == std::string::npos) continue;
    std::string out;
    auto last = value.cbegin();
    for (std::sregex_iterator it(value.begin(), value.end(), kReference), end; it != end; ++it) {
      const std::smatch& m = *it;
      out.append(last, m[0].first);
      last = m[0].second;
      const std::string provider = m[1].str();
      const std::string path = m[3].str();
      const std::string ref_key = m[4].str();
      // (Structured bindings are captured through an init-capture: clang before 16, which
      // builds the fuzz targets, cannot capture them directly.)
      auto problem = [&, &key = key](const std::string& why) {
        problems->push_back(fmt::format("{}: {}: {}", key, m[0].str(), why));
      };
      auto p = providers.find(provider);
      if (p == providers.end()) {
        std::string names;
        for (const auto& [n, kind] : providers) names += (names.empty() ? "" : ", ") + n;
        problem(fmt::format("no config provider '{}' (config.providers: {})", provider,
                            names.empty() ? "none" : names));
        continue;
      }
      if (p->second == ProviderKind::kEnv) {
        const char* env = std::getenv(ref_key.c_str());
        if (!env) {
          problem(fmt::format("environment variable {} is not set", ref_key));
          continue;
        }
        out += env;
        continue;
      }
      if (path.empty()) {
        problem("a file reference needs a path: ${" + provider + ":<path>:<key>}");
        continue;
      }
      if (!files.count(path) && !file_errors.count(path)) {
        try {
          files[path] = ParseJavaProperties(common::ReadConfigFile(path), path);
        } catch (const common::ConfigError& e) {
          file_errors[path] = e.what();
        }
      }
      if (auto err = file_errors.find(path); err != file_errors.end()) {
        problem(err->second);
        continue;
      }
      const auto& contents = files.at(path);
      auto v = contents.find(ref_key);
      if (v == contents.end()) {
        problem(fmt::format("no key '{}' in {}", ref_key, path));
        continue;
      }
      out += v->second;
    }
    out.append(last, value.cend());
    value = std::move(out);
  }
}

}  // namespace rm::replication

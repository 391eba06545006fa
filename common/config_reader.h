// Pieces every configuration loader uses: read the file, read YAML fields collecting every
// problem as "<path>: <why>" instead of stopping at the first, and throw them all at once (the
// project's rule for configuration errors).
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "common/result.h"

namespace rm::common {

// The whole file; ConfigError "<path>: cannot read file" when it cannot be read.
inline std::string ReadConfigFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ConfigError(fmt::format("{}: cannot read file", path.string()));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// ConfigError with one problem per line, when there are any.
inline void ThrowIfProblems(const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  std::string msg;
  for (const auto& p : problems) msg += (msg.empty() ? "" : "\n") + p;
  throw ConfigError(msg);
}

// The same at the end of a loader: the field problems first, each prefixed with `source` (the
// file), then what validation found in the values that did parse (its messages name their
// source themselves; fields that failed to parse keep their defaults, so they add no second
// report).
inline void ThrowIfProblems(const std::string& source, std::vector<std::string> field_problems,
                            const std::vector<std::string>& validation) {
  for (auto& p : field_problems) p = source + ": " + p;
  field_problems.insert(field_problems.end(), validation.begin(), validation.end());
  ThrowIfProblems(field_problems);
}

class YamlFieldReader {
 public:
  // Problems are appended to `problems`, which must outlive the reader.
  explicit YamlFieldReader(std::vector<std::string>& problems) : problems_(problems) {}

  void Problem(const std::string& path, const std::string& why) {
    problems_.push_back(fmt::format("{}: {}", path, why));
  }

  // Reports keys of `node` that are not in `known` (catches typos).
  void CheckKeys(const YAML::Node& node, const std::string& path,
                 const std::set<std::string>& known) {
    if (!node || !node.IsMap()) return;
    for (const auto& kv : node) {
      auto key = kv.first.as<std::string>();
      if (!known.count(key)) Problem(Join(path, key), "unknown field");
    }
  }

  // False when `node` is absent; a problem when it is present but not a map.
  bool IsMap(const YAML::Node& node, const std::string& path) {
    if (!node) return false;
    if (!node.IsMap()) {
      Problem(path, "expected a map");
      return false;
    }
    return true;
  }

  // Sets `out` from node[key] when present; a problem when it has the wrong type.
  template <typename T>
  void Get(const YAML::Node& node, const std::string& path, const char* key, T& out) {
    if (!node || !node.IsMap() || !node[key]) return;
    try {
      out = node[key].as<T>();
    } catch (const YAML::Exception&) {
      Problem(Join(path, key), fmt::format("expected {}", TypeName<T>()));
    }
  }

  void GetMillis(const YAML::Node& node, const std::string& path, const char* key,
                 std::chrono::milliseconds& out) {
    int64_t v = out.count();
    Get(node, path, key, v);
    out = std::chrono::milliseconds(v);
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

 private:
  template <typename T>
  static const char* TypeName() {
    if constexpr (std::is_same_v<T, bool>) return "true or false";
    if constexpr (std::is_integral_v<T>) return "an integer";
    if constexpr (std::is_same_v<T, std::string>) return "a string";
    if constexpr (std::is_same_v<T, std::vector<std::string>>) return "a list of strings";
    if constexpr (std::is_same_v<T, std::map<std::string, std::string>>) {
      return "a map of strings";
    }
    return "a value";
  }

  std::vector<std::string>& problems_;
};

}  // namespace rm::common

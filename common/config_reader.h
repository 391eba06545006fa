// Pieces every configuration loader uses: read the file, read YAML fields collecting every
// problem as "<path>: <why>" instead of stopping at the first, validate the values into problems
// as data (ConfigProblem), and throw them all at once, each with its file and line (the
// project's rule for configuration errors, docs/architecture.md "Configuration files").
#pragma once

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
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

// One problem with a configuration's values, as data: the field (its path as written,
// "flows[2].source"; empty for the configuration as a whole) and why. Validate() functions
// return these; the loader adds the file and the field's line once (ThrowIfProblems below).
struct ConfigProblem {
  std::string field;
  std::string why;

  // "<field>: <why>", or the reason alone when there is no field.
  std::string ToString() const { return field.empty() ? why : field + ": " + why; }
  bool operator==(const ConfigProblem&) const = default;

  // A message our own code wrote in the "<field>: <why>" form (YamlFieldReader::Problem, the
  // secrets' errors) as data; a message without ": " is a reason without field.
  static ConfigProblem FromFieldMessage(const std::string& message) {
    const size_t colon = message.find(": ");
    if (colon == std::string::npos) return {"", message};
    return {message.substr(0, colon), message.substr(colon + 2)};
  }
};

// ConfigError with the problems, when there are any: a single one as it is; several under a
// first line that counts them, one an indented line ("3 problems in configuration:\n  ...").
inline void ThrowIfProblems(const std::vector<std::string>& problems) {
  if (problems.empty()) return;
  if (problems.size() == 1) throw ConfigError(problems.front());
  std::string msg = fmt::format("{} problems in configuration:", problems.size());
  for (const auto& p : problems) msg += "\n  " + p;
  throw ConfigError(msg);
}

// Where each field of a YAML document is written: the line of every node, keyed by the field
// paths YamlFieldReader uses ("flows[2].source"; for a map entry, the line of its key, since a
// block value starts on a later line). Every loader reports problems as
// "<file>:<line>: <field>: <why>" through it, the compiler convention editors jump to.
class YamlLines {
 public:
  YamlLines() = default;
  explicit YamlLines(const YAML::Node& root) { Index(root, ""); }

  // The line (1-based) of `field`, or of the nearest enclosing field that has one
  // ("a.b[2].c" -> "a.b[2]" -> "a.b" -> "a"); 0 when none has.
  int LineOf(std::string field) const {
    while (!field.empty()) {
      if (auto it = lines_.find(field); it != lines_.end()) return it->second;
      const size_t cut = field.find_last_of(".[");
      if (cut == std::string::npos) break;
      field.resize(cut);
    }
    return 0;
  }
  // True when `field` itself is written in the document.
  bool Has(const std::string& field) const { return lines_.count(field) > 0; }

  // "<source>:<line>: <field>: <why>" when the problem's field has a line;
  // "<source>: <field>: <why>" otherwise.
  std::string Locate(const std::string& source, const ConfigProblem& problem) const {
    const int line = problem.field.empty() ? 0 : LineOf(problem.field);
    if (line == 0) return source + ": " + problem.ToString();
    return fmt::format("{}:{}: {}", source, line, problem.ToString());
  }

 private:
  void Index(const YAML::Node& node, const std::string& path) {
    if (!node.IsDefined()) return;
    if (node.Mark().line >= 0) lines_.emplace(path, node.Mark().line + 1);
    if (node.IsMap()) {
      for (const auto& kv : node) {
        if (!kv.first.IsScalar()) continue;
        const std::string child = path.empty() ? kv.first.Scalar() : path + "." + kv.first.Scalar();
        if (kv.first.Mark().line >= 0) lines_[child] = kv.first.Mark().line + 1;
        Index(kv.second, child);
      }
    } else if (node.IsSequence()) {
      for (size_t i = 0; i < node.size(); ++i) Index(node[i], fmt::format("{}[{}]", path, i));
    }
  }

  std::map<std::string, int> lines_;
};

// The same at the end of a loader, each problem with `source` and the line of its field (from
// `lines`, when given), in this order: the field problems the reader found ("<field>: <why>"),
// problems already located by a nested reader ("<source>:<line>: ..."), then what validation
// found in the values that did parse (fields that failed to parse keep their defaults, so they
// add no second report).
inline void ThrowIfProblems(const std::string& source,
                            const std::vector<std::string>& field_problems,
                            const std::vector<ConfigProblem>& validation,
                            const YamlLines& lines = YamlLines(),
                            const std::vector<std::string>& located = {}) {
  std::vector<std::string> all;
  for (const auto& p : field_problems) {
    all.push_back(lines.Locate(source, ConfigProblem::FromFieldMessage(p)));
  }
  all.insert(all.end(), located.begin(), located.end());
  for (const auto& v : validation) all.push_back(lines.Locate(source, v));
  ThrowIfProblems(all);
}

// One word of an enum in a configuration file and the value it stands for. An alias (Kafka's or
// MM2's own spelling, "DefaultReplicationPolicy") is accepted but not listed in messages.
template <typename E>
struct EnumWord {
  std::string_view word;
  E value;
  bool alias = false;
};

// The reason a value outside an enum's words is refused: "must be one of a, b, c (got "x")", for
// checks of values that came from elsewhere than a YAML field (mm2.properties, flags).
inline std::string MustBeOneOf(const std::vector<std::string_view>& words, std::string_view got) {
  return fmt::format("must be one of {} (got \"{}\")", fmt::join(words, ", "), got);
}

class YamlFieldReader {
 public:
  // Problems are appended to `problems`, which must outlive the reader.
  explicit YamlFieldReader(std::vector<std::string>& problems) : problems_(problems) {}

  void Problem(const std::string& path, const std::string& why) {
    problems_.push_back(fmt::format("{}: {}", path, why));
  }

  // Reports keys of `node` that are not in `known` (catches typos), with the keys `known` there
  // in the order given: "<path>.<key>: unknown field (known here: a, b, c)".
  void CheckKeys(const YAML::Node& node, const std::string& path,
                 std::initializer_list<std::string_view> known) {
    if (!node || !node.IsMap()) return;
    for (const auto& kv : node) {
      if (!IsScalarKey(kv.first, path)) continue;
      auto key = kv.first.as<std::string>();
      if (std::find(known.begin(), known.end(), key) != known.end()) continue;
      Problem(Join(path, key),
              fmt::format("unknown field (known here: {})", fmt::join(known, ", ")));
    }
  }

  // False when `node` is absent; a problem when it is present but not a map.
  bool IsMap(const YAML::Node& node, const std::string& path) {
    return IsA(node, path, YAML::NodeType::Map, "expected a map");
  }

  // False when `node` is absent; a problem when it is present but not a list.
  bool IsList(const YAML::Node& node, const std::string& path) {
    return IsA(node, path, YAML::NodeType::Sequence, "expected a list");
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

  // Sets `out` from node[key], a list of strings; a single string is taken as a one-item list.
  // A problem when it is neither, and one for each item that is not a string.
  void GetStringList(const YAML::Node& node, const std::string& path, const char* key,
                     std::vector<std::string>& out) {
    if (!node || !node.IsMap() || !node[key]) return;
    const YAML::Node list = node[key];
    const std::string field = Join(path, key);
    if (list.IsScalar()) {
      out = {list.as<std::string>()};
      return;
    }
    if (!list.IsSequence()) {
      Problem(field, "expected a list of strings");
      return;
    }
    out.clear();
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].IsScalar()) {
        Problem(fmt::format("{}[{}]", field, i), "expected a string");
        continue;
      }
      out.push_back(list[i].as<std::string>());
    }
  }

  // Adds to `out` the entries of node[key], a map of librdkafka properties; a problem when it
  // is not a map, and one for each value that is not a scalar (that entry is left out).
  void GetProperties(const YAML::Node& node, const std::string& path, const char* key,
                     std::map<std::string, std::string>& out) {
    if (!node || !node.IsMap() || !node[key]) return;
    const YAML::Node props = node[key];
    const std::string field = Join(path, key);
    if (!props.IsMap()) {
      Problem(field, "expected a map of librdkafka properties");
      return;
    }
    for (const auto& kv : props) {
      if (!IsScalarKey(kv.first, field)) continue;
      auto name = kv.first.as<std::string>();
      if (!kv.second.IsScalar()) {
        Problem(Join(field, name), "expected a scalar value");
        continue;
      }
      out[name] = kv.second.as<std::string>();
    }
  }

  // Sets `out` from node[key], one of the enum's `words`; any other value is a problem that lists
  // the words allowed there and names what was written: "<path>.<key>: must be one of a, b, c
  // (got "x")". `out` then keeps its value (its default), so validation adds no second report.
  // Called with the words in braces: r.GetEnum(node, path, "mode", {{"on", kOn}, {"off", kOff}},
  // mode).
  template <typename E>
  void GetEnum(const YAML::Node& node, const std::string& path, const char* key,
               const std::type_identity_t<std::vector<EnumWord<E>>>& words, E& out) {
    if (!node || !node.IsMap() || !node[key]) return;
    std::vector<std::string_view> listed;
    for (const auto& w : words) {
      if (!w.alias) listed.push_back(w.word);
    }
    const YAML::Node value = node[key];
    if (!value.IsScalar()) {
      const char* got = value.IsMap() ? "a map" : value.IsSequence() ? "a list" : "nothing";
      Problem(Join(path, key),
              fmt::format("must be one of {} (got {})", fmt::join(listed, ", "), got));
      return;
    }
    for (const auto& w : words) {
      if (w.word == value.Scalar()) {
        out = w.value;
        return;
      }
    }
    Problem(Join(path, key), MustBeOneOf(listed, value.Scalar()));
  }

  void GetMillis(const YAML::Node& node, const std::string& path, const char* key,
                 std::chrono::milliseconds& out) {
    int64_t v = out.count();
    Get(node, path, key, v);
    out = std::chrono::milliseconds(v);
  }

  // YAML allows a list or a map as a key ("? [a, b]: 1", "{a: 1}: 2"); none of our files has
  // such keys, and reading one as a string throws, so it is a problem like any other.
  // False, with a problem, for such a key; loaders that walk a map's keys call it first.
  bool IsScalarKey(const YAML::Node& key, const std::string& path) {
    if (key.IsScalar()) return true;
    const auto mark = key.Mark();
    Problem(path.empty() ? "(top level)" : path,
            fmt::format("a key at line {}, column {} is a {}, expected a field name", mark.line + 1,
                        mark.column + 1, key.IsMap() ? "map" : "list"));
    return false;
  }

  static std::string Join(const std::string& path, const std::string& key) {
    return path.empty() ? key : path + "." + key;
  }

 private:
  bool IsA(const YAML::Node& node, const std::string& path, YAML::NodeType::value type,
           const char* why) {
    if (!node) return false;
    if (node.Type() != type) {
      Problem(path, why);
      return false;
    }
    return true;
  }

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

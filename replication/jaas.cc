#include "replication/jaas.h"

#include <fmt/format.h>

#include <cctype>
#include <optional>

namespace rm::replication {
namespace {

struct JaasEntry {
  std::string module;
  std::map<std::string, std::string> options;
};

// Parses "<module> <flag> key=value key2="quoted \" value";" (one entry, as Kafka allows).
std::optional<JaasEntry> ParseJaas(const std::string& s) {
  size_t i = 0;
  auto skip_space = [&] {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  };
  auto word = [&] {
    skip_space();
    size_t b = i;
    while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i])) && s[i] != '=' &&
           s[i] != ';' && s[i] != '"') {
      ++i;
    }
    return s.substr(b, i - b);
  };
  JaasEntry e;
  e.module = word();
  const std::string flag = word();
  if (e.module.empty() || flag.empty()) return std::nullopt;
  for (;;) {
    skip_space();
    if (i >= s.size()) return std::nullopt;  // the entry must end with ';'
    if (s[i] == ';') break;
    std::string key = word();
    skip_space();
    if (key.empty() || i >= s.size() || s[i] != '=') return std::nullopt;
    ++i;
    skip_space();
    std::string value;
    if (i < s.size() && s[i] == '"') {
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '\\' && i + 1 < s.size()) ++i;
        value.push_back(s[i]);
      }
      if (i >= s.size()) return std::nullopt;
      ++i;
    } else {
      value = word();
    }
    e.options[key] = value;
  }
  return e;
}

std::string ModuleName(const std::string& cls) {
  size_t dot = cls.rfind('.');
  return dot == std::string::npos ? cls : cls.substr(dot + 1);
}

}  // namespace

void TranslateJaasConfig(std::map<std::string, std::string>* props,
                         const std::vector<std::string>& aliases,
                         std::vector<std::string>* problems) {
  std::optional<std::string> global;
  if (auto it = props->find("sasl.jaas.config"); it != props->end()) {
    global = it->second;
    props->erase(it);
  }
  std::optional<std::string> global_mechanism;
  if (auto it = props->find("sasl.mechanism"); it != props->end()) global_mechanism = it->second;
  for (const auto& alias : aliases) {
    const std::string p = alias + ".";
    std::string key = p + "sasl.jaas.config";
    std::optional<std::string> jaas;
    if (auto it = props->find(key); it != props->end()) {
      jaas = it->second;
      props->erase(it);
    } else if (global) {
      jaas = global;
      key = "sasl.jaas.config";
    }
    if (!jaas) continue;
    auto entry = ParseJaas(*jaas);
    if (!entry) {
      problems->push_back(
          fmt::format("{}: not a JAAS entry (expected: <LoginModule> required username=\"...\" "
                      "password=\"...\";)",
                      key));
      continue;
    }
    const std::string module = ModuleName(entry->module);
    std::string mechanism = props->count(p + "sasl.mechanism") ? props->at(p + "sasl.mechanism")
                                                               : global_mechanism.value_or("");
    if (module == "PlainLoginModule") {
      if (mechanism.empty()) mechanism = "PLAIN";
    } else if (module == "ScramLoginModule") {
      if (mechanism != "SCRAM-SHA-256" && mechanism != "SCRAM-SHA-512") {
        problems->push_back(fmt::format(
            "{}: ScramLoginModule needs {}sasl.mechanism = SCRAM-SHA-256 or SCRAM-SHA-512", key,
            p));
        continue;
      }
    } else {
      problems->push_back(
          fmt::format("{}: login module {} is not supported (PlainLoginModule, ScramLoginModule)",
                      key, entry->module));
      continue;
    }
    if (!entry->options.count("username") || !entry->options.count("password")) {
      problems->push_back(fmt::format("{}: {} needs username and password options", key, module));
      continue;
    }
    (*props)[p + "sasl.username"] = entry->options["username"];
    (*props)[p + "sasl.password"] = entry->options["password"];
    (*props)[p + "sasl.mechanism"] = mechanism;
  }
}

}  // namespace rm::replication

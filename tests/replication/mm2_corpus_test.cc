// Real-world mm2.properties files (tests/mirror/mm2/, each with its source in its header): each
// loads (or fails with the error its header expects), and every key it sets is either applied or
// named with a reason in the start-up block; the generic "not a MirrorMaker 2 setting" is only
// allowed for the keys the header lists as unknown.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "common/result.h"
#include "replication/config.h"
#include "replication/java_properties.h"
#include "tests/util/test_util.h"

namespace rm::replication {
namespace {

struct Expectation {
  std::string error;  // empty: the file loads
  std::set<std::string> unknown;
};

Expectation ExpectationOf(const std::string& text) {
  Expectation e;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const std::string error_tag = "# regionmirror-expect: error ";
    const std::string unknown_tag = "# regionmirror-expect-unknown: ";
    if (line.rfind(error_tag, 0) == 0) e.error = line.substr(error_tag.size());
    if (line.rfind(unknown_tag, 0) == 0) e.unknown.insert(line.substr(unknown_tag.size()));
  }
  return e;
}

// The keys of the not-applied block with their reasons ("  - k1, k2: reason").
std::map<std::string, std::string> NotApplied(const MirrorConfig& c) {
  std::map<std::string, std::string> out;
  for (const auto& w : c.warnings) {
    std::istringstream in(w);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("  - ", 0) != 0) continue;
      const size_t colon = line.find(": ");
      const std::string reason = line.substr(colon + 2);
      std::istringstream keys(line.substr(4, colon - 4));
      std::string key;
      while (std::getline(keys, key, ',')) {
        key.erase(0, key.find_first_not_of(' '));
        out[key] = reason;
      }
    }
  }
  return out;
}

// Keys regionmirror applies (README, "Migrating from MirrorMaker 2"): anything else in a file
// must appear in the not-applied block.
bool Applied(const std::string& key, const MirrorConfig& c) {
  static const std::regex flow_setting(
      "([^.]+->[^.]+\\.)?(enabled|topics|topics\\.exclude|topics\\.blacklist|groups|groups\\."
      "exclude|groups\\.blacklist|replication\\.policy\\.separator|replication\\.policy\\.class|"
      "emit\\.checkpoints\\.(enabled|interval\\.seconds)|sync\\.group\\.offsets\\.(enabled|"
      "interval\\.seconds)|refresh\\.groups\\.(enabled|interval\\.seconds)|emit\\.heartbeats\\.("
      "enabled|interval\\.seconds)|replication\\.factor|sync\\.topic\\.configs\\.(enabled|"
      "interval\\.seconds)|config\\.properties\\.(exclude|blacklist)|(offset-syncs|checkpoints|"
      "heartbeats)\\.topic\\.replication\\.factor|offset-syncs\\.topic\\.location|source\\."
      "cluster\\.alias|target\\.cluster\\.alias|emit\\.offset-"
      "syncs\\.enabled)");
  static const std::regex global(
      "clusters|refresh\\.topics\\.interval\\.seconds|regionmirror\\.offsets\\.dir|config\\."
      "providers(\\..*)?|sync\\.topic\\.acls\\.enabled|refresh\\.topics\\.enabled|security\\."
      "protocol|ssl\\..*|sasl\\..*");
  if (std::regex_match(key, flow_setting) || std::regex_match(key, global)) return true;
  for (const auto& cluster : c.clusters) {
    const std::string prefix = cluster.alias + ".";
    if (key.rfind(prefix, 0) != 0) continue;
    const std::string prop = key.substr(prefix.size());
    if (prop == "bootstrap.servers" || prop == "sasl.jaas.config") return true;
    if (cluster.properties.count(prop)) return true;
    // Client overrides placed on flows (A.consumer.<p>, ...).
    for (const auto& f : c.flows) {
      for (const auto* role : {&f.consumer, &f.producer, &f.source_admin, &f.target_admin}) {
        for (const char* form : {"consumer.", "producer.", "admin."}) {
          if (prop.rfind(form, 0) == 0 && role->count(prop.substr(std::string(form).size()))) {
            return true;
          }
        }
      }
    }
  }
  return false;
}

class Mm2Corpus : public ::testing::TestWithParam<std::string> {};

TEST_P(Mm2Corpus, LoadsAndEveryKeyIsAppliedOrExplained) {
  // The secrets the sagecontinuum file reads through ${env:...}.
  setenv("NEON_BOOTSTRAP_SERVER", "neon1:9092", 1);
  setenv("NEON_USERNAME", "neon", 1);
  setenv("NEON_PASSWORD", "neon-secret", 1);
  setenv("MIRROR_MM2_PASSWORD", "mm2-secret", 1);
  const auto path = rm::testing::SourceDir() / "tests" / "mirror" / "mm2" / GetParam();
  const std::string text = rm::testing::ReadFile(path);
  ASSERT_NE(text.find("# Source: https://"), std::string::npos) << "every file names its source";
  const Expectation expect = ExpectationOf(text);
  MirrorConfig c;
  try {
    c = LoadMm2Properties(path.string());
  } catch (const common::ConfigError& e) {
    ASSERT_FALSE(expect.error.empty()) << e.what();
    EXPECT_NE(std::string(e.what()).find(expect.error), std::string::npos) << e.what();
    return;
  }
  ASSERT_TRUE(expect.error.empty()) << "expected the error: " << expect.error;
  EXPECT_FALSE(c.flows.empty());
  const auto not_applied = NotApplied(c);
  for (const auto& [key, value] : ParseJavaProperties(text, path.string())) {
    auto it = not_applied.find(key);
    if (it == not_applied.end()) {
      EXPECT_TRUE(Applied(key, c)) << GetParam() << ": " << key << " is neither applied nor "
                                   << "explained";
      continue;
    }
    if (it->second.rfind("not a MirrorMaker 2 setting", 0) == 0) {
      EXPECT_TRUE(expect.unknown.count(key)) << GetParam() << ": " << key << ": " << it->second;
    }
  }
  for (const auto& [key, reason] : not_applied) {
    EXPECT_TRUE(text.find(key) != std::string::npos) << key << " is not in the file";
  }
}

std::vector<std::string> CorpusFiles() {
  std::vector<std::string> files;
  for (const auto& entry :
       std::filesystem::directory_iterator(rm::testing::SourceDir() / "tests" / "mirror" / "mm2")) {
    if (entry.path().extension() == ".properties") files.push_back(entry.path().filename());
  }
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(Files, Mm2Corpus, ::testing::ValuesIn(CorpusFiles()),
                         [](const auto& info) {
                           std::string name = info.param.substr(0, info.param.find('.'));
                           for (auto& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

TEST(Mm2Corpus, HoldsAtLeastSixFiles) { EXPECT_GE(CorpusFiles().size(), 6u); }

}  // namespace
}  // namespace rm::replication

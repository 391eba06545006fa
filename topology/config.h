// The topology file as written: regions and their clusters, links with RTT, topic rules, the
// groups that follow their topics, and the mirror's own sections. See README.md for the format.
//
// Loading never stops at the first problem: LoadTopologyFile returns the model with every
// problem it found (each with file, line and field), so `topology validate` can list them all;
// LoadTopologyOrThrow turns them into one ConfigError for the commands that need a valid file.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/config_reader.h"
#include "common/kafka_config.h"
#include "replication/config.h"

namespace rm::topology {

// One problem in a topology file. `line` is 1-based (0 when unknown).
struct Problem {
  std::string file;
  int line = 0;
  // Path of the field, e.g. "topics[2].replicate_to[0]".
  std::string field;
  std::string message;

  // "topology.yaml:12: topics[2].replicate_to[0]: 'ap-*' matches no region"
  std::string ToString() const;
};

// A Kafka cluster of a region: the mirror's cluster (alias, unique in the file; bootstrap
// servers; librdkafka properties) and what the topology adds.
struct ClusterSpec : replication::ClusterConfig {
  // Secrets, never written in the file: librdkafka property -> environment variable holding its
  // value (`properties_env: {sasl.password: RM_US_EAST_PASSWORD}`), or -> file holding it
  // (`properties_file`; one trailing newline is dropped). Default: none
  std::map<std::string, std::string> properties_env;
  std::map<std::string, std::string> properties_file;
  // The brokers' broker.rack values, for the client.rack hint. Default: the region's zones
  std::vector<std::string> racks;
  int line = 0;

  // The mirror's cluster with the secrets read into its properties. Throws ConfigError naming
  // `file` and the field when a variable is unset or a file unreadable.
  replication::ClusterConfig WithSecrets(const std::string& file) const;
};

struct RegionSpec {
  // e.g. "us-east"; letters, digits, '-', '_'. Unique. Required.
  std::string name;
  // Availability zones of the region (client.rack values). Default: none
  std::vector<std::string> zones;
  // At least one. Required.
  std::vector<ClusterSpec> clusters;
  // Alias of the cluster that holds the region's copies and that flows read from and write to.
  // Default: the first cluster
  std::string primary;
  int line = 0;
};

// Round trip time between two regions, for "nearest". Symmetric.
struct LinkSpec {
  std::string a;
  std::string b;
  int64_t rtt_ms = 0;
  int line = 0;
};

enum class ReadPolicy {
  // Read the local copy, else the nearest healthy copy, else the home region.
  kLocalFirst,
  // Always read in the home region (e.g. data that must be read fresh).
  kHomeOnly,
};

// Which topics a rule governs and where their copies live.
//
// Precedence when several rules match a topic name (TopicRuleSet applies it):
//   1. a literal `topic:` rule beats every `pattern:` rule;
//   2. among patterns, the higher `priority` wins;
//   3. then the longer literal prefix (the characters every match of the regex starts with:
//      "pii\.users\..*" has "pii.users.", ".*" has "");
//   4. two rules equal on 1-3 that can both match one name are an ambiguity: a validation error
//      (two literal rules for one name; two patterns with the same prefix that a name matches
//      both of, or that cannot be told apart). File order never decides.
// Rules name topics as written in their home region: a remote copy ("us-east.orders" under the
// default policy) is governed by the rule of its upstream name ("orders").
struct TopicRule {
  // Exactly one of `topic` (a literal topic name) and `pattern` (a regex, full match,
  // ECMAScript as the mirror's flow regexes).
  std::string topic;
  std::string pattern;
  // Orders patterns that overlap (step 2 above). Default: 0
  int priority = 0;
  // The region where the topic is written. Several regions mean active-active (written in each
  // of them). Required.
  std::vector<std::string> home;
  // Regions (names or globs such as "eu-*") that get a copy; the home is never its own copy.
  // Default: none
  std::vector<std::string> replicate_to;
  // Residency: the regions (names or globs) where a copy may ever exist. Default: ["*"]
  std::vector<std::string> allowed_regions = {"*"};
  // Default: kLocalFirst
  ReadPolicy read = ReadPolicy::kLocalFirst;
  // Index in the file's `topics` list, and its line.
  size_t index = 0;
  int line = 0;

  bool is_literal() const { return !topic.empty(); }
  // "topics[2] (pattern 'pii\..*', line 30)"
  std::string Describe() const;
};

// A consumer group (or groups by regex) that follows its topics on failover.
struct GroupRule {
  // Exactly one of `name` (literal) and `pattern` (regex, full match).
  std::string name;
  std::string pattern;
  // Regions (names or globs) where the group may run. Required.
  std::vector<std::string> regions;
  // The topics it reads (literal names, as written in their home region). Default: none
  std::vector<std::string> topics;
  size_t index = 0;
  int line = 0;
};

struct HealthSettings {
  // How often each cluster is probed (metadata round trip). Default: 1000
  int64_t probe_interval_ms = 1000;
  // A copy lagging more than this is demoted in read routing. Default: 30000
  int64_t max_lag_ms = 30000;
};

struct TopologyConfig {
  // The file it was read from (for messages).
  std::string file;
  std::vector<RegionSpec> regions;
  std::vector<LinkSpec> links;
  std::vector<TopicRule> topics;
  std::vector<GroupRule> groups;
  // Remote topic names of every flow (replication_policy: default | identity). Default: kDefault
  // with "."
  replication::PolicyKind policy = replication::PolicyKind::kDefault;
  std::string separator = ".";
  HealthSettings health;
  // The mirror's `mirror:` and `offsets:` sections, as written (read by the mirror's loader).
  YAML::Node mirror_section;
  YAML::Node offsets_section;
  // Field path -> line, for every node of the file ("topics[1].home" -> 14).
  common::YamlLines lines;

  // The line of `field`, or of its nearest enclosing field that has one; 0 when none.
  int LineOf(const std::string& field) const;
  const RegionSpec* FindRegion(const std::string& name) const;
};

struct LoadedTopology {
  TopologyConfig config;
  // What reading the fields found (wrong types, unknown keys, missing fields); validation
  // (Validate in topology.h) finds the rest.
  std::vector<Problem> problems;
};

// Reads `text` (YAML) as the topology file `file`. Throws ConfigError only when the text is not
// YAML or not a mapping at the top; every other problem is returned.
LoadedTopology ParseTopologyYaml(const std::string& text, const std::string& file);
// The same from a file. Throws ConfigError when the file cannot be read.
LoadedTopology LoadTopologyFile(const std::string& path);

}  // namespace rm::topology

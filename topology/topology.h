// The topology compiled for questions: which regions hold a topic, how far regions are from
// each other, which rule governs a name. Built once from a valid TopologyConfig.
//
// Immutable after Build; every method may be called from any number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "replication/replication_policy.h"
#include "topology/config.h"
#include "topology/rules.h"

namespace rm::topology {

// Every problem of `config` that reading the fields could not see: unknown regions and
// clusters, globs that match no region, replicate_to outside allowed_regions, ambiguous rule
// precedence, replication loops, groups allowed where their topics never arrive, and what the
// mirror's loader finds in the mirror:/offsets: sections. Sorted by line.
std::vector<Problem> Validate(const TopologyConfig& config);

// True if region `name` matches `glob` (fnmatch: '*', '?', '[...]').
bool RegionMatches(const std::string& glob, const std::string& name);

class Topology {
 public:
  // Where a rule's topics live, per region index.
  struct Placement {
    // Written there.
    std::vector<bool> home;
    // Holds a copy (by replicate_to, within allowed_regions); a home is never its own copy,
    // but an active-active home may hold copies of the other homes.
    std::vector<bool> copy;
    // May hold a copy (allowed_regions).
    std::vector<bool> allowed;
    bool Holds(size_t region) const { return home[region] || copy[region]; }
  };

  // Compiles a config that Validate accepted. Throws ConfigError listing every problem of
  // LoadTopologyFile and Validate when there is one.
  static std::shared_ptr<const Topology> Build(LoadedTopology loaded);
  // LoadTopologyFile + Build.
  static std::shared_ptr<const Topology> Load(const std::string& path);

  const TopologyConfig& config() const { return config_; }
  const TopicRuleSet& rules() const { return rules_; }
  size_t region_count() const { return config_.regions.size(); }
  const RegionSpec& region(size_t i) const { return config_.regions[i]; }
  std::optional<size_t> RegionIndex(const std::string& name) const;
  // The region's cluster that holds its copies (RegionSpec::primary).
  const ClusterSpec& PrimaryCluster(size_t region) const;
  // Round trip in ms between two regions: 0 for the same region, nullopt when no link says.
  std::optional<int64_t> Rtt(size_t a, size_t b) const;
  const Placement& placement(size_t rule) const { return placements_[rule]; }

  // The rule governing `name` as it appears in a cluster: a remote copy's name is first turned
  // back into its upstream name (default policy: "us-east.orders" -> "orders", only when the
  // prefix is a cluster of this topology). `upstream` receives that name when not null.
  std::optional<size_t> RuleForTopic(const std::string& name, std::string* upstream) const;
  // The name in the cluster `target_alias` of `topic` copied from the cluster `source_alias`.
  std::string RemoteName(const std::string& source_alias, const std::string& topic) const;
  // The names under which region `region` holds the data of `topic` (upstream name, governed
  // by `rule`): the topic itself in a home, plus one remote name per home copied in.
  std::vector<std::string> NamesIn(size_t rule, const std::string& topic, size_t region) const;
  // True if some region has a cluster called `alias`.
  bool IsClusterAlias(const std::string& alias) const;
  // The regions (indexes) matching a list of names or globs.
  std::vector<bool> MatchRegions(const std::vector<std::string>& globs) const;

 private:
  explicit Topology(TopologyConfig config);

  TopologyConfig config_;
  TopicRuleSet rules_;
  std::unique_ptr<replication::ReplicationPolicy> policy_;
  std::vector<Placement> placements_;
  // rtt_[a * n + b]; -1 when unknown.
  std::vector<int64_t> rtt_;
};

}  // namespace rm::topology

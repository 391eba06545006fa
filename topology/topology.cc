#include "topology/topology.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fnmatch.h>

#include <algorithm>
#include <functional>
#include <map>
#include <set>

#include "common/config_reader.h"
#include "common/result.h"
#include "replication/replication_policy.h"
#include "topology/mirror_config.h"

namespace rm::topology {

using common::ConfigError;

namespace {

bool ValidName(const std::string& a) {
  if (a.empty() || a.size() > 100) return false;
  return std::all_of(a.begin(), a.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

bool IsGlob(const std::string& s) { return s.find_first_of("*?[") != std::string::npos; }

class Validator {
 public:
  explicit Validator(const TopologyConfig& c) : c_(c) {
    for (const auto& r : c_.regions) region_names_.push_back(r.name);
  }

  std::vector<Problem> Run() {
    CheckRegions();
    CheckLinks();
    CheckTopics();
    CheckGroups();
    for (auto& p : ValidateMirrorSections(c_)) problems_.push_back(std::move(p));
    std::stable_sort(problems_.begin(), problems_.end(),
                     [](const Problem& a, const Problem& b) { return a.line < b.line; });
    return std::move(problems_);
  }

 private:
  void Add(const std::string& field, const std::string& message) {
    problems_.push_back({c_.file, c_.LineOf(field), field, message});
  }

  // The regions `glob` matches; a problem at `field` when none.
  std::vector<std::string> Expand(const std::string& glob, const std::string& field) {
    std::vector<std::string> out;
    for (const auto& n : region_names_) {
      if (RegionMatches(glob, n)) out.push_back(n);
    }
    if (out.empty()) {
      Add(field, IsGlob(glob) ? fmt::format("'{}' matches no region", glob)
                              : fmt::format("unknown region '{}'", glob));
    }
    return out;
  }

  std::set<std::string> ExpandAll(const std::vector<std::string>& globs, const std::string& field) {
    std::set<std::string> out;
    for (size_t i = 0; i < globs.size(); ++i) {
      for (auto& n : Expand(globs[i], fmt::format("{}[{}]", field, i))) out.insert(n);
    }
    return out;
  }

  void CheckRegions() {
    if (c_.regions.empty()) return;  // the loader reported it
    std::set<std::string> names;
    std::set<std::string> aliases;
    for (size_t i = 0; i < c_.regions.size(); ++i) {
      const RegionSpec& r = c_.regions[i];
      std::string f = fmt::format("regions[{}]", i);
      if (!r.name.empty() && !ValidName(r.name)) {
        Add(f + ".name",
            fmt::format("'{}' is not a valid name (letters, digits, '-', '_')", r.name));
      } else if (!r.name.empty() && !names.insert(r.name).second) {
        Add(f + ".name", fmt::format("region '{}' is defined twice", r.name));
      }
      bool primary_found = false;
      for (size_t j = 0; j < r.clusters.size(); ++j) {
        const ClusterSpec& cl = r.clusters[j];
        std::string cf = fmt::format("{}.clusters[{}]", f, j);
        if (cl.alias == r.primary) primary_found = true;
        if (!cl.alias.empty() && !ValidName(cl.alias)) {
          Add(cf + ".alias",
              fmt::format("'{}' is not a valid alias (letters, digits, '-', '_')", cl.alias));
        } else if (!cl.alias.empty() && !aliases.insert(cl.alias).second) {
          Add(cf + ".alias", fmt::format("cluster alias '{}' is used twice", cl.alias));
        }
        try {
          common::BuildKafkaConf(cl.properties, "properties");
        } catch (const ConfigError& e) {
          Add(cf + ".properties", e.what());
        }
        for (const auto& rack : cl.racks) {
          if (!r.zones.empty() &&
              std::find(r.zones.begin(), r.zones.end(), rack) == r.zones.end()) {
            Add(cf + ".racks", fmt::format("rack '{}' is not one of the region's zones", rack));
          }
        }
      }
      if (!r.primary.empty() && !primary_found) {
        Add(f + ".primary",
            fmt::format("unknown cluster '{}' (not a cluster of region {})", r.primary, r.name));
      }
    }
  }

  void CheckLinks() {
    std::set<std::pair<std::string, std::string>> seen;
    for (size_t i = 0; i < c_.links.size(); ++i) {
      const LinkSpec& l = c_.links[i];
      std::string f = fmt::format("links[{}]", i);
      if (l.a.empty()) continue;  // the loader reported the pair
      for (const auto& [n, k] : {std::pair{&l.a, 0}, std::pair{&l.b, 1}}) {
        if (!c_.FindRegion(*n))
          Add(fmt::format("{}.regions[{}]", f, k), "unknown region '" + *n + "'");
      }
      if (l.a == l.b) Add(f + ".regions", "a link joins two different regions");
      if (l.rtt_ms < 0) Add(f + ".rtt_ms", "must be >= 0");
      auto key = std::minmax(l.a, l.b);
      if (!seen.insert({key.first, key.second}).second) {
        Add(f, fmt::format("the link {} - {} is given twice", l.a, l.b));
      }
    }
  }

  void CheckTopics() {
    TopicRuleSet rules(c_.topics);
    std::vector<std::string> literal_names;
    for (const auto& t : c_.topics) {
      if (t.is_literal()) literal_names.push_back(t.topic);
    }
    for (const auto& g : c_.groups) {
      for (const auto& t : g.topics) literal_names.push_back(t);
    }
    for (size_t i = 0; i < c_.topics.size(); ++i) {
      const TopicRule& t = c_.topics[i];
      std::string f = fmt::format("topics[{}]", i);
      if (!rules.RegexError(i).empty()) {
        Add(f + ".pattern", fmt::format("bad regex '{}': {}", t.pattern, rules.RegexError(i)));
      }
      std::set<std::string> homes;
      for (size_t j = 0; j < t.home.size(); ++j) {
        std::string hf = t.home.size() == 1 && !c_.lines.Has(f + ".home[0]")
                             ? f + ".home"
                             : fmt::format("{}.home[{}]", f, j);
        if (IsGlob(t.home[j])) {
          Add(hf, fmt::format("'{}': a home is a region name, not a glob", t.home[j]));
        } else if (!c_.FindRegion(t.home[j])) {
          Add(hf, fmt::format("unknown region '{}'", t.home[j]));
        } else {
          homes.insert(t.home[j]);
        }
      }
      std::set<std::string> allowed = ExpandAll(t.allowed_regions, f + ".allowed_regions");
      std::set<std::string> targets = ExpandAll(t.replicate_to, f + ".replicate_to");
      for (const auto& h : homes) {
        if (!allowed.count(h)) {
          Add(f + ".home", fmt::format("home region '{}' is outside allowed_regions [{}]", h,
                                       fmt::join(t.allowed_regions, ", ")));
        }
      }
      // Residency: every region a replicate_to entry reaches must be allowed.
      for (size_t j = 0; j < t.replicate_to.size(); ++j) {
        std::vector<std::string> outside;
        for (const auto& n : region_names_) {
          if (RegionMatches(t.replicate_to[j], n) && !allowed.count(n) && !homes.count(n)) {
            outside.push_back(n);
          }
        }
        if (!outside.empty()) {
          Add(fmt::format("{}.replicate_to[{}]", f, j),
              fmt::format("'{}' reaches {}, outside allowed_regions [{}] (residency)",
                          t.replicate_to[j], fmt::join(outside, ", "),
                          fmt::join(t.allowed_regions, ", ")));
        }
      }
      CheckLoop(f, homes, targets, allowed);
    }
    for (const auto& amb : rules.FindAmbiguities(literal_names)) {
      const TopicRule& a = c_.topics[amb.first];
      const TopicRule& b = c_.topics[amb.second];
      std::string why =
          a.is_literal()
              ? fmt::format("topic '{}' has two rules: {} and {}", a.topic, a.Describe(),
                            b.Describe())
              : fmt::format(
                    "{} and {} rank equally (priority {}, literal prefix '{}'){}; give one "
                    "a higher priority",
                    a.Describe(), b.Describe(), a.priority, rules.Prefix(amb.first),
                    amb.example.empty() ? " and a topic name could match both"
                                        : fmt::format(" and both match '{}'", amb.example));
      Add(fmt::format("topics[{}]", amb.second), "ambiguous precedence: " + why);
    }
  }

  // Under the identity policy a copy keeps its name, so when one home of an active-active rule
  // copies into another that copies back, records circle for ever (MirrorMaker 2 cannot tell
  // them apart by name). Under the default policy the names differ and the mirror's cycle rule
  // stops them.
  void CheckLoop(const std::string& f, const std::set<std::string>& homes,
                 const std::set<std::string>& targets, const std::set<std::string>& allowed) {
    if (c_.policy != replication::PolicyKind::kIdentity || homes.size() < 2) return;
    // Edges between homes: h1 -> h2 when h2 gets h1's copies. Find a cycle by DFS.
    std::map<std::string, std::vector<std::string>> edges;
    for (const auto& h : homes) {
      for (const auto& h2 : homes) {
        if (h != h2 && targets.count(h2) && allowed.count(h2)) edges[h].push_back(h2);
      }
    }
    std::vector<std::string> path;
    std::set<std::string> on_path, done;
    std::function<bool(const std::string&)> dfs = [&](const std::string& n) {
      path.push_back(n);
      on_path.insert(n);
      for (const auto& m : edges[n]) {
        if (on_path.count(m)) {
          path.push_back(m);
          return true;
        }
        if (!done.count(m) && dfs(m)) return true;
      }
      on_path.erase(n);
      done.insert(n);
      path.pop_back();
      return false;
    };
    for (const auto& h : homes) {
      if (done.count(h)) continue;
      path.clear();
      on_path.clear();
      if (dfs(h)) {
        // Print the cycle only, from where it closes.
        auto start = std::find(path.begin(), path.end(), path.back());
        std::vector<std::string> cycle(start, path.end());
        Add(f + ".replicate_to",
            fmt::format("replication loop {} under the identity policy: copies keep their name, "
                        "so records written in one home come back to it; use "
                        "replication_policy: default or one home",
                        fmt::join(cycle, " -> ")));
        return;
      }
    }
  }

  void CheckGroups() {
    TopicRuleSet rules(c_.topics);
    for (size_t i = 0; i < c_.groups.size(); ++i) {
      const GroupRule& g = c_.groups[i];
      std::string f = fmt::format("groups[{}]", i);
      if (!g.pattern.empty()) {
        try {
          std::regex re(g.pattern);
        } catch (const std::regex_error& e) {
          Add(f + ".pattern", fmt::format("bad regex '{}': {}", g.pattern, e.what()));
        }
      }
      std::set<std::string> regions = ExpandAll(g.regions, f + ".regions");
      const std::string gname = g.name.empty() ? "/" + g.pattern + "/" : g.name;
      for (size_t j = 0; j < g.topics.size(); ++j) {
        std::string tf = fmt::format("{}.topics[{}]", f, j);
        auto rule = rules.Match(g.topics[j]);
        if (!rule) {
          Add(tf, fmt::format("no topic rule matches '{}'", g.topics[j]));
          continue;
        }
        const TopicRule& t = c_.topics[*rule];
        std::set<std::string> holds;
        for (const auto& n : region_names_) {
          bool home = std::find(t.home.begin(), t.home.end(), n) != t.home.end();
          bool copy = false, allowed = false;
          for (const auto& gl : t.replicate_to) copy = copy || RegionMatches(gl, n);
          for (const auto& gl : t.allowed_regions) allowed = allowed || RegionMatches(gl, n);
          if (home || (copy && allowed)) holds.insert(n);
        }
        for (const auto& r : regions) {
          if (holds.count(r)) continue;
          Add(f + ".regions",
              fmt::format("group {} may run in {}, but topic '{}' never reaches it ({} places "
                          "it in {})",
                          gname, r, g.topics[j], t.Describe(), fmt::join(holds, ", ")));
        }
      }
    }
  }

  const TopologyConfig& c_;
  std::vector<std::string> region_names_;
  std::vector<Problem> problems_;
};

}  // namespace

bool RegionMatches(const std::string& glob, const std::string& name) {
  return fnmatch(glob.c_str(), name.c_str(), 0) == 0;
}

std::vector<Problem> Validate(const TopologyConfig& config) { return Validator(config).Run(); }

Topology::Topology(TopologyConfig config)
    : config_(std::move(config)),
      rules_(config_.topics),
      policy_(replication::MakeReplicationPolicy(config_.policy, config_.separator)) {
  const size_t n = config_.regions.size();
  rtt_.assign(n * n, -1);
  for (size_t i = 0; i < n; ++i) rtt_[i * n + i] = 0;
  for (const auto& l : config_.links) {
    auto a = RegionIndex(l.a);
    auto b = RegionIndex(l.b);
    if (!a || !b) continue;
    rtt_[*a * n + *b] = l.rtt_ms;
    rtt_[*b * n + *a] = l.rtt_ms;
  }
  for (const auto& t : config_.topics) {
    Placement p;
    p.home.assign(n, false);
    p.allowed = MatchRegions(t.allowed_regions);
    std::vector<bool> targets = MatchRegions(t.replicate_to);
    size_t homes = 0;
    for (const auto& h : t.home) {
      if (auto i = RegionIndex(h)) {
        p.home[*i] = true;
        ++homes;
      }
    }
    p.copy.assign(n, false);
    for (size_t i = 0; i < n; ++i) {
      // A home gets copies only from other homes (active-active).
      p.copy[i] = targets[i] && p.allowed[i] && (!p.home[i] || homes > 1);
    }
    placements_.push_back(std::move(p));
  }
}

std::shared_ptr<const Topology> Topology::Build(LoadedTopology loaded) {
  std::vector<Problem> problems = std::move(loaded.problems);
  for (auto& p : Validate(loaded.config)) problems.push_back(std::move(p));
  if (!problems.empty()) {
    std::vector<std::string> lines;
    for (const auto& p : problems) lines.push_back(p.ToString());
    common::ThrowIfProblems(lines);
  }
  return std::shared_ptr<const Topology>(new Topology(std::move(loaded.config)));
}

std::shared_ptr<const Topology> Topology::Load(const std::string& path) {
  return Build(LoadTopologyFile(path));
}

std::optional<size_t> Topology::RegionIndex(const std::string& name) const {
  for (size_t i = 0; i < config_.regions.size(); ++i) {
    if (config_.regions[i].name == name) return i;
  }
  return std::nullopt;
}

const ClusterSpec& Topology::PrimaryCluster(size_t region) const {
  const RegionSpec& r = config_.regions[region];
  for (const auto& c : r.clusters) {
    if (c.alias == r.primary) return c;
  }
  return r.clusters.front();
}

std::optional<int64_t> Topology::Rtt(size_t a, size_t b) const {
  int64_t v = rtt_[a * config_.regions.size() + b];
  if (v < 0) return std::nullopt;
  return v;
}

std::string Topology::RemoteName(const std::string& source_alias, const std::string& topic) const {
  return policy_->FormatRemoteTopic(source_alias, topic);
}

std::optional<size_t> Topology::RuleForTopic(const std::string& name, std::string* upstream) const {
  std::string n = name;
  // One known alias at a time ("eu-west.us-east.orders" -> "orders"). Only a cluster of this
  // topology counts: "orders.v1" is a local topic, whatever the default policy's split says.
  // Each step makes the name shorter, so this ends.
  for (;;) {
    std::string source = policy_->TopicSource(n);
    if (source.empty() || !IsClusterAlias(source)) break;
    std::string up = policy_->UpstreamTopic(n);
    if (up.size() >= n.size()) break;
    n = std::move(up);
  }
  if (upstream != nullptr) *upstream = n;
  return rules_.Match(n);
}

bool Topology::IsClusterAlias(const std::string& alias) const {
  for (const auto& r : config_.regions) {
    for (const auto& c : r.clusters) {
      if (c.alias == alias) return true;
    }
  }
  return false;
}

std::vector<std::string> Topology::NamesIn(size_t rule, const std::string& topic,
                                           size_t region) const {
  const Placement& p = placements_[rule];
  std::vector<std::string> names;
  if (p.home[region]) names.push_back(topic);
  if (p.copy[region]) {
    for (size_t h = 0; h < region_count(); ++h) {
      if (!p.home[h] || h == region) continue;
      std::string n = RemoteName(PrimaryCluster(h).alias, topic);
      if (std::find(names.begin(), names.end(), n) == names.end()) names.push_back(n);
    }
  }
  return names;
}

std::vector<bool> Topology::MatchRegions(const std::vector<std::string>& globs) const {
  std::vector<bool> out(config_.regions.size(), false);
  for (size_t i = 0; i < config_.regions.size(); ++i) {
    for (const auto& g : globs) {
      if (RegionMatches(g, config_.regions[i].name)) out[i] = true;
    }
  }
  return out;
}

}  // namespace rm::topology

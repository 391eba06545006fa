#include "topology/planner.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace rm::topology {

namespace {

// True when the flow from region `x` to region `y` carries rule `r`'s topics.
bool Carries(const Topology& t, size_t r, size_t x, size_t y) {
  const Topology::Placement& p = t.placement(r);
  return x != y && p.home[x] && p.copy[y];
}

// Rule indexes, highest ranked first (ties in file order).
std::vector<size_t> ByRank(const Topology& t) {
  std::vector<size_t> order(t.rules().size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&t](size_t a, size_t b) { return t.rules().Outranks(a, b); });
  return order;
}

std::string GroupRegex(const GroupRule& g) {
  return g.name.empty() ? g.pattern : EscapeRegex(g.name);
}

PlannedFlow MakeFlow(const Topology& t, size_t x, size_t y, const std::vector<size_t>& ranked) {
  const TopologyConfig& cfg = t.config();
  PlannedFlow f;
  f.source_region = t.region(x).name;
  f.target_region = t.region(y).name;
  f.source = t.PrimaryCluster(x).alias;
  f.target = t.PrimaryCluster(y).alias;
  f.policy = cfg.policy;
  f.separator = cfg.separator;
  const std::string remote = t.RemoteName(f.source, "{topic}");
  for (size_t r : ranked) {
    if (!Carries(t, r, x, y)) continue;
    // Higher-ranked rules that could claim some of r's names and send them elsewhere.
    std::vector<std::string> shadows;
    for (size_t h : ranked) {
      if (h == r) break;
      if (t.rules().Outranks(h, r) && t.rules().CouldOverlap(h, r) && !Carries(t, h, x, y)) {
        shadows.push_back(t.rules().AsRegex(h));
      }
    }
    std::string re = t.rules().AsRegex(r);
    if (!shadows.empty()) re = fmt::format("(?!(?:{})$)(?:{})", fmt::join(shadows, "|"), re);
    f.topics.push_back(re);
    f.carried.push_back({r, t.rules().rule(r).Describe(), re, remote});
  }
  if (cfg.policy == replication::PolicyKind::kDefault) {
    std::vector<std::string> aliases;
    for (const auto& region : cfg.regions) {
      for (const auto& c : region.clusters) aliases.push_back(c.alias);
    }
    std::sort(aliases.begin(), aliases.end());
    for (const auto& a : aliases) f.topics_exclude.push_back(EscapeRegex(a + cfg.separator) + ".*");
  }
  if (!cfg.groups.empty()) f.groups.emplace();
  for (const auto& g : cfg.groups) {
    if (!t.MatchRegions(g.regions)[y]) continue;
    bool reads = g.topics.empty();
    for (const auto& topic : g.topics) {
      auto rule = t.rules().Match(topic);
      reads = reads || (rule && Carries(t, *rule, x, y));
    }
    if (reads) f.groups->push_back(GroupRegex(g));
  }
  return f;
}

std::string Globs(const std::vector<std::string>& globs) {
  return fmt::format("[{}]", fmt::join(globs, ", "));
}

ResidencyRow MakeRow(const Topology& t, size_t r) {
  const TopicRule& rule = t.rules().rule(r);
  const Topology::Placement& p = t.placement(r);
  ResidencyRow row;
  row.rule = r;
  row.description = rule.Describe();
  for (size_t i = 0; i < t.region_count(); ++i) {
    ResidencyRow::Cell c;
    c.region = t.region(i).name;
    if (p.home[i]) {
      c.state = "home";
      c.because = "home";
    } else if (p.copy[i]) {
      c.state = "copy";
      c.because = "replicate_to " + Globs(rule.replicate_to);
    } else if (p.allowed[i]) {
      c.state = "allowed";
      c.because = "allowed_regions " + Globs(rule.allowed_regions);
    } else {
      c.state = "forbidden";
      c.because = "allowed_regions " + Globs(rule.allowed_regions);
    }
    row.cells.push_back(std::move(c));
  }
  return row;
}

}  // namespace

replication::FlowConfig PlannedFlow::ToFlowConfig() const {
  replication::FlowConfig flow;
  flow.source = source;
  flow.target = target;
  flow.topics = topics;
  flow.topics_exclude.insert(flow.topics_exclude.end(), topics_exclude.begin(),
                             topics_exclude.end());
  flow.policy = policy;
  flow.separator = separator;
  if (groups) flow.groups = *groups;
  return flow;
}

common::Result<Plan> MakePlan(const Topology& topology, const PlanScope& scope) {
  Plan plan;
  std::optional<size_t> into;
  std::vector<size_t> pair;
  if (!scope.region.empty()) {
    into = topology.RegionIndex(scope.region);
    if (!into) {
      return common::Error{"topology.unknown_region",
                           fmt::format("unknown region '{}'", scope.region)};
    }
    plan.scope = "into " + scope.region;
  } else if (!scope.pair.empty()) {
    if (scope.pair.size() != 2 || scope.pair[0] == scope.pair[1]) {
      return common::Error{"topology.bad_scope", "a pair is two different regions, A:B"};
    }
    for (const auto& name : scope.pair) {
      auto i = topology.RegionIndex(name);
      if (!i) return common::Error{"topology.unknown_region", "unknown region '" + name + "'"};
      pair.push_back(*i);
    }
    plan.scope = fmt::format("pair {}:{}", scope.pair[0], scope.pair[1]);
  } else {
    plan.scope = "all";
  }

  const std::vector<size_t> ranked = ByRank(topology);
  for (size_t x = 0; x < topology.region_count(); ++x) {
    for (size_t y = 0; y < topology.region_count(); ++y) {
      if (x == y) continue;
      if (into && y != *into) continue;
      if (!pair.empty() && !((x == pair[0] && y == pair[1]) || (x == pair[1] && y == pair[0]))) {
        continue;
      }
      PlannedFlow f = MakeFlow(topology, x, y, ranked);
      if (!f.topics.empty()) plan.flows.push_back(std::move(f));
    }
  }
  std::sort(plan.flows.begin(), plan.flows.end(), [](const PlannedFlow& a, const PlannedFlow& b) {
    return std::tie(a.source_region, a.target_region) < std::tie(b.source_region, b.target_region);
  });
  for (size_t r : ranked) plan.residency.push_back(MakeRow(topology, r));
  return plan;
}

nlohmann::json ToJson(const Plan& plan) {
  nlohmann::json j;
  j["scope"] = plan.scope;
  j["flows"] = nlohmann::json::array();
  for (const auto& f : plan.flows) {
    nlohmann::json fj;
    fj["name"] = f.name();
    fj["source_region"] = f.source_region;
    fj["target_region"] = f.target_region;
    fj["source"] = f.source;
    fj["target"] = f.target;
    fj["topics"] = f.topics;
    fj["topics_exclude"] = f.topics_exclude;
    fj["groups"] = f.groups ? nlohmann::json(*f.groups) : nlohmann::json(nullptr);
    fj["rules"] = nlohmann::json::array();
    for (const auto& c : f.carried) {
      fj["rules"].push_back(
          {{"rule", c.description}, {"regex", c.regex}, {"remote_name", c.remote_name}});
    }
    j["flows"].push_back(std::move(fj));
  }
  j["residency"] = nlohmann::json::array();
  for (const auto& row : plan.residency) {
    nlohmann::json rj;
    rj["rule"] = row.description;
    rj["regions"] = nlohmann::json::object();
    for (const auto& c : row.cells) {
      rj["regions"][c.region] = {{"state", c.state}, {"because", c.because}};
    }
    j["residency"].push_back(std::move(rj));
  }
  return j;
}

std::string PlanText(const Plan& plan) {
  std::string out = fmt::format("plan ({}): {} flow{}\n", plan.scope, plan.flows.size(),
                                plan.flows.size() == 1 ? "" : "s");
  for (const auto& f : plan.flows) {
    out += fmt::format("\nflow {} ({} -> {})\n", f.name(), f.source_region, f.target_region);
    for (const auto& c : f.carried) {
      out += fmt::format("  {}\n    topics {}  ->  {}\n", c.description, c.regex, c.remote_name);
    }
    if (!f.topics_exclude.empty()) {
      out += fmt::format("  never copied: {} (and internal topics)\n",
                         fmt::join(f.topics_exclude, ", "));
    }
    if (!f.groups) {
      out += "  groups: all (the topology lists none)\n";
    } else if (f.groups->empty()) {
      out += "  groups: none (no group of the topology reads these topics in the target)\n";
    } else {
      out += fmt::format("  groups: {}\n", fmt::join(*f.groups, ", "));
    }
  }
  out +=
      "\nresidency (home: written there; copy: planned; allowed: may hold a copy; "
      "forbidden: never)\n";
  for (const auto& row : plan.residency) {
    out += fmt::format("  {}\n", row.description);
    for (const auto& c : row.cells) {
      out += fmt::format("    {:<16} {:<9} {}\n", c.region, c.state, c.because);
    }
  }
  return out;
}

}  // namespace rm::topology

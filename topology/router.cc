#include "topology/router.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <limits>
#include <tuple>

namespace rm::topology {

namespace {

// Sort key: healthy first; then local, copies, homes; then RTT (unknown last); then name.
struct Ranked {
  ReadCandidate c;
  int group = 0;  // 0 local, 1 other copy, 2 other home
  int64_t rtt = 0;
};

}  // namespace

common::Result<Route> Resolve(const Topology& topology, const ReadRequest& request,
                              const HealthSnapshot& health) {
  auto client = topology.RegionIndex(request.region);
  if (!client) {
    return common::Error{"topology.unknown_region",
                         fmt::format("unknown region '{}'", request.region)};
  }
  Route route;
  route.topic = request.topic;
  auto rule = topology.RuleForTopic(request.topic, &route.upstream);
  if (!rule) {
    return common::Error{"topology.no_rule",
                         fmt::format("no topic rule matches '{}'", request.topic)};
  }
  const TopicRule& r = topology.rules().rule(*rule);
  route.rule = *rule;
  route.rule_description = r.Describe();
  route.policy = r.read;
  const Topology::Placement& place = topology.placement(*rule);
  const int64_t max_lag = topology.config().health.max_lag_ms;

  std::vector<Ranked> ranked;
  for (size_t i = 0; i < topology.region_count(); ++i) {
    if (!place.Holds(i)) continue;
    const bool home = place.home[i];
    if (r.read == ReadPolicy::kHomeOnly && !home) continue;
    const ClusterSpec& cluster = topology.PrimaryCluster(i);
    Ranked k;
    ReadCandidate& c = k.c;
    c.region = topology.region(i).name;
    c.cluster_alias = cluster.alias;
    c.bootstrap_servers = cluster.bootstrap_servers;
    c.topics = topology.NamesIn(*rule, route.upstream, i);
    c.topic = c.topics.empty() ? route.upstream : c.topics.front();
    c.home = home;
    c.rtt_ms = topology.Rtt(*client, i);
    k.rtt = c.rtt_ms.value_or(std::numeric_limits<int64_t>::max());
    if (i == *client) {
      k.group = 0;
      c.why = home ? "local, home region" : "local copy";
    } else if (!home) {
      k.group = 1;
      c.why = c.rtt_ms ? fmt::format("copy, rtt {} ms", *c.rtt_ms) : "copy, rtt unknown";
    } else {
      k.group = 2;
      c.why =
          c.rtt_ms ? fmt::format("home region, rtt {} ms", *c.rtt_ms) : "home region, rtt unknown";
    }
    if (r.read == ReadPolicy::kHomeOnly) c.why += " (read: home_only)";
    // Health: the cluster, then (copies only: a home has no lag) the worst lag of its names.
    HealthSnapshot::ClusterState cs = health.Cluster(cluster.alias);
    if (!cs.up) {
      c.healthy = false;
      c.why += "; demoted: cluster " + cluster.alias + " " + cs.why;
    }
    if (!home || c.topics.size() > 1) {
      for (const auto& name : c.topics) {
        if (home && name == route.upstream) continue;  // written here, not copied
        if (auto lag = health.Copy(cluster.alias, name)) {
          c.lag_ms = std::max(c.lag_ms.value_or(0), lag->lag_ms);
          if (lag->too_far && c.healthy) {
            c.healthy = false;
            c.why += fmt::format("; demoted: lag {} ms > {} ms", lag->lag_ms, max_lag);
          }
        }
      }
    }
    if (!request.zone.empty() && std::find(cluster.racks.begin(), cluster.racks.end(),
                                           request.zone) != cluster.racks.end()) {
      c.client_rack = request.zone;
    }
    ranked.push_back(std::move(k));
  }
  std::sort(ranked.begin(), ranked.end(), [](const Ranked& a, const Ranked& b) {
    return std::make_tuple(!a.c.healthy, a.group, a.rtt, a.c.region) <
           std::make_tuple(!b.c.healthy, b.group, b.rtt, b.c.region);
  });
  for (auto& k : ranked) route.candidates.push_back(std::move(k.c));
  return route;
}

nlohmann::json ToJson(const Route& route) {
  nlohmann::json j;
  j["topic"] = route.topic;
  j["upstream"] = route.upstream;
  j["rule"] = route.rule_description;
  j["read"] = route.policy == ReadPolicy::kHomeOnly ? "home_only" : "local_first";
  j["candidates"] = nlohmann::json::array();
  for (const auto& c : route.candidates) {
    nlohmann::json cj;
    cj["region"] = c.region;
    cj["cluster"] = c.cluster_alias;
    cj["bootstrap_servers"] = c.bootstrap_servers;
    cj["topic"] = c.topic;
    cj["topics"] = c.topics;
    cj["why"] = c.why;
    cj["healthy"] = c.healthy;
    cj["home"] = c.home;
    cj["rtt_ms"] = c.rtt_ms ? nlohmann::json(*c.rtt_ms) : nlohmann::json(nullptr);
    cj["lag_ms"] = c.lag_ms ? nlohmann::json(*c.lag_ms) : nlohmann::json(nullptr);
    if (!c.client_rack.empty()) cj["client_rack"] = c.client_rack;
    j["candidates"].push_back(std::move(cj));
  }
  return j;
}

std::string RouteText(const Route& route) {
  std::string out = fmt::format("topic {} (rule {})\n", route.topic, route.rule_description);
  for (size_t i = 0; i < route.candidates.size(); ++i) {
    const auto& c = route.candidates[i];
    out += fmt::format("{}. {} cluster {} [{}] topic {}{}{} - {}\n", i + 1, c.region,
                       c.cluster_alias, c.bootstrap_servers, fmt::join(c.topics, ", "),
                       c.lag_ms ? fmt::format(" lag {} ms", *c.lag_ms) : "",
                       c.client_rack.empty() ? "" : " client.rack=" + c.client_rack, c.why);
  }
  return out;
}

}  // namespace rm::topology

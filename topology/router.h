// Read routing: where a client in a region reads a topic. One pure function of the topology,
// the request and a health snapshot (the shape of Envoy's computeClusterConfigForTopic), so it
// is cheap to call per request and deterministic to test.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "topology/health.h"
#include "topology/topology.h"

namespace rm::topology {

struct ReadRequest {
  // The topic as written in its home region (or a remote copy's name: its rule is the same).
  std::string topic;
  // The client's region.
  std::string region;
  // The client's availability zone, for the client.rack hint. Optional.
  std::string zone;
};

struct ReadCandidate {
  std::string region;
  std::string cluster_alias;
  std::string bootstrap_servers;
  // The name to read there; under active-active (several homes) `topics` lists every name
  // holding the topic's data there and `topic` is the first of them.
  std::string topic;
  std::vector<std::string> topics;
  // "local copy", "nearest healthy copy (rtt 80 ms)", "home region", with "; demoted: ..."
  // when it is not healthy.
  std::string why;
  bool healthy = true;
  bool home = false;
  std::optional<int64_t> rtt_ms;
  // Replication lag of this copy when the mirror reported one (0 is not assumed for copies).
  std::optional<int64_t> lag_ms;
  // Set client.rack to this (the client's zone, when this cluster has brokers there) so
  // librdkafka fetches from a same-zone follower. Empty: no hint.
  std::string client_rack;
};

struct Route {
  std::string topic;
  // The upstream name the rule was matched with.
  std::string upstream;
  size_t rule = 0;
  std::string rule_description;
  ReadPolicy policy = ReadPolicy::kLocalFirst;
  // Best first. Healthy candidates come before demoted ones; within each: the local copy, then
  // the other copies by RTT from the client (nearest first; unknown RTT last; ties by name),
  // then the home region(s) by RTT. Under home_only: the home region(s) only.
  std::vector<ReadCandidate> candidates;
};

// Errors: "topology.unknown_region", "topology.no_rule" (no topic rule matches the name).
common::Result<Route> Resolve(const Topology& topology, const ReadRequest& request,
                              const HealthSnapshot& health);

nlohmann::json ToJson(const Route& route);
// A table for people, one candidate a line.
std::string RouteText(const Route& route);

}  // namespace rm::topology
